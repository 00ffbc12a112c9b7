import Datasets
import Engine
import Explain
import Foundation
import SeafoldCore

/// `explain(dataset, variant, fold)`: LIME (lime_image semantics) for chosen test images with
/// both Base and FT, on the same superpixels. Each model's explanation is for the class
/// `lime.explain` names: "top_prediction" (default; lime_image's `top_labels` order, whose
/// first label users show, i.e. that model's most probable class) or "true_class". Writes the
/// paper's Figure 3 rows (image | Base | FT) as PNG, the explanations as JSON and masks as .npy,
/// and scores each explanation: stability over seeds, deletion AUC, and — on synthetic data
/// with ground-truth evidence masks — the pointing score.
public enum ExplainTask {
    static func run(_ spec: ExplainSpec, io: TaskIO) throws -> TaskOutput {
        let shard = spec.shard, lime = spec.lime
        let pack = try PackData(io: io)
        let (_, testIdx) = try pack.split(spec.split, seed: spec.seed)

        // Which images: `imagesPerClass` test images per class, the rarest class first.
        let counts = (0..<pack.classes.count).map { c in pack.labels.filter { $0 == c }.count }
        let order = (0..<pack.classes.count).sorted { (counts[$0], $0) < (counts[$1], $1) }
        var chosen: [Int] = []
        for c in order { chosen += testIdx.filter { pack.labels[$0] == c }.prefix(lime.imagesPerClass) }

        let ftModel = try loadFineTuned(spec, classes: pack.classes.count, io: io)
        let baseModel = try loadBase(spec, shard: shard, classes: pack.classes.count, io: io)
        let masks = try NpyArray.read(from: try io.input(.masks))
        let hasMasks = masks.shape.count == 3 && masks.shape[0] == pack.count
        let maskBytes = hasMasks ? masks.bytes : []

        let segmentation: SegmentationMethod = lime.segmentation == "slic"
            ? .slic(SLIC(nSegments: lime.slicSegments, compactness: lime.slicCompactness))
            : .quickshift(Quickshift(kernelSize: lime.kernelSize, maxDist: lime.maxDist, ratio: lime.ratio))
        var results: [ExplainedImage] = []
        var artifacts: [ArtifactName: URL] = [:]
        var records: [String: Explanation] = [:]
        let explainTrueClass = lime.explain == "true_class"
        for (n, index) in chosen.enumerated() {
            let trueLabel = pack.labels[index]
            let image = try RGBImage(width: pack.size, height: pack.size, pixels: pack.rgb(index))
            let seed = SeededGenerator.derivedSeed(spec.seed, "lime/\(shard)/\(index)")
            // Fewer than 8 superpixels explain little (lime's quickshift defaults suit 224 px
            // photographs, not 64 px sonar snippets): fall back to SLIC and say so.
            let explainer = LimeImageExplainer(kernelWidth: lime.kernelWidth, numSamples: lime.numSamples, batchSize: lime.batchSize,
                                               topLabels: min(5, pack.classes.count), segmentation: segmentation,
                                               fallback: .slic(SLIC(nSegments: lime.slicSegments, compactness: lime.slicCompactness)),
                                               minimumSegments: 8, seed: seed)
            let seg = try explainer.segment(image)
            var scores: [ExplanationScore] = []
            var explanations: [ModelKind: Explanation] = [:]
            var explained: [ModelKind: Int] = [:]
            for (kind, model) in [(ModelKind.base, baseModel), (ModelKind.ft, ftModel)] {
                io.progress(Double(n) / Double(max(chosen.count, 1)), "explain \(shard): image \(n + 1)/\(chosen.count) with \(kind.rawValue)")
                let classify = classifier(model, size: pack.size)
                let t0 = Date()
                let e = try explainer.explain(image, classifier: classify, labels: nil, segmentation: seg)
                let seconds = Date().timeIntervalSince(t0)
                let label = explainTrueClass ? trueLabel : (e.topLabels.first ?? trueLabel)
                explained[kind] = label
                let le = try e.explanation(for: label)
                let deletion = try ExplanationScores.deletionCurve(image: image, explanation: e, label: label, classifier: classify, batchSize: lime.batchSize)
                var stability: Double?
                if lime.stabilityRuns > 0 {
                    let seeds = (0...lime.stabilityRuns).map { seed &+ UInt64($0) }
                    stability = try ExplanationScores.stability(image: image, classifier: classify, explainer: explainer, label: label,
                                                                seeds: seeds, topK: lime.topK, segmentation: seg).meanJaccard
                }
                var pointing: Double?
                if hasMasks {
                    let plane = pack.size * pack.size
                    let ev = Array(maskBytes[(index * plane)..<((index + 1) * plane)])
                    pointing = try ExplanationScores.pointing(explanation: e, label: label, evidence: ev, numFeatures: lime.topK).score
                }
                scores.append(ExplanationScore(model: kind, explainedClass: label, probability: Double(e.originalPrediction[label]),
                                               stability: stability, deletionAUC: deletion.auc, pointing: pointing, localR2: le.score,
                                               segments: seg.count, explainedBy: lime.explain))
                io.progress(Double(n) / Double(max(chosen.count, 1)),
                            String(format: "explain %@: image %d/%d with %@ took %.2f s", shard.description, n + 1, chosen.count, kind.rawValue, seconds))
                explanations[kind] = e
                records["\(index)/\(kind.rawValue)"] = e
                let maskURL = io.outputURL(ArtifactName("mask_\(index)_\(kind.rawValue).npy"))
                try NpyArray(shape: [pack.size, pack.size], uint8: try e.mask(label: label, numFeatures: lime.topK).map { $0 > 0 ? 1 : 0 }).write(to: maskURL)
                artifacts[ArtifactName(maskURL.lastPathComponent)] = maskURL
            }
            let fig = ExplainTask.enlarged(try ExplanationFigure.comparison(image: image, base: explanations[.base]!, baseLabel: explained[.base]!,
                                                                            fineTuned: explanations[.ft]!, fineTunedLabel: explained[.ft]!,
                                                                            numFeatures: lime.topK), imageSize: pack.size)
            let name = "lime_\(shard.dataset)_\(shard.variant.rawValue)_fold\(shard.fold + 1)_image\(index).png"
            let url = io.scratchDirectory.appendingPathComponent(name)
            try PNGWriter.writeRGB8(width: fig.width, height: fig.height, rgb: fig.rgb, to: url)
            artifacts[ArtifactName(name)] = url
            results.append(ExplainedImage(shard: shard, imageIndex: index, trueClass: trueLabel, scores: scores, figure: name,
                                          classNames: pack.classes, segmenter: seg.method, segmenterWarnings: seg.warnings))
        }
        let recordsURL = io.outputURL(.explanations)
        try TaskRunner.encode(records).write(to: recordsURL)
        artifacts[.explanations] = recordsURL
        return TaskOutput(result: try TaskRunner.encode(results), outputs: artifacts)
    }

