import Foundation
import SeafoldCore

/// Where the weights every fine-tune starts from come from. The raw values are the strings
/// the config's `pretrained` key and stored task specs use.
public enum PretrainedSource: String, Codable, CaseIterable, Sendable {
    /// A pretrain task trains on the built-in synthetic source task.
    case synthetic
    /// A pretrain task writes the seeded PyTorch-default initialisation.
    case random
    /// A user's torchvision-layout weights file, imported as the `pretrained` input.
    case file
}

/// How a shard's training images are drawn each epoch: torchsampler's class-weighted sampler
/// (`balanced`) or a plain shuffle (`imbalanced`), as in the paper's two variants.
public enum SamplingVariant: String, Codable, CaseIterable, Sendable {
    case balanced, imbalanced
}

/// The optimiser of fine-tuning (PyTorch semantics: `torch.optim.Adam` / `torch.optim.SGD`).
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
    case adam, sgd
}

/// How a dataset's folds are made (`FoldSplits`): scikit-learn's shuffled `StratifiedKFold`
/// (and `RepeatedStratifiedKFold` for later repeats), its unshuffled form, or a folds file.
public enum FoldRule: String, Codable, CaseIterable, Sendable {
    case sklearn
    case sklearnUnshuffled = "sklearn-unshuffled"
    case file
}
