import Hashing
import Datasets
import Foundation
import SeafoldCore

/// Prepares a dataset once, on the coordinator, as a *pack* that workers fetch by hash (no shared
/// file system needed): `images.npy` (uint16 [N, C, S, S], the images resized to the model input
/// with antialiased bilinear resampling, values x·65535 of [0, 1]), `meta.json` (classes,
/// labels, source files), `masks.npy` (uint8 [N, S, S] ground-truth evidence for synthetic
/// data, [0] otherwise) and a contact sheet PNG (paper Figure 1).
public enum DatasetPack {
    public struct Prepared {
        public var summary: DatasetSummary
        public var directory: URL
        public var files: [String: URL]
        /// sha256 of each file in `files`, by name.
        public var fileHashes: [String: String]
        public var contactSheet: URL?
        public var warnings: [String]
    }

    /// Builds (or reuses, when already built with the same settings) the pack of `config` in
    /// `directory`.
    public static func prepare(_ config: DatasetConfig, inputSize: Int, seed: UInt64, folds: Int, into directory: URL,
                               progress: ((String) -> Void)? = nil) throws -> Prepared {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let stamp = directory.appendingPathComponent("pack.json")
        let key = try TaskRunner.encode(PackKey(config: config, inputSize: inputSize, seed: seed, version: 1))
        let files = ["images.npy", "meta.json", "masks.npy"].reduce(into: [String: URL]()) { $0[$1] = directory.appendingPathComponent($1) }
        let sheet = directory.appendingPathComponent("contact_sheet.png")
        if let old = try? Data(contentsOf: stamp), old == key, files.values.allSatisfy({ fm.fileExists(atPath: $0.path) }) {
            let meta = try JSONDecoder().decode(PackMeta.self, from: Data(contentsOf: files["meta.json"]!))
            return try finish(meta: meta, directory: directory, files: files, sheet: sheet, warnings: meta.warnings, folds: folds)
        }

        var images: [Image] = [], labels: [Int] = [], names: [String] = [], masks: [[UInt8]]? = nil
        var classes: [String] = []
        var warnings: [String] = []
        if let path = config.path {
            progress?("reading \(path)")
            let folder = try ImageFolder(root: URL(fileURLWithPath: path))
            classes = folder.classes
            warnings = folder.warnings
            if !folder.skipped.isEmpty { warnings.append("\(folder.skipped.count) files that are not images were skipped") }
            for d in folder.duplicates { warnings.append("duplicate files: \(d.joined(separator: ", "))") }
            let scaling = try FloatScaling(parsing: config.scaling)
            for s in folder.samples {
                images.append(try ImageLoader.load(s.url, floatScaling: scaling))
                labels.append(s.label)
                names.append(s.relativePath)
            }
        } else {
            progress?("generating synthetic \(config.synthetic ?? "?") data")
            let gen = try SyntheticPack.generate(config, seed: seed)
            classes = gen.classes; images = gen.images; labels = gen.labels; names = gen.names; masks = gen.masks
        }
        guard Set(labels).count >= 2 else {
            throw SeafoldError.badInput(path: config.path ?? config.name, reason: "a dataset needs at least two classes with images")
        }

        // Resize to the model input once; tasks only normalise.
        let pre = Preprocessor(inputSize: inputSize)
        let channels = images.contains { $0.channels == 3 } ? 3 : 1
        let plane = inputSize * inputSize
        var px = [UInt16](repeating: 0, count: images.count * channels * plane)
        var maskOut = [UInt8](repeating: 0, count: masks == nil ? 0 : images.count * plane)
        for (i, img) in images.enumerated() {
            let src = channels == 3 ? img.rgb() : img
            let r = pre.resized(src)
            PackPixels.quantise(r, index: i, channels: channels, into: &px)
            if let m = masks?[i] {
                PackPixels.resizeMask(m, width: img.width, height: img.height, size: inputSize, index: i, into: &maskOut)
            }
        }
        let imgArr = NpyArray(shape: [images.count, channels, inputSize, inputSize], dtype: .uint16,
                              bytes: px.withUnsafeBytes { Array($0) })
        try imgArr.write(to: files["images.npy"]!)
        let maskArr = masks == nil ? NpyArray(shape: [0], uint8: []) : NpyArray(shape: [images.count, inputSize, inputSize], uint8: maskOut)
        try maskArr.write(to: files["masks.npy"]!)
        let meta = PackMeta(name: config.name, classes: classes, labels: labels, files: names, inputSize: inputSize, channels: channels,
                            scaling: config.scaling, warnings: warnings, hasMasks: masks != nil)
        try TaskRunner.encode(meta).write(to: files["meta.json"]!, options: .atomic)
        let sheetSamples = images.indices.map { i in
            SyntheticSample(image: images[i], label: labels[i], className: classes[labels[i]], mask: masks?[i] ?? [], site: 0, parameters: [:])
        }
        let sheetImage = ContactSheet.render(samples: sheetSamples, classes: classes, perClass: 6, tile: 96, overlayMasks: masks != nil)
        try PNGWriter.writeRGB8(width: sheetImage.width, height: sheetImage.height, rgb: sheetImage.rgb, to: sheet)
        try key.write(to: stamp, options: .atomic)
        return try finish(meta: meta, directory: directory, files: files, sheet: sheet, warnings: warnings, folds: folds)
    }

    private static func finish(meta: PackMeta, directory: URL, files: [String: URL], sheet: URL, warnings: [String], folds: Int) throws -> Prepared {
        var h = ""
        var fileHashes: [String: String] = [:]
        for name in ["images.npy", "meta.json", "masks.npy"] {
            fileHashes[name] = try sha256Hex(of: files[name]!)
            h += fileHashes[name]!
        }
        let summary = DatasetSummary(name: meta.name, classes: meta.classes, labels: meta.labels,
                                     hash: SHA256.hex(data: Data(h.utf8)))
        var w = warnings
        let counts = (0..<meta.classes.count).map { c in meta.labels.filter { $0 == c }.count }
        for (c, n) in counts.enumerated() where n < folds {
            w.append("class '\(meta.classes[c])' of \(meta.name) has \(n) images, fewer than the \(folds) folds")
        }
        return Prepared(summary: summary, directory: directory, files: files, fileHashes: fileHashes,
                        contactSheet: FileManager.default.fileExists(atPath: sheet.path) ? sheet : nil, warnings: w)
    }

    struct PackKey: Codable { var config: DatasetConfig; var inputSize: Int; var seed: UInt64; var version: Int }
}

/// Synthetic SAS data for a dataset config (Datasets' generator, in memory).
enum SyntheticPack {
    static func generate(_ config: DatasetConfig, seed: UInt64) throws
        -> (classes: [String], images: [Image], labels: [Int], names: [String], masks: [[UInt8]]) {
        guard let name = config.synthetic, let preset = SyntheticSAS.Preset(rawValue: name) else {
            throw SeafoldError.config(key: "datasets[\(config.name)].synthetic", reason: "unknown synthetic preset '\(config.synthetic ?? "")'")
        }
        var options = SyntheticSAS.Options(preset: preset, count: config.count, size: config.size, seed: seed)
        if let d = config.difficulty { options.difficulty = d }
        try options.validate()
        let samples = try SyntheticSAS.generate(options)
        return (SyntheticSAS.classes, samples.map(\.image), samples.map(\.label),
                samples.enumerated().map { "\($0.element.className)/\(String(format: "%05d", $0.offset)).png" }, samples.map(\.mask))
    }
}
