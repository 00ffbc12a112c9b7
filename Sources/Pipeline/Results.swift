import Foundation

// The results that tasks produce and the report reads. These types are the contract between
// `Pipeline` (which computes them) and `Report` (which aggregates them); change them only
// together with both. Every value is a plain Codable record so a result JSON written on one
// worker decodes identically on the coordinator.

/// Identifies one cross-validation shard: a dataset, a sampling variant, a repeat and a fold.
public struct ShardKey: Codable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Dataset name as configured (e.g. "multi-site", "single-site").
    public var dataset: String
    /// Balanced (class-weighted sampler, torchsampler semantics) or imbalanced (plain shuffle).
    public var variant: SamplingVariant
    /// Fold index, 0-based (the report prints it 1-based as the paper does).
    public var fold: Int
    /// Repeat of repeated cross-validation, 0-based. Repeat 0 is encoded by leaving the key out,
    /// so a single cross-validation's shards, task ids and seeds are the same with or without
    /// `repeats:`, and going from 1 to N repeats reuses repeat 0.
    public var `repeat`: Int

    public init(dataset: String, variant: SamplingVariant, fold: Int, repeat: Int = 0) {
        self.dataset = dataset; self.variant = variant; self.fold = fold; self.repeat = `repeat`
    }

    /// The column a shard belongs to in the paper's tables, e.g. "multi-site/balanced".
    public var column: String { "\(dataset)/\(variant.rawValue)" }
    public var description: String {
        `repeat` == 0 ? "\(dataset)/\(variant.rawValue)/fold\(fold + 1)" : "\(dataset)/\(variant.rawValue)/repeat\(`repeat` + 1)/fold\(fold + 1)"
    }

    public static func < (a: ShardKey, b: ShardKey) -> Bool {
        (a.dataset, a.variant.rawValue, a.repeat, a.fold) < (b.dataset, b.variant.rawValue, b.repeat, b.fold)
    }

    private enum CodingKeys: String, CodingKey { case dataset, variant, fold, `repeat` }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataset = try c.decode(String.self, forKey: .dataset)
        variant = try c.decode(SamplingVariant.self, forKey: .variant)
        fold = try c.decode(Int.self, forKey: .fold)
        self.repeat = try c.decodeIfPresent(Int.self, forKey: .repeat) ?? 0
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dataset, forKey: .dataset)
        try c.encode(variant, forKey: .variant)
        try c.encode(fold, forKey: .fold)
        if `repeat` != 0 { try c.encode(`repeat`, forKey: .repeat) }
    }
}

/// Which network a head was trained on: the fine-tuned one or the baseline (output layer only).
public enum ModelKind: String, Codable, CaseIterable, Sendable {
    case ft = "FT"
    case base = "Base"
}

/// The classifiers trained on the 4096-d penultimate features (paper §3.1), plus the network's own
/// output layer, reported beside them.
public enum HeadKind: String, Codable, CaseIterable, Sendable {
    case svm, knn, fc
    /// The network's own output layer (classifier.6), not a separate head.
    case output
}

/// Test-set metrics of one head on one shard (scikit-learn semantics: zero_division = 0 with a
/// warning, precision/recall/F1 per class in class-index order).
public struct HeadResult: Codable, Equatable, Sendable {
    public var shard: ShardKey
    public var model: ModelKind
    public var head: HeadKind
    public var classes: [String]
    /// confusion[true][predicted], counts.
    public var confusion: [[Int]]
    public var accuracy: Double
    public var precision: [Double]
    public var recall: [Double]
    public var f1: [Double]
    /// Test-set true labels and predictions in test order (for paired tests and re-analysis).
    public var labels: [Int]
    public var predictions: [Int]
    /// Warnings such as "precision of class craters is ill-defined (no predicted samples): 0.0".
    public var warnings: [String]

    public init(shard: ShardKey, model: ModelKind, head: HeadKind, classes: [String], confusion: [[Int]],
                accuracy: Double, precision: [Double], recall: [Double], f1: [Double],
                labels: [Int], predictions: [Int], warnings: [String] = []) {
        self.shard = shard; self.model = model; self.head = head; self.classes = classes
        self.confusion = confusion; self.accuracy = accuracy; self.precision = precision
        self.recall = recall; self.f1 = f1; self.labels = labels; self.predictions = predictions
        self.warnings = warnings
    }
}

