import Foundation

/// The experiment config's reference: one row per key `ConfigLoader` accepts (key path, type,
/// default, meaning), the single source of docs/CONFIG.md. Defaults are read from
/// `ExperimentConfig()` / `DatasetConfig`, so they cannot drift from the types; a test checks
/// that every key the loader reads has a row and that docs/CONFIG.md is this text.
public enum ConfigReference {
    public struct Entry: Sendable {
        /// Dotted path; `datasets[].x` for a key of each dataset entry.
        public let key: String
        public let type: String
        public let defaultValue: String
        public let meaning: String
    }

    static let d = ExperimentConfig()
    static let ds = DatasetConfig(name: "")

    static func num(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e6 ? String(Int(v)) : "\(v)" }
    static func list<T>(_ a: [T]) -> String { "[" + a.map { "\($0)" }.joined(separator: ", ") + "]" }

    public static let entries: [Entry] = [
        Entry(key: "preset", type: "smoke | demo | paper", defaultValue: "(none)", meaning: "Start from a built-in experiment; every other key overrides it."),
        Entry(key: "name", type: "text", defaultValue: d.name, meaning: "Experiment name (run directory, report titles)."),
        Entry(key: "seed", type: "integer ≥ 0", defaultValue: "\(d.seed)", meaning: "Experiment seed; every random choice (folds, samplers, initialisation, dropout, LIME) derives from it."),
        Entry(key: "folds", type: "integer ≥ 2", defaultValue: "\(d.folds)", meaning: "Stratified cross-validation folds (scikit-learn `StratifiedKFold(shuffle=True)`)."),
        Entry(key: "shuffle", type: "true | false", defaultValue: "\(d.shuffle)", meaning: "Shuffle within classes before splitting (`StratifiedKFold(shuffle=...)`); false gives scikit-learn's unshuffled folds."),
        Entry(key: "repeats", type: "integer ≥ 1", defaultValue: "\(d.repeats)", meaning: "Repeated cross-validation: repeat r is repetition r of `RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=seed)`; the report adds tables over repeats × folds with the corrected resampled t-test (docs/REPEATED_CV.md)."),
        Entry(key: "pretrained", type: "synthetic | random | PATH", defaultValue: d.pretrained, meaning: "Starting weights: pretrain on the built-in synthetic source task, seeded random init, or a torchvision-layout AlexNet .safetensors file (relative to the config file)."),
        Entry(key: "heads", type: "list of svm, knn, fc", defaultValue: list(d.heads), meaning: "Classifiers trained on the 4096-d penultimate features."),

        Entry(key: "model", type: "mapping", defaultValue: "", meaning: "The network."),
        Entry(key: "model.architecture", type: "alexnet", defaultValue: d.model.architecture, meaning: "Network architecture (torchvision AlexNet layer list)."),
        Entry(key: "model.width_multiplier", type: "number > 0", defaultValue: num(d.model.widthMultiplier), meaning: "Scales the conv channels (64, 192, 384, 256, 256) for fast presets; 1 = torchvision."),
        Entry(key: "model.input_size", type: "integer ≥ 63", defaultValue: "\(d.model.inputSize)", meaning: "Square input side in pixels; images are resized to it (antialiased bilinear)."),
        Entry(key: "model.hidden_width", type: "integer ≥ 1", defaultValue: "\(d.model.hiddenWidth)", meaning: "Width of classifier.1/classifier.4 (the penultimate features)."),
        Entry(key: "model.dropout", type: "number in [0, 1)", defaultValue: num(d.model.dropout), meaning: "Dropout probability of the classifier's dropout layers."),

        Entry(key: "pretraining", type: "mapping", defaultValue: "", meaning: "The synthetic source task used when `pretrained: synthetic`."),
        Entry(key: "pretraining.classes", type: "integer ≥ 2", defaultValue: "\(d.pretraining.classes)", meaning: "Source-task classes (capped at the generator's kinds)."),
        Entry(key: "pretraining.images_per_class", type: "integer ≥ 1", defaultValue: "\(d.pretraining.imagesPerClass)", meaning: "Generated images per source class."),
        Entry(key: "pretraining.epochs", type: "integer ≥ 1", defaultValue: "\(d.pretraining.epochs)", meaning: "Pretraining epochs."),
        Entry(key: "pretraining.lr", type: "number > 0", defaultValue: "\(d.pretraining.lr)", meaning: "Adam learning rate of pretraining."),
        Entry(key: "pretraining.batch_size", type: "integer ≥ 1", defaultValue: "\(d.pretraining.batchSize)", meaning: "Pretraining batch size."),

        Entry(key: "training", type: "mapping", defaultValue: "", meaning: "Fine-tuning (FT) and output-layer-only (Base) training, paper §3.1."),
        Entry(key: "training.optimizer", type: "adam | sgd", defaultValue: d.training.optimizer.rawValue, meaning: "Optimiser (PyTorch semantics)."),
        Entry(key: "training.lr", type: "number > 0", defaultValue: "\(d.training.lr)", meaning: "Learning rate."),
        Entry(key: "training.momentum", type: "number", defaultValue: num(d.training.momentum), meaning: "SGD momentum (ignored by Adam)."),
        Entry(key: "training.weight_decay", type: "number", defaultValue: num(d.training.weightDecay), meaning: "L2 weight decay (PyTorch's `weight_decay`)."),
        Entry(key: "training.batch_size", type: "integer ≥ 1", defaultValue: "\(d.training.batchSize)", meaning: "Mini-batch size."),
        Entry(key: "training.epochs", type: "integer ≥ 1", defaultValue: "\(d.training.epochs)", meaning: "Epochs of fine-tuning and of the Base output layer."),
        Entry(key: "training.head_epochs", type: "integer ≥ 1", defaultValue: "\(d.training.headEpochs)", meaning: "Epochs of the FC head on the features."),
        Entry(key: "training.base_dropout", type: "true | false", defaultValue: "\(d.training.baseDropout)", meaning: "Keep the classifier's dropout active while Base trains its output layer (train mode, as the PyTorch reference loop does; docs/STATISTICS.md)."),
        Entry(key: "training.checkpoint_every", type: "integer ≥ 0", defaultValue: "\(d.training.checkpointEvery)", meaning: "Write a resumable checkpoint every N epochs (0 = never)."),
        Entry(key: "training.threads", type: "integer ≥ 0", defaultValue: "\(d.training.threads)", meaning: "BLAS threads per worker (0 = the worker's own setting)."),

        Entry(key: "knn", type: "mapping", defaultValue: "", meaning: "The KNN head (scikit-learn `KNeighborsClassifier`)."),
        Entry(key: "knn.k", type: "integer ≥ 1", defaultValue: "\(d.knn.k)", meaning: "Neighbours."),
        Entry(key: "svm", type: "mapping", defaultValue: "", meaning: "The linear SVM head (scikit-learn `SVC(kernel='linear')`: libsvm's C-SVC, one-vs-one)."),
        Entry(key: "svm.c", type: "number > 0", defaultValue: num(d.svm.c), meaning: "Regularisation parameter C."),
        Entry(key: "svm.tolerance", type: "number > 0", defaultValue: "\(d.svm.tolerance)", meaning: "Stopping tolerance."),

        Entry(key: "divergence", type: "mapping", defaultValue: "", meaning: "Layer-wise KL divergence and Euclidean distance of FT vs Base weights (paper §2.1, Table 3)."),
        Entry(key: "divergence.bins", type: "integer ≥ 1", defaultValue: "\(d.divergence.bins)", meaning: "Histogram bins of each layer's weights."),
        Entry(key: "divergence.epsilon", type: "number", defaultValue: "\(d.divergence.epsilon)", meaning: "Added to empty bins before the KL divergence."),
        Entry(key: "divergence.epsilon_on", type: "probabilities | counts", defaultValue: d.divergence.epsilonOn, meaning: "Where ε goes: added to each bin's probability then renormalised, or added to each bin's count before normalising (docs/STATISTICS.md)."),
        Entry(key: "divergence.permutations", type: "integer ≥ 0", defaultValue: "\(d.divergence.permutations)", meaning: "Draws of the paired swap test behind each layer's weight-change p-value (0 = no significance table)."),
        Entry(key: "divergence.include_biases", type: "true | false", defaultValue: "\(d.divergence.includeBiases)", meaning: "Include each layer's bias with its weights."),
        Entry(key: "divergence.ddof", type: "integer ≥ 0", defaultValue: "\(d.divergence.ddof)", meaning: "Degrees of freedom of the ± standard deviation in the tables (numpy's `ddof`)."),

        Entry(key: "lime", type: "mapping", defaultValue: "", meaning: "LIME explanations (lime 0.2.0.1 `lime_image` semantics)."),
        Entry(key: "lime.enabled", type: "true | false", defaultValue: "\(d.lime.enabled)", meaning: "Run the explanation tasks."),
        Entry(key: "lime.explain", type: "top_prediction | true_class", defaultValue: d.lime.explain, meaning: "Which class each model's explanation is for: its top prediction (lime_image's `top_labels=1`) or the image's true class."),
        Entry(key: "lime.num_samples", type: "integer ≥ 2", defaultValue: "\(d.lime.numSamples)", meaning: "Perturbed samples per explanation."),
        Entry(key: "lime.kernel_width", type: "number > 0", defaultValue: "\(d.lime.kernelWidth)", meaning: "Width of the exponential kernel on cosine distance."),
        Entry(key: "lime.batch_size", type: "integer ≥ 1", defaultValue: "\(d.lime.batchSize)", meaning: "Perturbed images per classifier call."),
        Entry(key: "lime.segmentation", type: "quickshift | slic", defaultValue: d.lime.segmentation, meaning: "Superpixel algorithm (scikit-image semantics)."),
        Entry(key: "lime.kernel_size", type: "number > 0", defaultValue: num(d.lime.kernelSize), meaning: "Quickshift kernel size."),
        Entry(key: "lime.max_dist", type: "number > 0", defaultValue: num(d.lime.maxDist), meaning: "Quickshift maximum distance."),
        Entry(key: "lime.ratio", type: "number", defaultValue: "\(d.lime.ratio)", meaning: "Quickshift colour/space ratio."),
        Entry(key: "lime.slic_segments", type: "integer ≥ 2", defaultValue: "\(d.lime.slicSegments)", meaning: "SLIC target number of segments."),
        Entry(key: "lime.slic_compactness", type: "number > 0", defaultValue: num(d.lime.slicCompactness), meaning: "SLIC compactness."),
        Entry(key: "lime.images_per_class", type: "integer ≥ 0", defaultValue: "\(d.lime.imagesPerClass)", meaning: "Test images explained per class (minority class first)."),
        Entry(key: "lime.folds", type: "list of integers", defaultValue: list(d.lime.folds), meaning: "Folds (0-based) whose test images are explained; empty = all."),
        Entry(key: "lime.stability_runs", type: "integer ≥ 0", defaultValue: "\(d.lime.stabilityRuns)", meaning: "Extra reruns with other seeds for the stability score (0 = skip)."),
        Entry(key: "lime.top_k", type: "integer ≥ 1", defaultValue: "\(d.lime.topK)", meaning: "Superpixels shown in the explanation figures."),

        Entry(key: "report", type: "mapping", defaultValue: "", meaning: "Report options."),
        Entry(key: "report.minority_class", type: "text", defaultValue: d.report.minorityClass ?? "(the rarest class)", meaning: "Class whose precision/recall Table 2 reports."),

        Entry(key: "datasets", type: "list of mappings", defaultValue: "(required)", meaning: "One entry per dataset; at least one."),
        Entry(key: "datasets[].name", type: "text", defaultValue: "(required)", meaning: "Unique dataset name."),
        Entry(key: "datasets[].path", type: "PATH", defaultValue: "—", meaning: "Image folder `ROOT/<class>/<image>` (.png, .tif/.tiff, .jpg/.jpeg, .npy); relative to the config file. Exactly one of `path` and `synthetic`."),
        Entry(key: "datasets[].synthetic", type: "multi-site | single-site", defaultValue: "—", meaning: "Generate a synthetic SAS dataset instead of reading a folder."),
        Entry(key: "datasets[].folds", type: "PATH", defaultValue: "—", meaning: "A folds file (CSV `path,fold`, 0-based folds, paths relative to the dataset root) that fixes each image's test fold; only with `path:`, not with `repeats > 1`. Written by `seafold data folds`."),
        Entry(key: "datasets[].count", type: "integer ≥ 4", defaultValue: "(the preset's)", meaning: "Synthetic image count."),
        Entry(key: "datasets[].size", type: "integer ≥ 16", defaultValue: "(the preset's)", meaning: "Synthetic image side in pixels."),
        Entry(key: "datasets[].difficulty", type: "number", defaultValue: "(the preset's)", meaning: "Synthetic class separability (lower is easier)."),
        Entry(key: "datasets[].variants", type: "list of balanced, imbalanced", defaultValue: list(ds.variants.map(\.rawValue)), meaning: "Sampling variants: class-weighted sampler (balanced) or plain shuffle (imbalanced)."),
        Entry(key: "datasets[].scaling", type: "percentile | none", defaultValue: ds.scaling, meaning: "How float images (32-bit TIFF, float .npy) map to [0, 1]: per-image 1st–99th percentile stretch, or as stored."),
    ]

