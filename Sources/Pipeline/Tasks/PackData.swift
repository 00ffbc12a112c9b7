import Datasets
import Engine
import Foundation
import SeafoldCore

/// A dataset pack as a task reads it: images already resized to the model input (uint16,
/// [N, C, S, S], C = 1 or 3, values x·65535 for x in [0, 1]), labels and class names.
/// Normalisation (ImageNet mean/std, grey replicated to RGB) happens per batch.
public struct PackData {
    let meta: PackMeta
    let count: Int
    let channels: Int
    let size: Int
    let pixels: [UInt16]

    init(io: TaskIO) throws {
        let metaURL = try io.input(.meta)
        do { meta = try JSONDecoder().decode(PackMeta.self, from: Data(contentsOf: metaURL)) } catch {
            throw SeafoldError.badInput(path: metaURL.path, reason: "dataset pack metadata is unreadable: \(error)")
        }
        let url = try io.input(.images)
        let arr = try NpyArray.read(from: url)
        guard arr.shape.count == 4, arr.dtype == .uint16, arr.shape[0] == meta.labels.count, arr.shape[2] == arr.shape[3] else {
            throw SeafoldError.badInput(path: url.path, reason: "dataset pack images must be uint16 [N, C, S, S] with N = \(meta.labels.count), found \(arr.dtype) \(arr.shape)")
        }
        count = arr.shape[0]; channels = arr.shape[1]; size = arr.shape[2]
        pixels = PackPixels.uint16(arr.bytes, count: arr.count)
    }

    /// A pack already in memory (tests, and the training loop timed outside a run).
    public init(meta: PackMeta, channels: Int, size: Int, pixels: [UInt16]) {
        self.meta = meta; self.count = meta.labels.count; self.channels = channels; self.size = size; self.pixels = pixels
    }

    var labels: [Int] { meta.labels }
    var classes: [String] { meta.classes }

    /// The shard's train and test indices (`FoldSplits`: scikit-learn's folds or a folds file).
    func split(_ selection: FoldSelection, seed: UInt64) throws -> (train: [Int], test: [Int]) {
        try FoldSplits.split(labels: labels, selection: selection, seed: seed)
    }

    /// Writes image `index`, normalised to 3 channels, into `out` (3·S·S floats).
    func normalised(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        PackPixels.normalised(pixels, index: index, channels: channels, plane: size * size, into: out)
    }

    /// A batch of normalised images as an [N, 3, S, S] tensor.
    public func batch(_ indices: [Int]) -> Tensor {
        let per = 3 * size * size
        var data = [Float](repeating: 0, count: indices.count * per)
        data.withUnsafeMutableBufferPointer { buf in
            for (k, i) in indices.enumerated() { normalised(i, into: buf.baseAddress! + k * per) }
        }
        return Tensor(shape: [indices.count, 3, size, size], data: data)
    }

    /// Image `index` in [0, 1] as interleaved RGB (H, W, 3), for LIME.
    func rgb(_ index: Int) -> [Float] {
        PackPixels.rgb(pixels, index: index, channels: channels, plane: size * size)
    }
}

/// The JSON beside a pack's images.
public struct PackMeta: Codable, Equatable, Sendable {
    public var name: String
    public var classes: [String]
    public var labels: [Int]
    /// Source file of each image, relative to the dataset root (or the synthetic id).
    public var files: [String]
    public var inputSize: Int
    public var channels: Int
    public var scaling: String
    public var warnings: [String]
    public var hasMasks: Bool

    public init(name: String, classes: [String], labels: [Int], files: [String], inputSize: Int, channels: Int,
                scaling: String, warnings: [String], hasMasks: Bool) {
        self.name = name; self.classes = classes; self.labels = labels; self.files = files; self.inputSize = inputSize
        self.channels = channels; self.scaling = scaling; self.warnings = warnings; self.hasMasks = hasMasks
    }
}