/// KL divergence and Euclidean distance of one layer between fine-tuned and pretrained weights.
public struct LayerDivergenceRow: Codable, Equatable, Sendable {
    /// The paper's name: "conv1" … "conv5", "fc1", "fc2".
    public var layer: String
    /// torchvision parameter keys compared (e.g. ["features.0.weight", "features.0.bias"]).
    public var parameters: [String]
    public var kl: Double
    public var euclidean: Double
    /// Number of compared values (nil in results written before it was recorded).
    public var count: Int?
    /// The swap test's null draws of KL for this layer and fold (`WeightStats.SwapNull`);
    /// nil when the test was off.
    public var nullKL: [Double]?

    public init(layer: String, parameters: [String], kl: Double, euclidean: Double, count: Int? = nil, nullKL: [Double]? = nil) {
        self.layer = layer; self.parameters = parameters; self.kl = kl; self.euclidean = euclidean
        self.count = count; self.nullKL = nullKL
    }
}

/// Per-layer weight divergence for one shard (paper Table 3).
public struct DivergenceResult: Codable, Equatable, Sendable {
    public var shard: ShardKey
    public var layers: [LayerDivergenceRow]
    public var bins: Int
    public var epsilon: Double
    /// "probabilities" or "counts"; nil in results written before the option existed (then
    /// it was "probabilities").
    public var epsilonOn: String?
    public var includeBiases: Bool
    /// Seed of the swap test's draws (nil when the test was off).
    public var permutationSeed: UInt64?

    public init(shard: ShardKey, layers: [LayerDivergenceRow], bins: Int, epsilon: Double, includeBiases: Bool,
                epsilonOn: String? = nil, permutationSeed: UInt64? = nil) {
        self.shard = shard; self.layers = layers; self.bins = bins; self.epsilon = epsilon; self.includeBiases = includeBiases
        self.epsilonOn = epsilonOn; self.permutationSeed = permutationSeed
    }
}

/// One epoch of training: mean loss and training accuracy over the epoch's batches.
public struct EpochStats: Codable, Equatable, Sendable {
    public var epoch: Int
    public var loss: Double
    public var accuracy: Double
    public init(epoch: Int, loss: Double, accuracy: Double) { self.epoch = epoch; self.loss = loss; self.accuracy = accuracy }
}

/// The training curve of a fine-tune, a baseline or an FC head on one shard.
public struct TrainingCurve: Codable, Equatable, Sendable {
    public var shard: ShardKey
    public var model: ModelKind
    /// nil for the network itself; the head for an FC head's curve.
    public var head: HeadKind?
    public var epochs: [EpochStats]
    public init(shard: ShardKey, model: ModelKind, head: HeadKind? = nil, epochs: [EpochStats]) {
        self.shard = shard; self.model = model; self.head = head; self.epochs = epochs
    }
}

/// Scores of one LIME explanation (Explain module): how stable, how faithful, how right.
public struct ExplanationScore: Codable, Equatable, Sendable {
    public var model: ModelKind
    /// The explained class index and its predicted probability.
    public var explainedClass: Int
    public var probability: Double
    /// Mean Jaccard overlap of the top-k segments over reruns with different seeds (1 = stable).
    public var stability: Double?
    /// Area under the deletion curve (lower = more faithful).
    public var deletionAUC: Double?
    /// Fraction of positive explanation area on ground-truth evidence pixels (synthetic data only).
    public var pointing: Double?
    /// Weighted R² of the local ridge model (lime's `score`).
    public var localR2: Double
    public var segments: Int
    /// Wall-clock seconds of the explanation. The explain task leaves it nil: a timing in the
    /// result would make equal specs give unequal bytes (it goes to the task's progress log).
    public var seconds: Double?
    /// How `explainedClass` was chosen: "top_prediction" (this model's most probable class) or
    /// "true_class"; nil in results from before the option (then it was the true class).
    public var explainedBy: String?

    public init(model: ModelKind, explainedClass: Int, probability: Double, stability: Double?, deletionAUC: Double?,
                pointing: Double?, localR2: Double, segments: Int, seconds: Double? = nil, explainedBy: String? = nil) {
        self.model = model; self.explainedClass = explainedClass; self.probability = probability
        self.stability = stability; self.deletionAUC = deletionAUC; self.pointing = pointing
        self.localR2 = localR2; self.segments = segments; self.seconds = seconds; self.explainedBy = explainedBy
    }
}

/// One explained test image: its scores for Base and FT, and the Figure-3 style PNG.
public struct ExplainedImage: Codable, Equatable, Sendable {
    public var shard: ShardKey
    /// Index of the image in the dataset and its true class.
    public var imageIndex: Int
    public var trueClass: Int
    public var scores: [ExplanationScore]
    /// File name of the figure (image | Base | FT) among the task's artifacts.
    public var figure: String?
    /// The dataset's class names (index = class), for captions.
    public var classNames: [String]?
    /// The segmenter that made the superpixels, with its parameters (e.g.
    /// "quickshift(kernel_size=4, max_dist=200, ratio=0.2, seed=…)"), and why it replaced the
    /// configured one if it did.
    public var segmenter: String?
    public var segmenterWarnings: [String]?

