import Foundation

/// One experiment, as the YAML config describes it. Every field defaults to the paper's value
/// (Walker et al. §3.1): 3 stratified folds, AlexNet, Adam lr 1e-4, batch 6, 100 epochs, FC head
/// 30 epochs, KNN k=3, linear SVM C=1. Presets (`Presets`) override sizes for fast runs.
public struct ExperimentConfig: Codable, Equatable, Sendable {
    public var name: String = "experiment"
    public var seed: UInt64 = 0
    public var folds: Int = 3
    /// scikit-learn `StratifiedKFold(shuffle=...)`: true shuffles each class's fold ids with
    /// `np.random.RandomState(seed)` (bit for bit); false assigns them in file order.
    public var shuffle: Bool = true
    /// Repeated cross-validation: repeat r has the folds of repetition r of scikit-learn's
    /// `RepeatedStratifiedKFold(n_splits: folds, n_repeats: repeats, random_state: seed)`;
    /// repeat 0 is `StratifiedKFold(folds, shuffle=True, random_state=seed)` itself.
    public var repeats: Int = 1
    public var datasets: [DatasetConfig] = []
    public var model: ModelConfig = .init()
    /// "synthetic" (pretrain on the built-in source task), "random" (seeded init), or a path to
    /// a torchvision-layout AlexNet .safetensors file (e.g. ImageNet weights exported by
    /// scripts/export_torchvision_alexnet.py).
    public var pretrained: String = "synthetic"
    public var pretraining: PretrainingConfig = .init()
    public var training: TrainingConfig = .init()
    public var heads: [String] = ["svm", "knn", "fc"]
    public var knn: KNNConfig = .init()
    public var svm: SVMConfig = .init()
    public var divergence: DivergenceConfig = .init()
    public var lime: LimeConfig = .init()
    public var report: ReportConfig = .init()

    public init() {}

    /// The sampling variants of the paper: balanced (class-weighted sampler) or imbalanced.
    public static let knownVariants = SamplingVariant.allCases.map(\.rawValue)
    public static let knownHeads = ["svm", "knn", "fc"]
}

/// A dataset: a folder of images (ImageFolder layout) or a synthetic SAS preset.
public struct DatasetConfig: Codable, Equatable, Sendable {
    public var name: String
    /// A folder `ROOT/<class>/<image>`; nil for synthetic data.
    public var path: String?
    /// "multi-site" or "single-site" when synthetic.
    public var synthetic: String?
    /// Synthetic image count and size (px); nil = the preset's.
    public var count: Int?
    public var size: Int?
    public var difficulty: Double?
    public var variants: [SamplingVariant] = [.balanced, .imbalanced]
    /// Scaling of float/.npy images: "percentile" (1st–99th per image) or "none".
    public var scaling: String = "percentile"
    /// A folds file (`FoldsFile`: CSV `path,fold`) fixing each image's test fold instead of a
    /// seeded split; absolute, or relative to the config file.
    public var foldsFile: String?

    public init(name: String, path: String? = nil, synthetic: String? = nil, count: Int? = nil, size: Int? = nil,
                difficulty: Double? = nil, variants: [SamplingVariant] = [.balanced, .imbalanced]) {
        self.name = name; self.path = path; self.synthetic = synthetic; self.count = count; self.size = size
        self.difficulty = difficulty; self.variants = variants
    }
}

/// The network: torchvision AlexNet, optionally scaled (same layer list) for fast presets.
public struct ModelConfig: Codable, Equatable, Sendable {
    public var architecture: String = "alexnet"
    public var widthMultiplier: Double = 1.0
    public var inputSize: Int = 224
    public var hiddenWidth: Int = 4096
    public var dropout: Double = 0.5
    public init() {}
}

/// The built-in synthetic source task that stands in for ImageNet pretraining.
public struct PretrainingConfig: Codable, Equatable, Sendable {
    public var classes: Int = 16
    public var imagesPerClass: Int = 100
    public var epochs: Int = 10
    public var lr: Double = 1e-3
    public var batchSize: Int = 32
    public init() {}
}

/// Fine-tuning and baseline training (paper §3.1).
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var optimizer: OptimizerKind = .adam
    public var lr: Double = 1e-4
    public var momentum: Double = 0.9
    public var weightDecay: Double = 0
    public var batchSize: Int = 6
    public var epochs: Int = 100
    public var headEpochs: Int = 30
    /// Base (output layer only) trains with the dropout of classifier.0 and classifier.3
    /// active, as PyTorch's `model.train()` loop with frozen lower layers does (the reference);
    /// false trains on the eval-mode (dropout-free) penultimate features.
    public var baseDropout: Bool = true
    /// Write a resumable checkpoint every N epochs (0 = never).
    public var checkpointEvery: Int = 5
    /// BLAS threads per worker; 0 = the worker's own setting.
    public var threads: Int = 0
    public init() {}
}

public struct KNNConfig: Codable, Equatable, Sendable {
    public var k: Int = 3
    public init() {}
}

public struct SVMConfig: Codable, Equatable, Sendable {
    public var c: Double = 1.0
    public var tolerance: Double = 1e-3
    public init() {}
}

/// Weight divergence between fine-tuned and pretrained layers (paper §2.1, Table 3).
///
/// Conventions (stated in Table 3's caption and `results.json`): `bins` equal-width bins over
/// the joint min…max of the fine-tuned and pretrained values (numpy.histogram edges); ε added
/// to each bin of both histograms, to the probabilities (`epsilon_on: probabilities`, the
/// default) or to the counts (`counts`) before renormalising; biases joined to the weights when
/// `include_biases`. `permutations` draws of the paired swap test give each layer's null
/// distribution of KL (0 = no significance test); see docs/STATISTICS.md.
public struct DivergenceConfig: Codable, Equatable, Sendable {
    public var bins: Int = 100
    public var epsilon: Double = 1e-10
    /// "probabilities" or "counts" (`WeightStats.EpsilonPlacement`).
    public var epsilonOn: String = "probabilities"
    public var includeBiases: Bool = true
    /// Draws of the swap test's null distribution per layer and fold (0 = off).
    public var permutations: Int = 999
    /// Standard-deviation degrees of freedom in the tables (numpy default 0).
    public var ddof: Int = 0
    public init() {}
}

/// LIME (lime 0.2.0.1's lime_image defaults), and which test images to explain.
public struct LimeConfig: Codable, Equatable, Sendable {
    public var enabled: Bool = true
    public var numSamples: Int = 1000
    public var kernelWidth: Double = 0.25
    public var batchSize: Int = 100
    public var segmentation: String = "quickshift"
    public var kernelSize: Double = 4
    public var maxDist: Double = 200
    public var ratio: Double = 0.2
    public var slicSegments: Int = 50
    public var slicCompactness: Double = 10
    /// Test images explained per class (minority class first).
    public var imagesPerClass: Int = 2
    /// Which folds get explained (0-based); empty = all.
    public var folds: [Int] = [0]
    /// Which class each explanation is for: "top_prediction" (lime_image with top_labels=1:
    /// the model's most probable class, each model its own) or "true_class".
    public var explain: String = "top_prediction"
    /// Extra reruns with other seeds for the stability score (0 = skip).
    public var stabilityRuns: Int = 2
    public var topK: Int = 5
    public init() {}
}

public struct ReportConfig: Codable, Equatable, Sendable {
    /// Class reported in Table 2; nil = the rarest class.
    public var minorityClass: String?
    public init() {}
}
