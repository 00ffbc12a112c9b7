import XCTest
import Pipeline
@testable import Report

/// Renders the fixture's report in headless Chromium (Debian's `chromium`) and checks that a
/// screenshot is produced and the DOM has the tables and charts. Skipped, with a visible
/// message, where no browser is installed (CI does not install one).
final class ChromiumTests: XCTestCase {
    func chromiumPath() -> String? {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    func launch(_ exe: String, _ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testRendersInHeadlessChromium() throws {
        guard let chromium = chromiumPath() else {
            throw XCTSkip("chromium is not installed (apt-get install chromium); the HTML report was not rendered in a browser")
        }
        let run = try Fixture.makeRunDirectory()
        defer { if ProcessInfo.processInfo.environment["SEAFOLD_KEEP_SCREENSHOT"] == nil { try? FileManager.default.removeItem(at: run) } }
        let files = try ReportWriter.write(Fixture.results(), to: run.appendingPathComponent("report"), generatedAt: "test")
        let shot = run.appendingPathComponent("screenshot.png")
        let common = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                      "--user-data-dir=\(run.appendingPathComponent("profile").path)"]
        let s = try launch(chromium, common + ["--window-size=1280,2400", "--screenshot=\(shot.path)", files.index.absoluteString])
        XCTAssertEqual(s.status, 0)
        let png = try Data(contentsOf: shot)
        XCTAssertGreaterThan(png.count, 10_000, "a blank page compresses to almost nothing")
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        // The DOM after parsing: the browser saw the tables and the SVG charts.
        let dom = try launch(chromium, common + ["--dump-dom", files.index.absoluteString])
        XCTAssertTrue(dom.out.contains("id=\"table1\"") && dom.out.contains("id=\"table2\"") && dom.out.contains("id=\"table3\""))
        XCTAssertGreaterThanOrEqual(dom.out.components(separatedBy: "<svg").count - 1, 5)
        if ProcessInfo.processInfo.environment["SEAFOLD_KEEP_SCREENSHOT"] != nil { print("screenshot: \(shot.path)") }
    }
}