    public init(shard: ShardKey, imageIndex: Int, trueClass: Int, scores: [ExplanationScore], figure: String?,
                classNames: [String]? = nil, segmenter: String? = nil, segmenterWarnings: [String]? = nil) {
        self.shard = shard; self.imageIndex = imageIndex; self.trueClass = trueClass; self.scores = scores; self.figure = figure
        self.classNames = classNames; self.segmenter = segmenter; self.segmenterWarnings = segmenterWarnings
    }
}

/// A task that has not produced its result (failed, or not run yet), shown as a gap in the report.
public struct MissingResult: Codable, Equatable, Sendable {
    public var taskKind: String
    public var shard: ShardKey?
    public var detail: String
    public var reason: String
    public init(taskKind: String, shard: ShardKey?, detail: String, reason: String) {
        self.taskKind = taskKind; self.shard = shard; self.detail = detail; self.reason = reason
    }
}

/// One attempt of one task on one worker, for the run's timeline.
public struct TimelineEntry: Codable, Equatable, Sendable {
    public var taskID: String
    public var taskKind: String
    public var label: String
    public var worker: String
    public var start: Double
    public var end: Double?
    /// The ledger's attempt outcome: "running", "done", "failed", "lost", "busy", "refused",
    /// "timed-out" or "cancelled" (Cluster's `AttemptOutcome` raw values).
    public var outcome: String
    public init(taskID: String, taskKind: String, label: String, worker: String, start: Double, end: Double?, outcome: String) {
        self.taskID = taskID; self.taskKind = taskKind; self.label = label; self.worker = worker
        self.start = start; self.end = end; self.outcome = outcome
    }
}

/// Per-fold class counts of a dataset (paper Figure 2).
public struct FoldDistribution: Codable, Equatable, Sendable {
    public var dataset: String
    public var classes: [String]
    /// counts[fold][class] of the fold's test part.
    public var counts: [[Int]]
    public init(dataset: String, classes: [String], counts: [[Int]]) { self.dataset = dataset; self.classes = classes; self.counts = counts }
}

/// Everything a report is made from. Built by Pipeline from the ledger and artifacts of a run,
/// complete or not.
public struct RunResults: Codable, Equatable, Sendable {
    /// The experiment config as YAML text (frozen copy).
    public var configYAML: String
    public var softwareVersion: String
    /// The minority class reported in Table 2 (default: the rarest class).
    public var minorityClass: String
    /// Dataset columns in the order the tables show them, e.g. ["single-site/balanced", ...].
    public var columns: [String]
    public var heads: [HeadResult]
    public var divergences: [DivergenceResult]
    public var curves: [TrainingCurve]
    public var explanations: [ExplainedImage]
    public var foldDistributions: [FoldDistribution]
    public var missing: [MissingResult]
    public var timeline: [TimelineEntry]
    /// Paths (relative to the report directory's parent, the run directory) of PNG files the
    /// report embeds: contact sheets by dataset, LIME figures by name.
    public var contactSheets: [String: String]
    public var figures: [String: String]
    /// Standard deviation delta degrees of freedom (numpy default 0).
    public var ddof: Int
    /// The run's LIME settings as planned (nil: results from before they were recorded), so the
    /// report's captions need not parse `configYAML` again.
    public var lime: LimeConfig?

    public init(configYAML: String, softwareVersion: String, minorityClass: String, columns: [String],
                heads: [HeadResult] = [], divergences: [DivergenceResult] = [], curves: [TrainingCurve] = [],
                explanations: [ExplainedImage] = [], foldDistributions: [FoldDistribution] = [],
                missing: [MissingResult] = [], timeline: [TimelineEntry] = [],
                contactSheets: [String: String] = [:], figures: [String: String] = [:], ddof: Int = 0, lime: LimeConfig? = nil) {
        self.configYAML = configYAML; self.softwareVersion = softwareVersion; self.minorityClass = minorityClass
        self.columns = columns; self.heads = heads; self.divergences = divergences; self.curves = curves
        self.explanations = explanations; self.foldDistributions = foldDistributions; self.missing = missing
        self.timeline = timeline; self.contactSheets = contactSheets; self.figures = figures; self.ddof = ddof
        self.lime = lime
    }
}