    /// Small images are enlarged (nearest neighbour) so a person can see the superpixels.
    static func enlarged(_ f: (width: Int, height: Int, rgb: [UInt8]), imageSize: Int) -> (width: Int, height: Int, rgb: [UInt8]) {
        let k = max(1, (160 + imageSize - 1) / imageSize)
        if k == 1 { return f }
        return (f.width * k, f.height * k, PackPixels.enlarged(rgb: f.rgb, width: f.width, height: f.height, factor: k))
    }

    /// The model as LIME's classifier: RGB images in [0, 1] → softmax probabilities
    /// (ImageNet normalisation, as every input of the network).
    public static func classifier(_ model: AlexNet, size: Int) -> ImageClassifier {
        return { images in
            let data = PackPixels.normalisedInterleaved(images.map(\.pixels), plane: size * size)
            let probs = try model.probabilities(Tensor(shape: [images.count, 3, size, size], data: data))
            let c = probs.shape[1], s = probs.scalars
            return (0..<images.count).map { Array(s[($0 * c)..<(($0 + 1) * c)]) }
        }
    }

    static func loadFineTuned(_ spec: ExplainSpec, classes: Int, io: TaskIO) throws -> AlexNet {
        let model = try AlexNet(config: AlexNetConfig(spec.network, numClasses: classes), seed: 0)
        try model.loadWeights(from: try io.input(.ftWeights), describedAs: "fine-tuned weights")
        return model
    }

    /// Base = pretrained layers + the baseline's trained output layer.
    static func loadBase(_ spec: ExplainSpec, shard: ShardKey, classes: Int, io: TaskIO) throws -> AlexNet {
        let model = try TaskSupport.networkFromPretrained(spec.network, seed: spec.seed, classes: classes, io: io,
                                                          seedLabel: TaskSupport.outputLayerSeedLabel(shard))
        var state = model.stateDict()
        let head = try Safetensors.read(from: try io.input(.baseHead)).tensors
        for (k, v) in head { state[k] = v }
        try model.load(stateDict: state, strict: true)
        return model
    }
}
