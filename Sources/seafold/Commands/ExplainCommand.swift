import ArgumentParser
import Datasets
import Engine
import Explain
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// `seafold explain --weights W.safetensors --image IMG.png [--weights-base B.safetensors]`:
/// LIME (lime_image semantics) for one image, for one-off use on any survey image. Writes the
/// figure (image | Base | FT, or image | model), the explanation JSON and the mask .npy.
struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "explain", abstract: "Explain one image with LIME (lime_image semantics).")

    @Option(help: "Weights of the model to explain (the fine-tuned one).") var weights: String
    @Option(help: "Optional second model shown beside it (the baseline).") var weightsBase: String?
    @Option(help: "The image (PNG, TIFF, JPEG or .npy).") var image: String
    @Option(help: "Class index to explain (default: the model's top class).") var label: Int?
    @Option(help: "Model input size in pixels.") var inputSize: Int = 224
    @Option(help: "Perturbed samples (lime's num_samples).") var samples: Int = 1000
    @Option(help: "Segmentation: quickshift or slic.") var segmentation: String = "quickshift"
    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Output prefix (writes PREFIX.png, PREFIX.json, PREFIX_mask.npy).") var out: String = "explanation"

    func validate() throws {
        if !["quickshift", "slic"].contains(segmentation) { throw ValidationError("--segmentation must be quickshift or slic") }
        if samples < 2 { throw ValidationError("--samples must be at least 2") }
    }

    func run() throws {
        let img = try ImageLoader.load(URL(fileURLWithPath: image))
        let resized = Preprocessor(inputSize: inputSize).resized(img.channels == 3 ? img : img.rgb())
        let rgb = try RGBImage(width: inputSize, height: inputSize, channels: resized.channels, pixels: resized.pixels)
        let method: SegmentationMethod = segmentation == "slic" ? .slic(SLIC(nSegments: 50)) : .quickshift(Quickshift())
        let explainer = LimeImageExplainer(numSamples: samples, segmentation: method, seed: seed)
        let seg = try explainer.segment(rgb)
        for w in seg.warnings { Console.warn(w) }
        let main = try loadModel(weights)
        let classify = ExplainTask.classifier(main, size: inputSize)
        let target = try label ?? {
            let p = try classify([rgb])[0]
            return p.indices.max { p[$0] < p[$1] } ?? 0
        }()
        Console.status("explaining class \(target) with \(samples) samples")
        let e = try explainer.explain(rgb, classifier: classify, labels: nil, segmentation: seg)
        var panels: [ExplanationFigure.Panel] = [.image()]
        var records: [String: Explanation] = ["model": e]
        if let weightsBase {
            let b = try explainer.explain(rgb, classifier: ExplainTask.classifier(try loadModel(weightsBase), size: inputSize), labels: nil, segmentation: seg)
            panels.append(.explanation("Base", b, label: target))
            records["base"] = b
        }
        panels.append(.explanation(weightsBase == nil ? "Model" : "FT", e, label: target))
        let fig = try ExplanationFigure.render(image: rgb, panels: panels)
        try PNGWriter.writeRGB8(width: fig.width, height: fig.height, rgb: fig.rgb, to: URL(fileURLWithPath: out + ".png"))
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        try enc.encode(records).write(to: URL(fileURLWithPath: out + ".json"))
        try NpyArray(shape: [inputSize, inputSize], ints: try e.mask(label: target).map(Int.init)).write(to: URL(fileURLWithPath: out + "_mask.npy"))
        Console.endStatus()
        let le = try e.explanation(for: target)
        print("class \(target): p = \(e.originalPrediction[target]), \(seg.count) segments, local R² = \(String(format: "%.3f", le.score)); top segments: "
              + le.weights.prefix(5).map { "\($0.segment) (\(String(format: "%+.4f", $0.weight)))" }.joined(separator: ", "))
        print("wrote \(out).png, \(out).json, \(out)_mask.npy")
    }

    func loadModel(_ path: String) throws -> AlexNet {
        try AlexNet(weightsFile: URL(fileURLWithPath: path), inputSize: inputSize)
    }
}
