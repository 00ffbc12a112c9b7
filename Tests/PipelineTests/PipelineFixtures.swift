import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import TestSupport
import XCTest

/// Small experiments for the pipeline's evidence and bad-input tests: a narrow AlexNet at the
/// minimum input size, a few dozen synthetic images, a few epochs. Every test builds its run
/// directory with `ExperimentSetup.prepare` in a fresh temporary directory.
enum Tiny {
    /// A one-dataset experiment (LIME off). `extra` lines are appended at the top level.
    static func yaml(seed: UInt64 = 11, pretrained: String = "random", dataset: String = "multi-site", count: Int = 24, size: Int = 32,
                     difficulty: Double = 0.1, variant: String = "balanced", hidden: Int = 32, lr: Double = 0.001,
                     epochs: Int = 4, headEpochs: Int = 3, checkpointEvery: Int = 1, dropout: Double = 0.5,
                     path: String? = nil, extra: String = "") -> String {
        let data = path.map { "{name: ds, path: '\($0)', variants: [\(variant)]}" }
            ?? "{name: ds, synthetic: \(dataset), count: \(count), size: \(size), difficulty: \(difficulty), variants: [\(variant)]}"
        return """
        name: tiny
        seed: \(seed)
        folds: 3
        pretrained: \(pretrained)
        pretraining: {classes: 6, images_per_class: 8, epochs: 2, lr: 0.001, batch_size: 16}
        model: {width_multiplier: 0.125, input_size: 63, hidden_width: \(hidden), dropout: \(dropout)}
        training: {lr: \(lr), batch_size: 6, epochs: \(epochs), head_epochs: \(headEpochs), checkpoint_every: \(checkpointEvery)}
        datasets:
          - \(data)
        lime: {enabled: false}
        \(extra)
        """
    }
}

extension Tiny {
    /// "Pretrained" weights for the tiny network in torchvision layout: the seeded PyTorch-default
    /// weights scaled by √6 (Kaiming-uniform with ReLU gain: U(±√6/√fan_in)) and zero biases, so
    /// that the input signal reaches the penultimate layer. (With PyTorch's default
    /// kaiming_uniform(a=√5) every layer shrinks the signal's variance about sixfold and the
    /// tiny random network's features are nearly constant: a poor start for a fine-tune.)
    static func writeSignalPreservingWeights(to url: URL, hidden: Int, seed: UInt64 = 1) throws {
        let model = try AlexNet(config: AlexNetConfig(numClasses: 4, widthMultiplier: 0.125, inputSize: 63, hiddenWidth: hidden), seed: seed)
        var state = model.stateDict()
        for (key, t) in state {
            let scale: Float = key.hasSuffix(".bias") ? 0 : Float(6).squareRoot()
            state[key] = Tensor(shape: t.shape, data: t.scalars.map { $0 * scale })
        }
        try Safetensors.write(state, metadata: ["source": "seafold tests"], to: url)
    }
}

