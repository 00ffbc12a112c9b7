import TestSupport
import XCTest
import Pipeline
@testable import Report

/// Renders the report in headless Chromium (Debian's `chromium`, installed by scripts/test.sh)
/// and measures the laid-out page: at 1024 px wide nothing overflows (the page, every table),
/// every text of every chart (legends, labels) lies inside its SVG, every LIME caption names
/// the classes, and no script error occurs. A measuring script appended to the page writes its
/// findings into the DOM, which `--dump-dom` returns. Skipped, with a visible message, where no
/// browser is installed.
final class ChromiumTests: XCTestCase {
    func chromiumPath() -> String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    func launch(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String) {
        let r = try ChildProcess.run(URL(fileURLWithPath: exe), args)
        return (r.status, r.stdout)
    }

    func common(_ run: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
         "--user-data-dir=\(run.appendingPathComponent("profile").path)"]
    }

    /// Records script errors from the start of the page.
    static let errorHook = "<script>window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message))});</script>"

    /// Measures the laid-out page and appends its findings as <pre id="seafold-check">.
    static let measure = """
    <script>
    (function () {
      var out = [];
      function r(v) { return Math.round(v); }
      var de = document.documentElement;
      if (de.scrollWidth > de.clientWidth + 1) out.push('OVERFLOW page: scrollWidth ' + de.scrollWidth + ' > ' + de.clientWidth);
      document.querySelectorAll('.tablewrap').forEach(function (w) {
        if (w.scrollWidth > w.clientWidth + 1) {
          var s = w.closest('section');
          out.push('OVERFLOW table ' + (s ? s.id : '?') + ': ' + w.scrollWidth + ' > ' + w.clientWidth);
        }
      });
      document.querySelectorAll('svg').forEach(function (svg) {
        var box = svg.getBoundingClientRect();
        var name = svg.getAttribute('aria-label') || '(unnamed svg)';
        svg.querySelectorAll('text').forEach(function (t) {
          var b = t.getBoundingClientRect();
          if (b.width === 0 && b.height === 0) return;
          if (b.left < box.left - 0.5 || b.right > box.right + 0.5 || b.top < box.top - 0.5 || b.bottom > box.bottom + 0.5)
            out.push('CLIPPED "' + name + '": "' + t.textContent + '" at ' + [r(b.left - box.left), r(b.right - box.left), r(b.top - box.top), r(b.bottom - box.top)].join(',') + ' in ' + r(box.width) + 'x' + r(box.height));
        });
      });
      document.querySelectorAll('#lime figcaption').forEach(function (c) { out.push('CAPTION ' + c.textContent.replace(/\\s+/g, ' ')); });
      (window.__errors || []).forEach(function (e) { out.push('ERROR ' + e); });
      out.push('CHARTS ' + document.querySelectorAll('svg.chart').length);
      var pre = document.createElement('pre');
      pre.id = 'seafold-check';
      pre.textContent = 'CHECK-BEGIN\\n' + out.join('\\n') + '\\nCHECK-END';
      document.body.appendChild(pre);
    })();
    </script>
    """

    /// The page's findings, one per line, after Chromium laid it out 1024 px wide.
    func findings(_ html: String, chromium: String, run: URL) throws -> [String] {
        var page = html.replacingOccurrences(of: "</head>", with: Self.errorHook + "</head>")
        page = page.replacingOccurrences(of: "</body>", with: Self.measure + "</body>")
        let url = run.appendingPathComponent("measured-\(UUID().uuidString).html")
        try page.write(to: url, atomically: true, encoding: .utf8)
        let dom = try launch(chromium, common(run) + ["--window-size=1024,800", "--virtual-time-budget=2000", "--dump-dom", url.absoluteString])
        XCTAssertEqual(dom.status, 0)
        guard let a = dom.out.range(of: "CHECK-BEGIN\n"), let b = dom.out.range(of: "\nCHECK-END", range: a.upperBound..<dom.out.endIndex) else {
            XCTFail("the measuring script left no findings in the DOM")
            return []
        }
        return dom.out[a.upperBound..<b.lowerBound].split(separator: "\n").map {
            String($0).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        }
    }

    /// The fixture made crowded: 12 training curves in one chart, 7 classes with long names in
    /// Figure 2, and a wide table, so legends must wrap and tables must fit.
    static func crowded() -> RunResults {
        var r = Fixture.results()
        let col = Fixture.colA
        for fold in 0..<3 {
            for model in [ModelKind.ft, .base] {
                for head in [HeadKind?.none, .fc] {
                    r.curves.append(TrainingCurve(shard: Fixture.key(col, fold), model: model, head: head, epochs: (1...5).map {
                        EpochStats(epoch: $0, loss: 1.0 / Double($0 + fold), accuracy: 0.5 + 0.08 * Double($0) - 0.01 * Double(fold))
                    }))
                }
            }
        }
        // Four columns, the paper's layout; the two new ones only have tiny divergences
        // (scientific notation) with a fold missing, the widest cells Table 3 can have.
        for (n, col) in ["multi-site/balanced", "single-site/imbalanced"].enumerated() {
            r.columns.append(col)
            for fold in 0..<2 {
                let layers = r.divergences[0].layers.map { l -> LayerDivergenceRow in
                    var l = l
                    l.kl *= 1e-4 * Double(fold + n + 1)
                    l.euclidean *= 1e-5 * Double(fold + 2)
                    return l
                }
                r.divergences.append(DivergenceResult(shard: Fixture.key(col, fold), layers: layers, bins: 100, epsilon: 1e-10, includeBiases: true))
            }
            r.missing.append(MissingResult(taskKind: "divergence", shard: Fixture.key(col, 2), detail: "", reason: "not run yet"))
        }
        let classes = ["crater field", "rock outcrop", "sand ripples", "seagrass meadow", "shipwreck debris", "mud flat", "boulder cluster"]
        r.foldDistributions.append(FoldDistribution(dataset: "zz-seven-class-survey", classes: classes,
                                                    counts: (0..<5).map { f in classes.indices.map { 3 + $0 * 2 + f } }))
        return r
    }

    func testLaidOutAt1024PxNothingOverflowsOrIsClippedAndCaptionsNameClasses() throws {
        guard let chromium = chromiumPath() else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the HTML report was not measured in a browser")
        }
        let run = try Fixture.makeRunDirectory(removedAfter: self)
        let r = Self.crowded()
        XCTAssertEqual(r.curves.filter { $0.shard.column == Fixture.colA }.count, 13)
        let html = HTMLReport.render(r, aggregate: Aggregate(r), runDirectory: run, generatedAt: "test")
        let found = try findings(html, chromium: chromium, run: run)
        let problems = found.filter { $0.hasPrefix("OVERFLOW") || $0.hasPrefix("CLIPPED") || $0.hasPrefix("ERROR") }
        XCTAssertEqual(problems, [], problems.joined(separator: "\n"))
        XCTAssertTrue(found.contains { $0.hasPrefix("CHARTS ") && (Int($0.dropFirst(7)) ?? 0) >= 8 }, "\(found)")
        let captions = found.filter { $0.hasPrefix("CAPTION ") }
        let withImage = captions.filter { $0.contains("image 7") }
        XCTAssertEqual(withImage.count, 1, "\(captions)")
        for c in withImage {
            XCTAssertTrue(c.contains("true class crater"), c)
            XCTAssertTrue(c.contains("Explained class: crater"), c)
            XCTAssertFalse(c.contains("true class 0"), c)
        }
    }

    /// The measurement can fail: a page wider than the window and a legend outside its chart
    /// are both reported.
    func testTheMeasurementSeesOverflowAndClipping() throws {
        guard let chromium = chromiumPath() else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the HTML report was not measured in a browser")
        }
        let run = try Fixture.makeRunDirectory(removedAfter: self)
        let broken = "<!DOCTYPE html><html><head><title>x</title></head><body><div style=\"width:1500px\">wide</div>"
            + "<div class=\"tablewrap\" style=\"width:300px;overflow-x:auto\"><table><tr><td style=\"white-space:nowrap\">\(String(repeating: "0.148±0.030 ", count: 20))</td></tr></table></div>"
            + "<svg class=\"chart\" width=\"200\" height=\"100\" viewBox=\"0 0 200 100\" aria-label=\"demo\"><text x=\"150\" y=\"95\">a legend that runs off</text></svg>"
            + "<script>undefinedFunction();</script></body></html>"
        let found = try findings(broken, chromium: chromium, run: run)
        XCTAssertTrue(found.contains { $0.hasPrefix("OVERFLOW page") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("OVERFLOW table") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("CLIPPED \"demo\": \"a legend that runs off\"") }, "\(found)")
        XCTAssertTrue(found.contains { $0.hasPrefix("ERROR") && $0.contains("undefinedFunction") }, "\(found)")
    }

    func testRendersInHeadlessChromium() throws {
        guard let chromium = chromiumPath() else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the HTML report was not rendered in a browser")
        }
        let keep = ProcessInfo.processInfo.environment["SEAFOLD_KEEP_SCREENSHOT"] != nil
        let run = try Fixture.makeRunDirectory(removedAfter: keep ? nil : self)
        let files = try ReportWriter.write(Fixture.results(), to: run.appendingPathComponent("report"), generatedAt: "test")
        let shot = run.appendingPathComponent("screenshot.png")
        let s = try launch(chromium, common(run) + ["--window-size=1280,2400", "--screenshot=\(shot.path)", files.index.absoluteString])
        XCTAssertEqual(s.status, 0)
        let png = try Data(contentsOf: shot)
        XCTAssertGreaterThan(png.count, 10_000, "a blank page compresses to almost nothing")
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // The DOM after parsing: the browser saw the tables and the SVG charts.
        let dom = try launch(chromium, common(run) + ["--dump-dom", files.index.absoluteString])
        XCTAssertTrue(dom.out.contains("id=\"table1\"") && dom.out.contains("id=\"table2\"") && dom.out.contains("id=\"table3\""))
        XCTAssertGreaterThanOrEqual(dom.out.components(separatedBy: "<svg").count - 1, 5)
        if ProcessInfo.processInfo.environment["SEAFOLD_KEEP_SCREENSHOT"] != nil { print("screenshot: \(shot.path)") }
    }
}
