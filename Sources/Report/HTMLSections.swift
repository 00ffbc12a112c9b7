import Foundation
import Pipeline

/// The figure sections of the HTML report: confusion matrices, Figure 1 (contact sheets),
/// Figure 2 (per-fold class distributions), per-layer KL/ED bars, Figure 3 (LIME), training
/// curves, and the missing tasks. Images are embedded from the run directory as PNG data URIs;
/// a file that cannot be embedded shows as a gap with the reason.
enum HTMLSections {
    static func perClassAndConfusion(_ a: Aggregate) -> String {
        var s = "<section id=\"classes\"><h2>Per-class metrics and confusion matrices</h2>\n"
        s += "<p class=\"note\">Confusion matrices: rows = true class, columns = predicted; summed over the folds present, per-fold matrices below each.</p>\n"
        for column in a.columns {
            s += "<h3>\(HTML.escape(column))</h3>\n"
            s += "<details><summary>Per-class precision, recall and F1</summary>" + HTML.table(TableGrids.perClass(a, column: column)) + "</details>\n"
            s += "<div class=\"figures\">"
            for e in a.confusions where e.column == column {
                let folds = e.folds.map { "\($0.fold + 1)" }.joined(separator: ", ")
                s += "<figure>" + confusionTable(e.classes, e.summed)
                s += "<figcaption>\(HTML.escape("\(e.model.rawValue) \(NumberFormat.headShort(e.head)), summed over folds \(folds)"))</figcaption>"
                s += "<details><summary>per fold</summary>"
                for f in e.folds {
                    s += "<p class=\"note\">fold \(f.fold + 1)</p>" + confusionTable(e.classes, f.matrix)
                }
                s += "</details></figure>"
            }
            s += "</div>\n"
        }
        return s + "</section>\n"
    }

    static func confusionTable(_ classes: [String], _ m: [[Int]]) -> String {
        var s = "<table class=\"confusion\"><thead><tr><th>true \\ pred</th>"
        s += classes.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (i, row) in m.enumerated() {
            s += "<tr><th>\(HTML.escape(i < classes.count ? classes[i] : "#\(i)"))</th>"
            s += row.enumerated().map { j, v in "<td\(i == j ? " class=\"diag\"" : "")>\(v)</td>" }.joined() + "</tr>"
        }
        return s + "</tbody></table>"
    }

    static func foldDistributions(_ r: RunResults) -> String {
        var s = "<section id=\"figure2\"><h2>Figure 2: class distribution of each fold's test set</h2>\n"
        if r.foldDistributions.isEmpty { s += "<p class=\"gap\">No fold distributions recorded.</p>" }
        for d in r.foldDistributions.sorted(by: { $0.dataset < $1.dataset }) { s += FigureFiles.foldDistribution(d).svg }
        return s + "</section>\n"
    }

    static func contactSheets(_ r: RunResults, runDirectory: URL?) -> String {
        var s = "<section id=\"figure1\"><h2>Figure 1: example images per class</h2>\n<div class=\"figures\">"
        if r.contactSheets.isEmpty { s += "<p class=\"gap\">No contact sheets recorded.</p>" }
        for key in r.contactSheets.keys.sorted() {
            s += figure(path: r.contactSheets[key] ?? "", caption: "\(key): example images per class", runDirectory: runDirectory)
        }
        return s + "</div></section>\n"
    }

    static func divergenceCharts(_ a: Aggregate) -> String {
        var s = "<section id=\"divergence\"><h2>Weight change per layer (Table 3)</h2>\n"
        s += "<p class=\"note\">Bars: mean over folds; whiskers: ± std (ddof=\(a.ddof)); a dashed outline marks a column without a value.</p>\n"
        for fig in FigureFiles.divergence(a) { s += fig.svg }
        return s + "</section>\n"
    }