/// A directory named `name` inside a fresh temporary directory removed when the test ends.
func temporaryDirectory(_ test: XCTestCase, _ name: String = "run") throws -> URL {
    let dir = try test.makeTemporaryDirectory("seafold-pipeline-tests").appendingPathComponent(name)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// A prepared run directory: its setup (config, packs, graph) and a local executor over it.
struct Workspace {
    let setup: ExperimentSetup
    let executor: LocalExecutor
    var graph: TaskGraph { setup.graph }

    init(_ test: XCTestCase, yaml: String) throws {
        let dir = try temporaryDirectory(test)
        setup = try ExperimentSetup.prepare(yaml: yaml, runDirectory: dir)
        executor = LocalExecutor(runDirectory: dir)
    }

    /// The only task of `kind` on fold `fold` (and, for heads, of that model and head).
    func task(_ kind: TaskKind, fold: Int = 0, variant: SamplingVariant? = nil, model: ModelKind? = nil, head: HeadKind? = nil) throws -> PlannedTask {
        let found = graph.tasks.filter {
            $0.kind == kind && (kind == .pretrain || $0.spec.shard?.fold == fold)
                && (variant == nil || $0.spec.shard?.variant == variant)
                && (model == nil || $0.spec.model == model) && (head == nil || $0.spec.head == head)
        }
        guard found.count == 1 else { throw SeafoldError.message("expected one \(kind) task on fold \(fold), found \(found.count)") }
        return found[0]
    }

    /// Runs (with the local executor) every task `task` depends on, transitively, but not the task.
    func runDependencies(of task: PlannedTask) throws {
        for id in task.dependencies {
            guard let dep = graph.task(id) else { throw SeafoldError.message("unknown dependency \(id)") }
            try runDependencies(of: dep)
            _ = try executor.runOne(dep)
        }
    }

    /// A fresh `TestIO` for `task` whose checkpoints live in `directory` (default: a new one).
    func io(for task: PlannedTask, directory: URL? = nil, _ test: XCTestCase) throws -> TestIO {
        try TestIO(inputs: task.inputs.mapValues { executor.resolve($0) }, directory: directory ?? temporaryDirectory(test, "io"))
    }
}

/// The crash `TestIO` simulates: thrown right after a checkpoint is stored.
struct SimulatedCrash: Error, Equatable { var afterSave: Int }

/// A `TaskIO` that keeps its checkpoints in its own directory, records progress messages, and
/// can crash the task right after its n-th checkpoint was stored (as a killed worker would,
/// except that the stored checkpoint survives).
final class TestIO: TaskIO {
    let inputs: [String: URL]
    let directory: URL
    private(set) var scratchDirectory: URL
    /// Throw `SimulatedCrash` right after storing the n-th checkpoint (1-based, counted over
    /// the IO's life); cleared once thrown.
    var crashAfterSave: Int?
    private(set) var saves = 0
    private(set) var messages: [String] = []
    private var scratchCount = 0

    init(inputs: [String: URL], directory: URL) throws {
        self.inputs = inputs
        self.directory = directory
        scratchDirectory = directory
        try restart()
    }

    var checkpointURL: URL { directory.appendingPathComponent("checkpoints/latest.safetensors") }
    var checkpoint: CheckpointFile { CheckpointFile(checkpointURL) }

    /// A new scratch directory and message log, as a restarted worker would have.
    func restart() throws {
        scratchCount += 1
        scratchDirectory = directory.appendingPathComponent("scratch-\(scratchCount)")
        try FileManager.default.createDirectory(at: scratchDirectory, withIntermediateDirectories: true)
        messages = []
    }

    func input(_ name: String) throws -> URL {
        guard let url = inputs[name], FileManager.default.fileExists(atPath: url.path) else {
            throw SeafoldError.io(path: name, reason: "test input '\(name)' is missing")
        }
        return url
    }

    func hasInput(_ name: String) -> Bool { inputs[name].map { FileManager.default.fileExists(atPath: $0.path) } ?? false }

    func progress(_ fraction: Double, _ message: String) { messages.append(message) }

    func saveCheckpoint(_ file: URL) throws {
        try checkpoint.store(file, copy: true)
        saves += 1
        if let n = crashAfterSave, saves == n {
            crashAfterSave = nil
            throw SimulatedCrash(afterSave: n)
        }
    }

    func latestCheckpoint() throws -> URL? { checkpoint.latest() }

    /// The epochs named in "… epoch E/N …" progress messages, in order.
    var epochMessages: [Int] {
        messages.compactMap { m in
            guard let r = m.range(of: #"epoch (\d+)/\d+"#, options: .regularExpression) else { return nil }
            return Int(m[r].dropFirst("epoch ".count).split(separator: "/")[0])
        }
    }
}

func fileBytes(_ url: URL?) throws -> Data {
    guard let url else { throw SeafoldError.message("no such artifact") }
    return try Data(contentsOf: url)
}
