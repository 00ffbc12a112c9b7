/// Built-in experiments. Each is YAML text parsed by `ConfigLoader`, so the run directory's
/// frozen `experiment.yaml` is exactly what ran.
public enum Presets {
    public static let names = ["smoke", "demo", "paper"]

    public static func yaml(_ name: String) -> String? {
        switch name {
        case "smoke": return smoke
        case "demo": return demo
        case "paper": return paper
        default: return nil
        }
    }

    /// Seconds: tiny synthetic data, a narrow AlexNet at 63 px, few epochs. Used by tests.
    public static let smoke = """
    name: smoke
    seed: 7
    folds: 3
    pretrained: synthetic
    pretraining: {classes: 8, images_per_class: 12, epochs: 2, lr: 0.001, batch_size: 16}
    model: {width_multiplier: 0.125, input_size: 63, hidden_width: 64}
    training: {lr: 0.0005, batch_size: 6, epochs: 3, head_epochs: 5, checkpoint_every: 1}
    datasets:
      - {name: multi-site, synthetic: multi-site, count: 24, size: 64, variants: [imbalanced]}
      - {name: single-site, synthetic: single-site, count: 64, size: 48, variants: [balanced, imbalanced]}
    lime: {num_samples: 40, images_per_class: 1, folds: [0], stability_runs: 1, batch_size: 40, segmentation: slic, slic_segments: 20}
    """

    /// The default experiment: both synthetic datasets, both variants, 3 folds, a scaled AlexNet
    /// at a small input size. Finishes in minutes on a 2-core machine with 2 local workers.
    public static let demo = """
    name: demo
    seed: 2021
    folds: 3
    pretrained: synthetic
    pretraining: {classes: 32, images_per_class: 80, epochs: 10, lr: 0.001, batch_size: 32}
    model: {width_multiplier: 0.25, input_size: 64, hidden_width: 512}
    training: {lr: 0.0001, batch_size: 6, epochs: 20, head_epochs: 30, checkpoint_every: 5}
    datasets:
      - {name: multi-site, synthetic: multi-site, count: 118, size: 128, variants: [imbalanced]}
      - {name: single-site, synthetic: single-site, count: 480, size: 64, variants: [balanced, imbalanced]}
    lime: {num_samples: 300, images_per_class: 1, folds: [0], stability_runs: 1, segmentation: slic, slic_segments: 40}
    """

    /// The paper's protocol (§3.1): full AlexNet at 224 px, Adam lr 1e-4, batch 6, 100 epochs,
    /// FC head 30 epochs, 3 folds, multi-site plus single-site balanced and imbalanced. Meant for
    /// a cluster: about a day of CPU on one 2-core machine. Use `pretrained: PATH` with ImageNet
    /// weights (scripts/export_torchvision_alexnet.py) to match the paper exactly.
    public static let paper = """
    name: paper
    seed: 2021
    folds: 3
    pretrained: synthetic
    pretraining: {classes: 32, images_per_class: 225, epochs: 30, lr: 0.0005, batch_size: 32}
    model: {width_multiplier: 1.0, input_size: 224, hidden_width: 4096}
    training: {lr: 0.0001, batch_size: 6, epochs: 100, head_epochs: 30, checkpoint_every: 5}
    datasets:
      - {name: multi-site, synthetic: multi-site, count: 118, size: 256, variants: [imbalanced]}
      - {name: single-site, synthetic: single-site, count: 2962, size: 96, variants: [balanced, imbalanced]}
    lime: {num_samples: 1000, images_per_class: 2, folds: [0, 1, 2], stability_runs: 2}
    """
}
