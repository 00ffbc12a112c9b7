import Foundation
import Pipeline
import SeafoldCore

/// The files one report consists of (all inside the report directory).
public struct ReportFiles: Equatable, Sendable {
    public var directory: URL
    public var index: URL
    public var summary: URL
    public var json: URL
    /// tables/table1.md … table3.tex, plus tables/perclass.csv, tables/paired.md and the
    /// weight-significance tables (weightsig.{md,csv,tex}, conv1.md).
    public var tables: [URL]
    /// figures/NAME.svg and NAME.png of every chart and image figure.
    public var figures: [URL] = []
    /// Image figures whose PNG could not be read, with the reason (the HTML shows them as gaps).
    public var skippedFigures: [String] = []
    /// All files written, in a fixed order.
    public var all: [URL] { [index, summary, json] + tables + figures }
}

/// Writes a whole report from a `RunResults`: `index.html`, `summary.md`, `results.json` and
/// `tables/table{1,2,3}.{md,csv,tex}` (+ `tables/perclass.csv`, `tables/paired.{md,csv}`,
/// `tables/weightsig.{md,csv,tex}`, `tables/conv1.md`) and `figures/` (every figure as SVG and
/// PNG, see `FigureFiles`).
/// Deterministic: the same RunResults (and the same PNG files) give byte-identical files; only
/// the HTML header carries `generatedAt`, and only when given.
public enum ReportWriter {
    /// - Parameters:
    ///   - directory: the report directory (normally `<run>/report`); created if needed.
    ///   - generatedAt: text for the HTML header (e.g. an ISO-8601 time), or nil for none.
    ///   - runDirectory: where the relative PNG paths in `contactSheets`/`figures` are resolved;
    ///     default: the parent of `directory` (the run directory).
    @discardableResult
    public static func write(_ results: RunResults, to directory: URL, generatedAt: String?,
                             runDirectory: URL? = nil) throws -> ReportFiles {
        guard results.ddof >= 0 else {
            throw SeafoldError.config(key: "report.ddof", reason: "must be 0 or more (numpy ddof), got \(results.ddof)")
        }
        let a = Aggregate(results)
        let tablesDir = directory.appendingPathComponent("tables", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: tablesDir, withIntermediateDirectories: true)
        } catch {
            throw SeafoldError.io(path: tablesDir.path, reason: "cannot create the report directory: \(error.localizedDescription)")
        }
        func put(_ text: String, _ url: URL) throws { try put(Data(text.utf8), url) }
        func put(_ data: Data, _ url: URL) throws {
            do { try data.write(to: url, options: .atomic) } catch {
                throw SeafoldError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
            }
        }
        var tables: [URL] = []
        let grids = [TableGrids.table1(a), TableGrids.table2(a), TableGrids.table3(a)]
        let csvs = [CSVTables.table1(a), CSVTables.table2(a), CSVTables.table3(a)]
        for (g, csv) in zip(grids, csvs) {
            let md = tablesDir.appendingPathComponent("\(g.id).md")
            let csvURL = tablesDir.appendingPathComponent("\(g.id).csv")
            let tex = tablesDir.appendingPathComponent("\(g.id).tex")
            try put(MarkdownTables.grid(g), md)
            try put(csv, csvURL)
            try put(LaTeXTables.grid(g), tex)
            tables += [md, csvURL, tex]
        }
        let perClass = tablesDir.appendingPathComponent("perclass.csv")
        try put(CSVTables.perClass(a), perClass)
        let pairedMD = tablesDir.appendingPathComponent("paired.md")
        try put(MarkdownTables.grid(TableGrids.paired(a)), pairedMD)
        let pairedCSV = tablesDir.appendingPathComponent("paired.csv")
        try put(CSVTables.paired(a), pairedCSV)
        tables += [perClass, pairedMD, pairedCSV]
        tables += try WeightSignificanceFiles.write(a, to: tablesDir)
        let repeated = RepeatedCV.entries(results)
        var repeatedMarkdown = ""
        if !repeated.isEmpty {
            let g = RepeatedCV.grid(repeated, ddof: results.ddof, minorityClass: results.minorityClass)
            repeatedMarkdown = MarkdownTables.grid(g)
            let files = [("repeated_cv.md", repeatedMarkdown), ("repeated_cv.csv", RepeatedCV.csv(repeated, minorityClass: results.minorityClass)),
                         ("repeated_cv_tests.csv", RepeatedCV.testsCSV(repeated))]
            for (name, text) in files {
                let url = tablesDir.appendingPathComponent(name)
                try put(text, url)
                tables.append(url)
            }
        }

        let summary = directory.appendingPathComponent("summary.md")
        try put(MarkdownTables.render(results, aggregate: a) + (repeatedMarkdown.isEmpty ? "" : "\n" + repeatedMarkdown), summary)
        let json = directory.appendingPathComponent("results.json")
        do { try put(try JSONReport(results, aggregate: a).encoded(), json) } catch let e as SeafoldError { throw e } catch {
            throw SeafoldError.message("cannot encode results.json: \(error)")
        }
        let index = directory.appendingPathComponent("index.html")
        try put(HTMLReport.render(results, aggregate: a, runDirectory: runDirectory ?? directory.deletingLastPathComponent(),
                                  generatedAt: generatedAt), index)
        let figures = try FigureFiles.write(results, aggregate: a, to: directory.appendingPathComponent("figures", isDirectory: true),
                                            runDirectory: runDirectory ?? directory.deletingLastPathComponent())
        return ReportFiles(directory: directory, index: index, summary: summary, json: json, tables: tables,
                           figures: figures.files, skippedFigures: figures.skipped)
    }
}
