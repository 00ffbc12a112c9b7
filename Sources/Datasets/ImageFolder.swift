import Foundation
import SeafoldCore

/// A labelled image collection laid out as `ROOT/<class>/<file>`, like torchvision's
/// `ImageFolder`: class names are the sub-folder names sorted, label = index in that order,
/// files are found recursively inside each class folder and listed in torchvision's order
/// (`make_dataset`: `sorted(os.walk(class_dir))`, then `sorted(fnames)` — by folder, then name,
/// so `c/top.png` comes before `c/sub/a.png`). That order is the one folds are computed on.
///
/// Only `.png`, `.tif`/`.tiff`, `.jpg`/`.jpeg` and `.npy` files (any letter case) are images. Other files are skipped and counted (or, with
/// `strict`, rejected). Hidden files and folders (leading '.') are ignored. Errors: no class
/// folders, only one class, an empty class folder. Files with identical bytes are reported in
/// `duplicates` (64-bit content hash, confirmed byte-for-byte); duplicates across classes
/// also produce a warning, since they make a fold's test set leak into training.
public struct ImageFolder: Sendable {
    /// One image file and its class index.
    public struct Sample: Equatable, Sendable {
        public var url: URL
        public var label: Int
        /// Path relative to the root, e.g. "rocky/img_001.png".
        public var relativePath: String
    }

    public let root: URL
    public let classes: [String]
    public let samples: [Sample]
    /// Relative paths of files that are not images.
    public let skipped: [String]
    /// Groups (≥ 2) of relative paths whose files have identical bytes.
    public let duplicates: [[String]]
    public let warnings: [String]

    public var labels: [Int] { samples.map(\.label) }
    public var count: Int { samples.count }

    /// Number of samples per class, indexed by label.
    public var classCounts: [Int] {
        var c = [Int](repeating: 0, count: classes.count)
        for s in samples { c[s.label] += 1 }
        return c
    }

    public init(root: URL, strict: Bool = false, checkDuplicates: Bool = true) throws {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root.path, isDirectory: &isDir), isDir.boolValue else {
            throw SeafoldError.io(path: root.path, reason: "image folder does not exist or is not a directory (expected ROOT/<class>/<image files>)")
        }
        self.root = root
        let entries: [String]
        do { entries = try fm.contentsOfDirectory(atPath: root.path).filter { !$0.hasPrefix(".") }.sorted() } catch {
            throw SeafoldError.io(path: root.path, reason: "cannot list folder: \(error.localizedDescription)")
        }
        var classNames: [String] = []
        var skipped: [String] = []
        for e in entries {
            var d: ObjCBool = false
            if fm.fileExists(atPath: root.appendingPathComponent(e).path, isDirectory: &d), d.boolValue { classNames.append(e) } else { skipped.append(e) }
        }
        guard !classNames.isEmpty else {
            throw SeafoldError.badInput(path: root.path, reason: "no class folders found; lay images out as ROOT/<class>/<file>.png (or .tif, .jpg, .npy)")
        }
        guard classNames.count >= 2 else {
            throw SeafoldError.badInput(path: root.path, reason: "only one class ('\(classNames[0])'); classification needs at least two class folders")
        }
        var samples: [Sample] = []
        for (label, name) in classNames.enumerated() {
            let dir = root.appendingPathComponent(name)
            var files: [String] = []
            if let en = fm.enumerator(atPath: dir.path) {
                while let rel = en.nextObject() as? String {
                    let last = (rel as NSString).lastPathComponent
                    if last.hasPrefix(".") { if (en.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { en.skipDescendants() }; continue }
                    if (en.fileAttributes?[.type] as? FileAttributeType) == .typeDirectory { continue }
                    files.append(rel)
                }
            }
            var found = 0
            for rel in files.sorted(by: ImageFolder.torchvisionOrder) {
                let relPath = name + "/" + rel
                if ImageLoader.extensions.contains((rel as NSString).pathExtension.lowercased()) {
                    samples.append(Sample(url: dir.appendingPathComponent(rel), label: label, relativePath: relPath))
                    found += 1
                } else {
                    skipped.append(relPath)
                }
            }
            guard found > 0 else {
                throw SeafoldError.badInput(path: dir.path, reason: "class folder '\(name)' holds no images (\(ImageLoader.extensionsText)); add images or remove the folder")
            }
        }
        if strict, let first = skipped.first {
            throw SeafoldError.badInput(path: root.appendingPathComponent(first).path,
                                        reason: "not an image (\(skipped.count) such file(s) in total); remove them or run without --strict to skip them")
        }
        var warnings: [String] = []
        if !skipped.isEmpty { warnings.append("skipped \(skipped.count) file(s) that are not images (\(ImageLoader.extensionsText))") }
        var dups: [[String]] = []
        if checkDuplicates {
            dups = try ImageFolder.findDuplicates(samples)
            for g in dups {
                let labels = Set(g.compactMap { p in samples.first(where: { $0.relativePath == p })?.label })
                if labels.count > 1 {
                    warnings.append("identical files in different classes: \(g.joined(separator: ", "))")
                }
            }
            if !dups.isEmpty { warnings.append("\(dups.count) group(s) of duplicate files (identical bytes)") }
        }
        self.classes = classNames
        self.samples = samples
        self.skipped = skipped
        self.duplicates = dups
        self.warnings = warnings
    }

