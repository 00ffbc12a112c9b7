import ArgumentParser
import Datasets
import Foundation
import SeafoldCore

/// `seafold data …`: synthetic SAS datasets and checks of image folders.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Generate synthetic SAS data or inspect an image folder.",
        subcommands: [DataSynthCommand.self, DataInspectCommand.self, DataFoldsCommand.self]
    )
}

private func isTTY() -> Bool { isatty(STDERR_FILENO) != 0 }

/// `seafold data synth`: writes images/, masks/, manifest.json and contact_sheet.png.
struct DataSynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Generate a synthetic SAS dataset (ImageFolder of 16-bit PNGs, evidence masks, manifest, contact sheet)."
    )

    @Option(help: "multi-site (118 × 256 px, 4 sites, balanced) or single-site (2,962 × 80 px, imbalanced).")
    var preset: String = "multi-site"
    @Option(help: "Output folder (created).")
    var out: String
    @Option(help: "Number of images (default: the preset's).")
    var count: Int?
    @Option(help: "Image side in pixels (default: the preset's).")
    var size: Int?
    @Option(help: "Random seed.")
    var seed: UInt64 = 0
    @Option(help: "Class overlap in [0, 1].")
    var difficulty: Double = 0.5
    @Flag(help: "Print the summary as JSON.")
    var json = false

    func run() throws {
        guard let p = SyntheticSAS.Preset(rawValue: preset) else {
            throw ValidationError("--preset '\(preset)' is unknown; use multi-site or single-site")
        }
        let options = SyntheticSAS.Options(preset: p, count: count, size: size, seed: seed, difficulty: difficulty)
        let dir = URL(fileURLWithPath: out)
        let start = Date()
        let tty = isTTY() && !json
        let report: @Sendable (Int, Int) -> Void = { done, total in
            if done % 50 == 0 || done == total {
                FileHandle.standardError.write(Data("\rgenerating \(done)/\(total)".utf8))
            }
        }
        let samples: [SyntheticSample]
        do { samples = try SyntheticSAS.generate(options, progress: tty ? report : nil) } catch let SeafoldError.config(key, reason) where ["count", "size", "difficulty"].contains(key) {
            // These came from this command's flags, not from a config file.
            throw ValidationError("--\(key): \(reason)")
        }
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        let genSeconds = Date().timeIntervalSince(start)
        let root = try SyntheticSAS.write(samples, options: options, to: dir)
        let sheet = dir.appendingPathComponent("contact_sheet.png")
        try ContactSheet.write(samples: samples, classes: SyntheticSAS.classes, to: sheet)
        let counts = SyntheticSAS.classCounts(preset: p, total: options.count)
        if json {
            let obj: [String: Any] = ["root": root.path, "manifest": dir.appendingPathComponent("manifest.json").path,
                                      "contactSheet": sheet.path, "classes": SyntheticSAS.classes, "counts": counts,
                                      "size": options.size, "seed": options.seed, "generateSeconds": genSeconds]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print("wrote \(samples.count) images (\(options.size)×\(options.size), 16-bit) to \(root.path)")
            for (c, n) in zip(SyntheticSAS.classes, counts) { print("  \(c.padding(toLength: 12, withPad: " ", startingAt: 0)) \(n)") }
            print("masks: \(dir.appendingPathComponent("masks").path)")
            print("manifest: \(dir.appendingPathComponent("manifest.json").path)")
            print("contact sheet: \(sheet.path)")
            print(String(format: "generated in %.1f s", genSeconds))
        }
    }
}

