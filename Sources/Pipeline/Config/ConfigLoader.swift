import Foundation
import SeafoldCore
import Yams

/// Parses and validates an experiment YAML file. Keys are snake_case; every field defaults to
/// the paper's value; unknown keys and wrong types are errors naming the key and line.
public enum ConfigLoader {
    public static func load(from url: URL) throws -> ExperimentConfig {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw SeafoldError.io(path: url.path, reason: "cannot read the experiment config: \(error.localizedDescription)")
        }
        do { return try parse(text, baseDirectory: url.deletingLastPathComponent()) } catch let e as SeafoldError {
            throw SeafoldError.badInput(path: url.path, reason: e.description)
        }
    }

    /// Parses YAML text. Relative dataset paths resolve against `baseDirectory`.
    public static func parse(_ text: String, baseDirectory: URL? = nil) throws -> ExperimentConfig {
        try parse(text, baseDirectory: baseDirectory, recorder: nil)
    }

    /// `recorder` notes every key path read (`ConfigReference.keysTheLoaderReads`).
    static func parse(_ text: String, baseDirectory: URL?, recorder: YAMLKeyRecorder?) throws -> ExperimentConfig {
        let root: Node
        do {
            guard let n = try Yams.compose(yaml: text) else { throw SeafoldError.config(key: "(top level)", reason: "the file is empty") }
            root = n
        } catch let e as SeafoldError { throw e } catch {
            throw SeafoldError.config(key: "(syntax)", reason: "not valid YAML: \(error)")
        }
        var r = try YAMLReader(root, path: "", recorder: recorder)
        var c = ExperimentConfig()
        // `preset: NAME` starts from a built-in experiment; every other key overrides it.
        if let preset = try r.optionalString("preset", oneOf: Presets.names) {
            c = try parse(Presets.yaml(preset)!, baseDirectory: baseDirectory)
        }
        c.name = try r.string("name", c.name)
        c.seed = try r.uint64("seed", c.seed)
        c.folds = try r.int("folds", c.folds, min: 2)
        c.shuffle = try r.bool("shuffle", c.shuffle)
        c.repeats = try r.int("repeats", c.repeats, min: 1)
        c.pretrained = try r.string("pretrained", c.pretrained)
        if var m = try r.child("model") {
            c.model.architecture = try m.string("architecture", "alexnet", oneOf: ["alexnet"])
            c.model.widthMultiplier = try m.double("width_multiplier", c.model.widthMultiplier, positive: true)
            c.model.inputSize = try m.int("input_size", c.model.inputSize, min: 63)
            c.model.hiddenWidth = try m.int("hidden_width", c.model.hiddenWidth, min: 1)
            c.model.dropout = try m.double("dropout", c.model.dropout)
            guard (0..<1).contains(c.model.dropout) else { throw SeafoldError.config(key: "model.dropout", reason: "must be in [0, 1), found \(c.model.dropout)") }
            try m.finish()
        }
        if var p = try r.child("pretraining") {
            c.pretraining.classes = try p.int("classes", c.pretraining.classes, min: 2)
            c.pretraining.imagesPerClass = try p.int("images_per_class", c.pretraining.imagesPerClass, min: 1)
            c.pretraining.epochs = try p.int("epochs", c.pretraining.epochs, min: 1)
            c.pretraining.lr = try p.double("lr", c.pretraining.lr, positive: true)
            c.pretraining.batchSize = try p.int("batch_size", c.pretraining.batchSize, min: 1)
            try p.finish()
        }
        if var t = try r.child("training") {
            c.training.optimizer = OptimizerKind(rawValue: try t.string("optimizer", c.training.optimizer.rawValue, oneOf: OptimizerKind.allCases.map(\.rawValue)))!
            c.training.lr = try t.double("lr", c.training.lr, positive: true)
            c.training.momentum = try t.double("momentum", c.training.momentum)
            c.training.weightDecay = try t.double("weight_decay", c.training.weightDecay)
            c.training.batchSize = try t.int("batch_size", c.training.batchSize, min: 1)
            c.training.epochs = try t.int("epochs", c.training.epochs, min: 1)
            c.training.headEpochs = try t.int("head_epochs", c.training.headEpochs, min: 1)
            c.training.baseDropout = try t.bool("base_dropout", c.training.baseDropout)
            c.training.checkpointEvery = try t.int("checkpoint_every", c.training.checkpointEvery, min: 0)
            c.training.threads = try t.int("threads", c.training.threads, min: 0)
            try t.finish()
        }
        c.heads = try r.stringList("heads", c.heads, oneOf: ExperimentConfig.knownHeads)
        if var k = try r.child("knn") { c.knn.k = try k.int("k", c.knn.k, min: 1); try k.finish() }
        if var s = try r.child("svm") {
            c.svm.c = try s.double("c", c.svm.c, positive: true)
            c.svm.tolerance = try s.double("tolerance", c.svm.tolerance, positive: true)
            try s.finish()
        }
        if var d = try r.child("divergence") {
            c.divergence.bins = try d.int("bins", c.divergence.bins, min: 1)
            c.divergence.epsilon = try d.double("epsilon", c.divergence.epsilon)
            guard c.divergence.epsilon >= 0, c.divergence.epsilon.isFinite else {
                throw SeafoldError.config(key: "divergence.epsilon", reason: "must be finite and ≥ 0, found \(c.divergence.epsilon)")
            }
            c.divergence.epsilonOn = try d.string("epsilon_on", c.divergence.epsilonOn, oneOf: ["probabilities", "counts"])
            c.divergence.permutations = try d.int("permutations", c.divergence.permutations, min: 0)
            c.divergence.includeBiases = try d.bool("include_biases", c.divergence.includeBiases)
            c.divergence.ddof = try d.int("ddof", c.divergence.ddof, min: 0)
            try d.finish()
        }
        if var l = try r.child("lime") {
            c.lime.enabled = try l.bool("enabled", c.lime.enabled)
            c.lime.numSamples = try l.int("num_samples", c.lime.numSamples, min: 2)
            c.lime.kernelWidth = try l.double("kernel_width", c.lime.kernelWidth, positive: true)
            c.lime.batchSize = try l.int("batch_size", c.lime.batchSize, min: 1)
            c.lime.segmentation = try l.string("segmentation", c.lime.segmentation, oneOf: ["quickshift", "slic"])
            c.lime.kernelSize = try l.double("kernel_size", c.lime.kernelSize, positive: true)
            c.lime.maxDist = try l.double("max_dist", c.lime.maxDist, positive: true)
            c.lime.ratio = try l.double("ratio", c.lime.ratio)
            c.lime.slicSegments = try l.int("slic_segments", c.lime.slicSegments, min: 2)
            c.lime.slicCompactness = try l.double("slic_compactness", c.lime.slicCompactness, positive: true)
            c.lime.imagesPerClass = try l.int("images_per_class", c.lime.imagesPerClass, min: 0)
            c.lime.folds = try l.intList("folds", c.lime.folds)
            c.lime.explain = try l.string("explain", c.lime.explain, oneOf: ["top_prediction", "true_class"])
            c.lime.stabilityRuns = try l.int("stability_runs", c.lime.stabilityRuns, min: 0)
            c.lime.topK = try l.int("top_k", c.lime.topK, min: 1)
            try l.finish()
        }
        if var rp = try r.child("report") {
            c.report.minorityClass = try rp.optionalString("minority_class")
            try rp.finish()
        }
        let given = try r.children("datasets")
        if given == nil && c.datasets.isEmpty || given?.isEmpty == true {
            throw SeafoldError.config(key: "datasets", reason: "at least one dataset is needed (a folder `path:` or a `synthetic:` preset)")
        }
        if given != nil { c.datasets = [] }
        for var d in given ?? [] {
            let name = try d.string("name", "")
            guard !name.isEmpty else { throw SeafoldError.config(key: "\(d.path).name", reason: "every dataset needs a name\(YAMLReader.at(d.node))") }
            var dc = DatasetConfig(name: name)
            if let p = try d.optionalString("path") {
                dc.path = baseDirectory.map { URL(fileURLWithPath: p, relativeTo: $0).standardizedFileURL.path } ?? p
            }
            dc.synthetic = try d.optionalString("synthetic", oneOf: ["multi-site", "single-site"])
            dc.count = try d.optionalInt("count", min: 4)
            dc.size = try d.optionalInt("size", min: 16)
            dc.difficulty = try d.optionalDouble("difficulty")
            dc.variants = try d.stringList("variants", dc.variants.map(\.rawValue), oneOf: ExperimentConfig.knownVariants).compactMap(SamplingVariant.init(rawValue:))
            dc.scaling = try d.string("scaling", dc.scaling, oneOf: ["percentile", "none"])
            if let f = try d.optionalString("folds") {
                dc.foldsFile = baseDirectory.map { URL(fileURLWithPath: f, relativeTo: $0).standardizedFileURL.path } ?? f
                guard dc.path != nil else {
                    throw SeafoldError.config(key: "\(d.path).folds", reason: "a folds file names image paths, so it needs a `path:` dataset (synthetic data has none)\(YAMLReader.at(d.node))")
                }
            }
            if (dc.path == nil) == (dc.synthetic == nil) {
                throw SeafoldError.config(key: "\(d.path)", reason: "give exactly one of `path:` (an image folder) or `synthetic:` (multi-site or single-site)\(YAMLReader.at(d.node))")
            }
            if dc.variants.isEmpty { throw SeafoldError.config(key: "\(d.path).variants", reason: "list at least one of balanced, imbalanced") }
            try d.finish()
            c.datasets.append(dc)
        }
        if c.repeats > 1 && !c.shuffle {
            throw SeafoldError.config(key: "repeats", reason: "repeats: \(c.repeats) with shuffle: false would repeat the same folds; set shuffle: true (the default) or repeats: 1")
        }
        if c.repeats > 1, let d = c.datasets.first(where: { $0.foldsFile != nil }) {
            throw SeafoldError.config(key: "repeats", reason: "repeats: \(c.repeats) needs seeded folds, but dataset '\(d.name)' has a folds file (one fixed split); drop `folds:` from it or use repeats: 1")
        }
        if c.shuffle && c.seed > UInt64(UInt32.max) && c.datasets.contains(where: { $0.foldsFile == nil }) {
            throw SeafoldError.config(key: "seed", reason: "\(c.seed) is larger than 4294967295 (2^32 - 1), the largest random_state scikit-learn's seeded folds accept; use a smaller seed")
        }
        let names = c.datasets.map(\.name)
        if Set(names).count != names.count { throw SeafoldError.config(key: "datasets", reason: "dataset names must be unique, found \(names)") }
        try r.finish()
        if c.pretrained != "synthetic" && c.pretrained != "random" {
            if let base = baseDirectory { c.pretrained = URL(fileURLWithPath: c.pretrained, relativeTo: base).standardizedFileURL.path }
        }
        return c
    }
}
