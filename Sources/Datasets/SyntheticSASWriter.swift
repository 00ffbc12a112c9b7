import Foundation
import SeafoldCore

/// The manifest written next to a synthetic dataset (manifest.json).
public struct SyntheticManifest: Codable, Sendable {
    public struct Entry: Codable, Sendable {
        public var file: String      // relative to the dataset folder, e.g. images/rocky/rocky_0003.png
        public var mask: String      // e.g. masks/rocky/rocky_0003.png
        public var className: String
        public var label: Int
        public var site: Int
        public var evidencePixels: Int
        public var parameters: [String: Double]
    }
    public var generator: String
    public var version: Int
    public var options: SyntheticSAS.Options
    public var classes: [String]
    public var counts: [Int]
    public var sites: [SonarSite]
    public var images: [Entry]
}

extension SyntheticSAS {
    /// Writes `samples` under `directory`:
    /// `images/<class>/<class>_NNNN.png` (16-bit grey; an ImageFolder root),
    /// `masks/<class>/<class>_NNNN.png` (8-bit, 255 = evidence; outside the ImageFolder root),
    /// and `manifest.json`. Returns the ImageFolder root (`directory/images`).
    @discardableResult
    public static func write(_ samples: [SyntheticSample], options: Options, to directory: URL) throws -> URL {
        let fm = FileManager.default
        let images = directory.appendingPathComponent("images"), masks = directory.appendingPathComponent("masks")
        for c in classes {
            for base in [images, masks] {
                let d = base.appendingPathComponent(c)
                do { try fm.createDirectory(at: d, withIntermediateDirectories: true) } catch {
                    throw SeafoldError.io(path: d.path, reason: "cannot create folder: \(error.localizedDescription)")
                }
            }
        }
        var perClass = [Int](repeating: 0, count: classes.count)
        var names: [String] = []
        for s in samples {
            names.append(String(format: "%@_%04d.png", s.className, perClass[s.label]))
            perClass[s.label] += 1
        }
        let errors = parallelMap(samples.count, progress: nil) { i -> SeafoldError? in
            let s = samples[i]
            do {
                try PNGWriter.write(s.image, to: images.appendingPathComponent(s.className).appendingPathComponent(names[i]), bitDepth: 16)
                try PNGWriter.writeGray8(width: s.image.width, height: s.image.height, gray: s.mask.map { $0 != 0 ? 255 : 0 },
                                         to: masks.appendingPathComponent(s.className).appendingPathComponent(names[i]))
                return nil
            } catch let e as SeafoldError { return e } catch { return .message("\(error)") }
        }
        if let e = errors.compactMap({ $0 }).first { throw e }
        let entries = samples.enumerated().map { i, s in
            SyntheticManifest.Entry(file: "images/\(s.className)/\(names[i])", mask: "masks/\(s.className)/\(names[i])",
                                    className: s.className, label: s.label, site: s.site,
                                    evidencePixels: s.mask.reduce(0) { $0 + Int($1) }, parameters: s.parameters)
        }
        let manifest = SyntheticManifest(generator: "seafold SyntheticSAS", version: generatorVersion, options: options,
                                         classes: classes, counts: perClass, sites: sites(options), images: entries)
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        let url = directory.appendingPathComponent("manifest.json")
        do { try enc.encode(manifest).write(to: url, options: .atomic) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot write manifest: \(error.localizedDescription)")
        }
        return images
    }

    /// Reads a manifest written by `write`.
    public static func readManifest(_ url: URL) throws -> SyntheticManifest {
        do { return try JSONDecoder().decode(SyntheticManifest.self, from: Data(contentsOf: url)) } catch {
            throw SeafoldError.badInput(path: url.path, reason: "not a readable synthetic manifest: \(error)")
        }
    }
}