    /// docs/CONFIG.md.
    public static func markdown() -> String {
        var out = """
        # Experiment config reference

        Every key of the experiment YAML (`seafold run --config FILE`), with its type, default
        and meaning. Keys are snake_case; an unknown key or a wrong type is an error naming the
        key and line. Defaults are the paper's protocol (Walker et al. §3.1); presets override
        sizes for fast runs.

        Generated from the config types — do not edit. Regenerate with
        `seafold config reference > docs/CONFIG.md`.

        | Key | Type | Default | Meaning |
        |---|---|---|---|

        """
        for e in entries {
            let def = e.defaultValue.isEmpty ? "" : "`\(e.defaultValue)`"
            out += "| `\(e.key)` | \(cell(e.type)) | \(def) | \(cell(e.meaning)) |\n"
        }
        return out
    }

    static func cell(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|") }

    /// Every key path `ConfigLoader` reads when each section in `entries` is present
    /// (dataset entries as `datasets[].key`): what the reference must cover.
    public static func keysTheLoaderReads() throws -> Set<String> {
        var sections = Set<String>()
        for e in entries where e.key.contains(".") && !e.key.hasPrefix("datasets") {
            sections.insert(String(e.key.split(separator: ".")[0]))
        }
        let yaml = sections.sorted().map { "\($0): {}" }.joined(separator: "\n") + "\ndatasets:\n  - {name: probe, synthetic: multi-site}\n"
        let recorder = YAMLKeyRecorder()
        _ = try ConfigLoader.parse(yaml, baseDirectory: nil, recorder: recorder)
        return Set(recorder.keys.map { $0.replacingOccurrences(of: #"\[[0-9]+\]"#, with: "[]", options: .regularExpression) })
    }
}