/// `seafold data inspect ROOT`: counts, sizes, bit depths, skipped/duplicate files, and the
/// per-fold test class distribution (the paper's Figure 2).
struct DataInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Summarise an image folder (ROOT/<class>/<file>) and its stratified folds."
    )

    @Argument(help: "ImageFolder root (ROOT/<class>/<image>); a `seafold data synth` output folder also works.")
    var root: String
    @Option(help: "Number of stratified folds.")
    var folds: Int = 3
    @Option(help: "Fold shuffle seed: scikit-learn's random_state (0 ... 4294967295).")
    var seed: UInt64 = 0
    @Flag(help: "Assign folds in data order without shuffling (scikit-learn shuffle=False).")
    var noShuffle = false
    @Option(name: .customLong("folds-file"), help: "Check and show a folds file (CSV path,fold) instead of a seeded split.")
    var foldsFile: String?
    @Flag(help: "Fail on files that are not images instead of skipping them.")
    var strict = false
    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        var url = URL(fileURLWithPath: root)
        // Accept the synth output folder itself.
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("manifest.json").path),
           FileManager.default.fileExists(atPath: url.appendingPathComponent("images").path) {
            url = url.appendingPathComponent("images")
        }
        let folder = try ImageFolder(root: url, strict: strict)
        var sizes: [String: Int] = [:], depths: [String: Int] = [:], unreadable: [String] = []
        for s in folder.samples {
            do {
                let info = try ImageLoader.probe(s.url)
                sizes["\(info.width)x\(info.height)x\(info.channels)", default: 0] += 1
                depths["\(info.format) \(info.bitDepth)-bit", default: 0] += 1
            } catch { unreadable.append("\(error)") }
        }
        let result: (folds: [Int], warnings: [String])
        if let f = foldsFile {
            result = try FoldsFile.read(URL(fileURLWithPath: f), paths: folder.samples.map(\.relativePath), labels: folder.labels,
                                        classes: folder.classes, folds: folds)
        } else {
            result = try StratifiedKFold(nSplits: folds, shuffle: !noShuffle, seed: seed).testFolds(labels: folder.labels)
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: folder.classes.count), count: folds)
        for (i, f) in result.folds.enumerated() { table[f][folder.labels[i]] += 1 }
        let warnings = folder.warnings + result.warnings
        if json {
            let obj: [String: Any] = [
                "root": url.path, "classes": folder.classes, "counts": folder.classCounts, "images": folder.count,
                "sizes": sizes, "bitDepths": depths, "skipped": folder.skipped, "duplicates": folder.duplicates,
                "unreadable": unreadable, "folds": folds, "seed": seed, "foldTestCounts": table, "warnings": warnings,
                "shuffle": !noShuffle, "foldsFile": foldsFile.map { $0 as Any } ?? NSNull(),
                // Membership in ImageFolder order (sorted paths): the test fold of every image.
                "membership": zip(folder.samples, result.folds).map { s, f in ["path": s.relativePath, "label": s.label, "fold": f] as [String: Any] },
            ]
            let data = try JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(url.path): \(folder.count) images in \(folder.classes.count) classes")
        let w = max(12, (folder.classes.map(\.count).max() ?? 0) + 2)
        func pad(_ s: String) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
        for (c, n) in zip(folder.classes, folder.classCounts) {
            print("  \(pad(c)) \(String(format: "%6d  %5.1f %%", n, 100 * Double(n) / Double(max(folder.count, 1))))")
        }
        print("sizes: " + sizes.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        print("formats: " + depths.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", "))
        print("skipped (not images): \(folder.skipped.count); duplicate groups: \(folder.duplicates.count); unreadable: \(unreadable.count)")
        for u in unreadable.prefix(10) { print("  unreadable: \(u)") }
        for g in folder.duplicates.prefix(10) { print("  duplicates: \(g.joined(separator: " = "))") }
        print("\ntest-fold class distribution (stratified \(folds)-fold, " + (foldsFile.map { "folds file \($0)" } ?? (noShuffle ? "no shuffle" : "shuffle seed \(seed)")) + "):")
        print(pad("fold") + folder.classes.map { $0.padding(toLength: max($0.count, 6) + 2, withPad: " ", startingAt: 0) }.joined() + "total")
        for f in 0..<folds {
            let cells = zip(folder.classes, table[f]).map { c, n in String(n).padding(toLength: max(c.count, 6) + 2, withPad: " ", startingAt: 0) }
            print(pad("\(f + 1)") + cells.joined() + String(table[f].reduce(0, +)))
        }
        for wmsg in warnings { print("warning: \(wmsg)") }
    }
}