    /// torchvision's file order inside a class folder: by containing folder, then file name.
    static func torchvisionOrder(_ a: String, _ b: String) -> Bool {
        let da = (a as NSString).deletingLastPathComponent, db = (b as NSString).deletingLastPathComponent
        if da != db { return da < db }
        return (a as NSString).lastPathComponent < (b as NSString).lastPathComponent
    }

    /// Groups of identical files: bucket by size and content hash, then compare bytes.
    static func findDuplicates(_ samples: [Sample]) throws -> [[String]] {
        var buckets: [String: [Int]] = [:]
        var contents: [Data] = []
        for (i, s) in samples.enumerated() {
            let d: Data
            do { d = try Data(contentsOf: s.url, options: .mappedIfSafe) } catch {
                throw SeafoldError.io(path: s.url.path, reason: "cannot read: \(error.localizedDescription)")
            }
            contents.append(d)
            buckets["\(d.count):\(ContentHash.hash64(d))", default: []].append(i)
        }
        var groups: [[String]] = []
        for key in buckets.keys.sorted() {
            var rest = buckets[key]!
            while rest.count > 1 {
                let head = rest.removeFirst()
                let same = rest.filter { contents[$0] == contents[head] }
                rest.removeAll { same.contains($0) }
                if !same.isEmpty { groups.append(([head] + same).map { samples[$0].relativePath }) }
            }
        }
        return groups.sorted { $0[0] < $1[0] }
    }
}

/// A fast non-cryptographic 64-bit content hash (8 bytes per step, multiply–xorshift mixing).
/// Only used to bucket candidate duplicates; equality is then confirmed byte by byte.
public enum ContentHash {
    public static func hash64(_ data: Data) -> UInt64 {
        data.withUnsafeBytes { raw -> UInt64 in
            var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(raw.count)
            let words = raw.count / 8
            for i in 0..<words {
                var k = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)
                k = k &* 0xFF51_AFD7_ED55_8CCD
                k ^= k >> 33
                h = (h ^ k) &* 0xC4CE_B9FE_1A85_EC53
                h ^= h >> 29
            }
            for j in (words * 8)..<raw.count { h = (h ^ UInt64(raw[j])) &* 0x100_0000_01B3 }
            h ^= h >> 33
            h = h &* 0xFF51_AFD7_ED55_8CCD
            return h ^ (h >> 33)
        }
    }
}
