import ArgumentParser
import Datasets
import Engine
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// Shared options of `features` and `predict`: a weights file and images to run it on.
struct InferenceInputs: ParsableArguments {
    @Option(help: "AlexNet weights (.safetensors, torchvision key names).")
    var weights: String

    @Option(help: "A folder of images (PNG, TIFF, JPEG or .npy, searched recursively) …")
    var images: String?

    @Option(help: "… or an .npy batch: [N, 3, S, S] float32 already normalised, or [N, H, W] / [N, H, W, C] raw images.")
    var npy: String?

    @Option(help: "Model input size in pixels (default: the weights' seafold.input_size metadata, else 224).")
    var inputSize: Int?

    @Option(help: "How float images (TIFF, .npy) map to [0, 1]: none, percentile or percentile:LO:HI (default: the weights' metadata, else percentile).")
    var floatScaling: String?

    @Option(help: "Output .npy file.")
    var out: String

    func validate() throws {
        if (images == nil) == (npy == nil) { throw ValidationError("give exactly one of --images DIR or --npy FILE") }
        if let inputSize, inputSize < 63 { throw ValidationError("--input-size must be at least 63") }
        if let floatScaling { _ = try FloatScaling(parsing: floatScaling) }
    }

    /// The weights' `__metadata__` model description with the flags applied over it.
    func settings() throws -> InferenceSettings {
        try InferenceSettings(weights: weights, inputSize: inputSize, floatScaling: floatScaling)
    }

    /// The network, its config inferred from the weights' shapes.
    func model(_ s: InferenceSettings) throws -> AlexNet {
        try AlexNet(weightsFile: URL(fileURLWithPath: weights), inputSize: s.inputSize)
    }

    /// Batches of normalised inputs with their source names.
    func inputs(_ settings: InferenceSettings) throws -> (names: [String], batch: (Range<Int>) -> Tensor, count: Int) {
        let inputSize = settings.inputSize
        let pre = Preprocessor(inputSize: inputSize, mean: settings.mean, std: settings.std)
        if let npy {
            let url = URL(fileURLWithPath: npy)
            let a = try NpyArray.read(from: url)
            let v = a.floats()
            if a.shape.count == 4, a.shape[1] == 3, a.shape[2] == inputSize, a.shape[3] == inputSize, a.dtype == .float32 {
                let per = 3 * inputSize * inputSize
                return ((0..<a.shape[0]).map { "\(npy)[\($0)]" }, { r in Tensor(shape: [r.count, 3, inputSize, inputSize], data: Array(v[(r.lowerBound * per)..<(r.upperBound * per)])) }, a.shape[0])
            }
            guard a.shape.count == 3 || a.shape.count == 4 else {
                throw SeafoldError.badInput(path: url.path, reason: "expected [N, 3, \(inputSize), \(inputSize)] normalised float32, or [N, H, W] / [N, H, W, C] images; found \(a.shape)")
            }
            let n = a.shape[0], h = a.shape[1], w = a.shape[2], c = a.shape.count == 4 ? a.shape[3] : 1
            let scale: Float = a.dtype == .uint8 ? 255 : (a.dtype == .uint16 ? 65535 : 1)
            let imgs = (0..<n).map { i in Image(width: w, height: h, channels: c, pixels: v[(i * h * w * c)..<((i + 1) * h * w * c)].map { $0 / scale }) }
            return ((0..<n).map { "\(npy)[\($0)]" }, { r in Tensor(shape: [r.count, 3, inputSize, inputSize], data: r.flatMap { pre.tensorData(imgs[$0]) }) }, n)
        }
        let root = URL(fileURLWithPath: images!)
        guard let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw SeafoldError.io(path: root.path, reason: "cannot list the folder")
        }
        let files = e.compactMap { $0 as? URL }.filter { ImageLoader.extensions.contains($0.pathExtension.lowercased()) }
            .sorted { $0.path < $1.path }
        guard !files.isEmpty else { throw SeafoldError.badInput(path: root.path, reason: "no images (\(ImageLoader.extensionsText)) found") }
        let imgs = try files.map { try ImageLoader.load($0, floatScaling: settings.floatScaling) }
        let names = files.map { ResultsCollector.relativePath($0, to: root) }
        return (names, { r in Tensor(shape: [r.count, 3, inputSize, inputSize], data: r.flatMap { pre.tensorData(imgs[$0]) }) }, imgs.count)
    }

    /// Runs `f` over the inputs in batches of 32, writes its rows as OUT.npy and returns them.
    @discardableResult
    func runBatches(_ settings: InferenceSettings, _ f: (Tensor) throws -> Tensor) throws -> (rows: [Float], cols: Int, names: [String]) {
        let (names, batch, n) = try inputs(settings)
        var rows: [Float] = [], cols = 0
        for s in stride(from: 0, to: n, by: 32) {
            let out = try f(batch(s..<min(s + 32, n)))
            cols = out.shape[1]; rows += out.scalars
        }
        try write(rows, cols: cols, names: names)
        return (rows, cols, names)
    }

    func write(_ rows: [Float], cols: Int, names: [String]) throws {
        let url = URL(fileURLWithPath: out)
        try NpyArray(shape: [names.count, cols], floats: rows).write(to: url)
        try (names.joined(separator: "\n") + "\n").write(to: url.deletingPathExtension().appendingPathExtension("files.txt"), atomically: true, encoding: .utf8)
        Console.info("wrote \(url.path) [\(names.count), \(cols)] (row order in \(url.deletingPathExtension().lastPathComponent).files.txt)")
    }
}

/// `seafold features`: the 4096-d penultimate features (output of classifier.5, eval mode).
struct FeaturesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "features", abstract: "Write penultimate features (classifier.5, eval mode) as .npy.")
    @OptionGroup var io: InferenceInputs

    func run() throws {
        let settings = try io.settings()
        let model = try io.model(settings)
        try io.runBatches(settings) { try model.penultimateFeatures($0) }
    }
}

/// `seafold predict`: class probabilities (softmax of the output layer, eval mode).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "predict", abstract: "Write class probabilities as .npy, and OUT.csv: file, predicted class name, one probability per class.")
    @OptionGroup var io: InferenceInputs

    func run() throws {
        let settings = try io.settings()
        let model = try io.model(settings)
        let (rows, cols, names) = try io.runBatches(settings) { try model.probabilities($0) }
        let classes = settings.classNames(count: cols)
        let csv = URL(fileURLWithPath: io.out).deletingPathExtension().appendingPathExtension("csv")
        try PredictionCSV.write(rows: rows, cols: cols, names: names, classes: classes, to: csv)
        Console.info("wrote \(csv.path) (file, predicted class, probability per class)")
    }
}