    static func lime(_ r: RunResults, aggregate a: Aggregate, runDirectory: URL?) -> String {
        var s = "<section id=\"lime\"><h2>Figure 3: LIME explanations</h2>\n"
        if !a.lime.isEmpty { s += HTML.table(TableGrids.lime(a)) }

        let settings = LimeCaption.settings(r)
        if !r.explanations.isEmpty || !r.figures.isEmpty { s += LimeCaption.legendHTML(topK: settings?.topK ?? LimeConfig().topK) }
        s += "<div class=\"figures\">"
        var shown = Set<String>()
        let images = r.explanations.sorted { ($0.shard, $0.imageIndex) < ($1.shard, $1.imageIndex) }
        for e in images {
            let caption = LimeCaption.text(e, classes: LimeCaption.classNames(r, dataset: e.shard.dataset), lime: settings)
            guard let name = e.figure else {
                s += "<figure><p class=\"gap\">No figure for this image.</p><figcaption>\(HTML.escape(caption))</figcaption></figure>"
                continue
            }
            shown.insert(name)
            guard let path = r.figures[name] else {
                s += "<figure><p class=\"gap\">Figure \(HTML.escape(name)) is not among the run's figures.</p><figcaption>\(HTML.escape(caption))</figcaption></figure>"
                continue
            }
            s += figure(path: path, caption: caption, runDirectory: runDirectory)
        }
        for name in r.figures.keys.sorted() where !shown.contains(name) {
            s += figure(path: r.figures[name] ?? "", caption: name, runDirectory: runDirectory)
        }
        if r.explanations.isEmpty && r.figures.isEmpty { s += "<p class=\"gap\">No explanations recorded.</p>" }
        return s + "</div></section>\n"
    }

    static func curves(_ r: RunResults, columns: [String]) -> String {
        var s = "<section id=\"curves\"><h2>Training curves</h2>\n"
        if r.curves.isEmpty { s += "<p class=\"gap\">No training curves recorded.</p>" }
        for column in columns {
            let figs = FigureFiles.curves(r, column: column)
            guard !figs.isEmpty else { continue }
            s += "<h3>\(HTML.escape(column))</h3>\n" + figs.map(\.svg).joined() + "\n"
        }
        return s + "</section>\n"
    }

    static func missing(_ r: RunResults) -> String {
        var s = "<section id=\"missing\"><h2>Missing tasks</h2>\n"
        guard !r.missing.isEmpty else { return s + "<p>None: every task has a result.</p></section>\n" }
        s += "<p class=\"note\">Tasks that failed or have not run yet; their cells are gaps, never zeros.</p>"
        s += "<table><thead><tr><th>Task</th><th>Shard</th><th>Detail</th><th>Reason</th></tr></thead><tbody>"
        for m in MarkdownTables.sortedMissing(r.missing) {
            s += "<tr><th>\(HTML.escape(m.taskKind))</th><td>\(HTML.escape(m.shard?.description ?? "(run)"))</td>"
            s += "<td>\(HTML.escape(m.detail))</td><td class=\"gap\">\(HTML.escape(m.reason))</td></tr>"
        }
        return s + "</tbody></table></section>\n"
    }

    /// A PNG file as an embedded <figure>, or a gap saying why it could not be embedded.
    static func figure(path: String, caption: String, runDirectory: URL?) -> String {
        switch PNGEmbed.dataURI(path: path, runDirectory: runDirectory) {
        case .success(let uri):
            return "<figure><img src=\"\(uri)\" alt=\"\(HTML.escape(caption))\"><figcaption>\(HTML.escape(caption))</figcaption></figure>"
        case .failure(let reason):
            return "<figure><p class=\"gap\">Missing figure \(HTML.escape(path)): \(HTML.escape(reason.message))</p><figcaption>\(HTML.escape(caption))</figcaption></figure>"
        }
    }
}

/// Reads a PNG relative to the run directory and returns a `data:image/png;base64,` URI.
enum PNGEmbed {
    struct Failure: Error { var message: String }
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func dataURI(path: String, runDirectory: URL?) -> Result<String, Failure> {
        data(path: path, runDirectory: runDirectory).map { "data:image/png;base64," + $0.base64EncodedString() }
    }

    /// The PNG file's bytes.
    static func data(path: String, runDirectory: URL?) -> Result<Data, Failure> {
        guard !path.isEmpty else { return .failure(Failure(message: "no path given")) }
        let url: URL
        if path.hasPrefix("/") { url = URL(fileURLWithPath: path) }
        else if let runDirectory { url = runDirectory.appendingPathComponent(path) }
        else { return .failure(Failure(message: "no run directory to resolve the relative path against")) }
        guard FileManager.default.fileExists(atPath: url.path) else {
            return .failure(Failure(message: "file not found (looked in the run directory)"))
        }
        guard let data = try? Data(contentsOf: url) else { return .failure(Failure(message: "could not read the file")) }
        guard data.count >= 8, Array(data.prefix(8)) == signature else {
            return .failure(Failure(message: "not a PNG file (bad signature)"))
        }
        return .success(data)
    }
}
