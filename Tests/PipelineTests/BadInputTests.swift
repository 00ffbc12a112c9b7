import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Issue 4, Bad input: a missing folder, weights with wrong layer shapes, a NaN or exploding
/// loss — each a clear error naming what is wrong, and nothing already finished is lost.
final class BadInputTests: XCTestCase {
    // MARK: missing folder / file

    func testMissingDatasetFolderNamesDatasetAndPath() throws {
        let dir = try temporaryDirectory(self)
        let missing = dir.appendingPathComponent("no-such-sonar-folder").path
        XCTAssertThrowsError(try ExperimentSetup.prepare(yaml: Tiny.yaml(path: missing), runDirectory: dir)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("datasets[ds].path"), s)
            XCTAssertTrue(s.contains(missing), s)
            XCTAssertTrue(s.contains("does not exist"), s)
        }
    }

    func testMissingWeightsFileNamesThePath() throws {
        let dir = try temporaryDirectory(self)
        let missing = dir.appendingPathComponent("imagenet_alexnet.safetensors").path
        XCTAssertThrowsError(try ExperimentSetup.prepare(yaml: Tiny.yaml(pretrained: missing), runDirectory: dir)) { e in
            let s = "\(e)"
            XCTAssertTrue(s.contains("'pretrained'"), s)
            XCTAssertTrue(s.contains(missing), s)
        }
    }

    // MARK: weights of the wrong shape

    /// Pretrained weights in torchvision layout but for another network (features.0 with 5×5
    /// kernels): the fine-tune and the baseline stop, naming the file, the key and both shapes.
    func testPretrainedWeightsWithWrongLayerShapeNameKeyAndShapes() throws {
        let dir = try temporaryDirectory(self, "weights")
        let url = dir.appendingPathComponent("wrong.safetensors")
        let model = try AlexNet(config: AlexNetConfig(numClasses: 1000, widthMultiplier: 0.125, inputSize: 63, hiddenWidth: 32), seed: 1)
        var state = model.stateDict()
        let good = try XCTUnwrap(state["features.0.weight"]).shape
        XCTAssertEqual(good, [8, 3, 11, 11])
        state["features.0.weight"] = Tensor(zeros: [8, 3, 5, 5])
        try Safetensors.write(state, to: url)

        let ws = try Workspace(self, yaml: Tiny.yaml(pretrained: url.path))
        XCTAssertFalse(ws.graph.tasks.contains { $0.kind == .pretrain }, "a weights file replaces the pretrain task")
        for kind in [TaskKind.finetune, .baseline] {
            XCTAssertThrowsError(try ws.executor.runOne(try ws.task(kind))) { e in
                let s = "\(e)"
                XCTAssertTrue(s.contains("features.0.weight"), s)
                XCTAssertTrue(s.contains("[8, 3, 11, 11]"), "expected shape named: \(s)")
                XCTAssertTrue(s.contains("[8, 3, 5, 5]"), "found shape named: \(s)")
                XCTAssertTrue(s.contains(url.path), "the file is named: \(s)")
            }
        }

        // A layer missing altogether is named too.
        state["features.0.weight"] = model.stateDict()["features.0.weight"]
        state["classifier.4.weight"] = nil
        try Safetensors.write(state, to: url)
        let ws2 = try Workspace(self, yaml: Tiny.yaml(pretrained: url.path))
        XCTAssertThrowsError(try ws2.executor.runOne(try ws2.task(.finetune))) { e in
            XCTAssertTrue("\(e)".contains("classifier.4.weight"), "\(e)")
        }
    }

    // MARK: NaN / exploding loss

    /// An absurd learning rate: the fine-tune stops with `diverged`, naming the epoch and step;
    /// the tasks that finished before (the pretrain) keep their results.
    func testExplodingLossStopsFineTuneNamingEpochAndStep() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(lr: 1e6, epochs: 3))
        let ft = try ws.task(.finetune)
        let pre = try ws.task(.pretrain)
        let (completed, incomplete) = ws.executor.run(TaskGraph(tasks: [pre, ft]))
        XCTAssertEqual(completed.map(\.task.id), [pre.id], "the pretrain finished and is kept")
        let failure = try XCTUnwrap(incomplete.first { $0.task.id == ft.id })
        XCTAssertTrue(failure.reason.contains("training diverged"), failure.reason)
        XCTAssertTrue(failure.reason.contains("finetune \(try XCTUnwrap(ft.spec.shard))"), failure.reason)
        XCTAssertNotNil(failure.reason.range(of: #"at epoch \d+, step \d+"#, options: .regularExpression), failure.reason)
        XCTAssertTrue(FileManager.default.fileExists(atPath: ws.executor.taskDirectory(pre.id).appendingPathComponent("result.json").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: ws.executor.taskDirectory(ft.id).appendingPathComponent("result.json").path))
    }

    /// A fine-tune that diverges after its epoch-2 checkpoint (the learning rate is raised to an
    /// absurd value for the restarted run): the error names epoch 3, the epoch-2 checkpoint is
    /// still there, unchanged, and a sane restart resumes from it.
    func testDivergenceAfterACheckpointKeepsIt() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(epochs: 4, checkpointEvery: 1))
        let ft = try ws.task(.finetune)
        try ws.runDependencies(of: ft)
        let io = try ws.io(for: ft, self)
        io.crashAfterSave = 2
        XCTAssertThrowsError(try TaskRunner.run(spec: ft.spec, io: io))
        let checkpoint = try fileBytes(try io.latestCheckpoint())

        var wild = ft.spec
        wild.network?.training.lr = 1e6
        try io.restart()
        XCTAssertThrowsError(try TaskRunner.run(spec: wild, io: io)) { e in
            guard case SeafoldError.diverged = e else { return XCTFail("expected diverged, got \(e)") }
            let s = "\(e)"
            XCTAssertTrue(s.contains("at epoch 3, step "), s)
            XCTAssertTrue(s.contains("checkpoint is kept"), s)
        }
        XCTAssertEqual(io.saves, 2, "nothing was saved after the divergence")
        XCTAssertEqual(try fileBytes(try io.latestCheckpoint()), checkpoint, "the last good checkpoint is intact")

        try io.restart()
        let out = try TaskRunner.run(spec: ft.spec, io: io)
        XCTAssertEqual(io.epochMessages, [3, 4])
        let curve = try JSONDecoder().decode(NetworkResult.self, from: out.result).curve.epochs
        XCTAssertEqual(curve.map(\.epoch), [1, 2, 3, 4])
        XCTAssertTrue(curve.allSatisfy { $0.loss.isFinite })
    }

    /// A NaN loss (here: a NaN injected into the output layer at epoch 2, step 2) is refused by
    /// `Trainer.step`; the training loop reports where it happened and keeps the epoch-1 checkpoint.
    func testNaNLossNamesEpochAndStepAndKeepsCheckpoint() throws {
        let model = try AlexNet(config: AlexNetConfig(numClasses: 3, widthMultiplier: 0.125, inputSize: 63, hiddenWidth: 32), seed: 3)
        let adam = Adam(lr: 1e-3)
        let trainer = try Trainer(model: model, optimizer: adam, trainable: nil)
        var loop = NetworkTraining(model: model, trainer: trainer, optimizer: adam, epochs: 3, batchSize: 6, checkpointEvery: 1,
                                   samplerRNG: SeededGenerator(seed: 1), dropoutRNG: SeededGenerator(seed: 2))
        // The fault is injected from the batch closure, which must then run just before its step
        // on the training thread: no prefetch thread (which would call it ahead, concurrently).
        loop.prefetchDepth = 0
        let io = try TestIO(inputs: [:], directory: try temporaryDirectory(self, "io"))
        var rng = SeededGenerator(seed: 4)
        let images = (0..<(12 * 3 * 63 * 63)).map { _ in rng.uniform(-1, 1) }
        var calls = 0
        var checkpointAtInjection: Data?
        do {
            try loop.run(io: io, label: "nan test", order: { r in r.permutation(12) }, batch: { idx in
            calls += 1
            if calls == 4 {  // epoch 2, step 2 (two batches of 6 per epoch)
                checkpointAtInjection = try? fileBytes(try? io.latestCheckpoint())
                var s = model.stateDict()
                s["classifier.6.bias"] = Tensor(shape: [3], data: [.nan, 0, 0])
                try? model.load(stateDict: s)
            }
            var x: [Float] = []
            for i in idx { x += images[(i * 3 * 63 * 63)..<((i + 1) * 3 * 63 * 63)] }
            return (Tensor(shape: [idx.count, 3, 63, 63], data: x), idx.map { $0 % 3 })
            })
            XCTFail("a NaN loss must stop training")
        } catch let e as SeafoldError {
            guard case .diverged = e else { return XCTFail("expected diverged, got \(e)") }
            let s = "\(e)"
            XCTAssertTrue(s.contains("nan test"), s)
            XCTAssertTrue(s.contains("nan at epoch 2, step 2"), s)
        }
        XCTAssertEqual(loop.curve.count, 1, "one epoch finished")
        XCTAssertEqual(io.saves, 1)
        let kept = try XCTUnwrap(try io.latestCheckpoint())
        XCTAssertEqual(try Data(contentsOf: kept), checkpointAtInjection, "the epoch-1 checkpoint is unchanged")
        let (tensors, meta) = try Safetensors.read(from: kept)
        XCTAssertEqual(meta["epoch"], "1")
        XCTAssertTrue(try XCTUnwrap(tensors["classifier.6.bias"]).scalars.allSatisfy(\.isFinite))
    }
}

/// A completed task whose result JSON does not decode used to vanish from the report (`try?`);
/// it is now a gap that names the task.
final class UnreadableResultTests: XCTestCase {
    func testUndecodableResultIsAGapNamingTheTask() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml())
        let ft = try ws.task(.finetune)
        let results = ws.setup.results(completed: [CompletedTask(task: ft, result: Data("{\"not\": \"a result\"}".utf8), artifacts: [:])],
                                       incomplete: [], timeline: [], softwareVersion: "test")
        let gap = try XCTUnwrap(results.missing.first { $0.reason.contains(ft.id) }, "\(results.missing)")
        XCTAssertTrue(gap.reason.contains("does not decode"), gap.reason)
    }
}
