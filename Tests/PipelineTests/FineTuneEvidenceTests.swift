import Engine
import Foundation
@testable import Pipeline
import SeafoldCore
import XCTest

/// Issue 4, Evidence: a fine-tune learns, and a fine-tune resumed from a mid-run checkpoint ends
/// with bit-identical weights to an uninterrupted one.
final class FineTuneEvidenceTests: XCTestCase {
    /// Multi-site synthetic data without class overlap (difficulty 0), 36 images (24 for training
    /// on fold 0, 12 for test), starting from signal-preserving "pretrained" weights (see
    /// `Tiny.writeSignalPreservingWeights`; from the PyTorch-default random init the tiny network
    /// barely moves in a few epochs), dropout 0, Adam lr 1e-3, 16 epochs.
    func testFineTuneLossFallsAndAccuracyBeatsChance() throws {
        let weights = try temporaryDirectory(self, "weights").appendingPathComponent("pretrained.safetensors")
        try Tiny.writeSignalPreservingWeights(to: weights, hidden: 64)
        let ws = try Workspace(self, yaml: Tiny.yaml(seed: 13, pretrained: weights.path, count: 36, difficulty: 0, variant: "imbalanced",
                                                     hidden: 64, lr: 0.001, epochs: 16, checkpointEvery: 0, dropout: 0))
        let ft = try ws.task(.finetune)
        let done = try ws.executor.runOne(ft)
        let r = try JSONDecoder().decode(NetworkResult.self, from: done.result)
        let curve = r.curve.epochs
        XCTAssertEqual(curve.map(\.epoch), Array(1...16))
        let first = try XCTUnwrap(curve.first), last = try XCTUnwrap(curve.last)
        let classes = Double(r.output.classes.count), chance = 1 / classes
        XCTAssertEqual(classes, 4)
        // The loss falls, and not merely to the uniform guess's log(C): the network learned.
        XCTAssertLessThan(last.loss, first.loss, "training loss per epoch: \(curve.map(\.loss))")
        XCTAssertLessThan(last.loss, 0.6 * log(classes), "training loss per epoch: \(curve.map(\.loss))")
        XCTAssertGreaterThanOrEqual(last.accuracy, 0.75, "training accuracy per epoch: \(curve.map(\.accuracy))")
        // On the 12 held-out images the output layer beats chance (3 of 12) clearly.
        XCTAssertEqual(r.output.labels.count, 12)
        XCTAssertGreaterThanOrEqual(r.output.accuracy, chance + 2.0 / 12, "test accuracy \(r.output.accuracy) vs chance \(chance)")
        XCTAssertEqual(r.output.accuracy, Double(zip(r.output.labels, r.output.predictions).filter { $0 == $1 }.count) / 12, accuracy: 1e-12)
        // The written weights are the fine-tuned network's, not the pretrained ones.
        let w = try Safetensors.read(from: try XCTUnwrap(done.artifacts["weights.safetensors"])).tensors
        let pre = try Safetensors.read(from: weights).tensors
        XCTAssertNotEqual(w["features.0.weight"], pre["features.0.weight"])
    }

    /// Uninterrupted run A vs. a run that crashes right after its epoch-2 checkpoint and is then
    /// restarted with the same checkpoint store: equal weights, features, result JSON — bit for bit.
    func testResumedFineTuneIsBitIdenticalToUninterrupted() throws {
        let ws = try Workspace(self, yaml: Tiny.yaml(variant: "balanced", epochs: 4, checkpointEvery: 1))
        let ft = try ws.task(.finetune)
        try ws.runDependencies(of: ft)

        let ioA = try ws.io(for: ft, self)
        let a = try TaskRunner.run(spec: ft.spec, io: ioA)
        XCTAssertEqual(ioA.epochMessages, [1, 2, 3, 4])
        XCTAssertEqual(ioA.saves, 3, "checkpoints after epochs 1, 2 and 3 (none after the last)")

        let ioB = try ws.io(for: ft, self)
        ioB.crashAfterSave = 2
        XCTAssertThrowsError(try TaskRunner.run(spec: ft.spec, io: ioB)) { e in
            XCTAssertEqual(e as? SimulatedCrash, SimulatedCrash(afterSave: 2))
        }
        XCTAssertEqual(ioB.epochMessages, [1, 2], "the crash comes right after the epoch-2 checkpoint")
        let stored = try Safetensors.read(from: try XCTUnwrap(try ioB.latestCheckpoint()))
        XCTAssertEqual(stored.metadata["epoch"], "2")

        try ioB.restart()
        let b = try TaskRunner.run(spec: ft.spec, io: ioB)
        XCTAssertEqual(ioB.epochMessages, [3, 4], "the restarted task trains only the remaining epochs")
        XCTAssertTrue(ioB.messages.contains { $0.contains("resumed from epoch 2") }, "\(ioB.messages)")
        XCTAssertEqual(ioB.saves, 3)

        let wA = try fileBytes(a.artifacts["weights.safetensors"]), wB = try fileBytes(b.artifacts["weights.safetensors"])
        XCTAssertEqual(wA, wB, "resumed weights must equal the uninterrupted run's bit for bit")
        for name in ["features_train.npy", "features_test.npy", "labels_train.npy", "labels_test.npy"] {
            XCTAssertEqual(try fileBytes(a.artifacts[name]), try fileBytes(b.artifacts[name]), name)
        }
        XCTAssertEqual(a.result, b.result, "the result JSON (curve included) is the same")

        // The comparison can fail: a run whose checkpoint lost the sampler/dropout streams (here:
        // resumed with the streams of a fresh start) ends elsewhere.
        let ioC = try ws.io(for: ft, self)
        ioC.crashAfterSave = 2
        XCTAssertThrowsError(try TaskRunner.run(spec: ft.spec, io: ioC))
        try tamperCheckpoint(ioC.checkpointURL)
        try ioC.restart()
        let c = try TaskRunner.run(spec: ft.spec, io: ioC)
        XCTAssertNotEqual(wA, try fileBytes(c.artifacts["weights.safetensors"]))
    }

    /// Rewrites a checkpoint with its sampler RNG state replaced by a different stream.
    private func tamperCheckpoint(_ url: URL) throws {
        let (tensors, original) = try Safetensors.read(from: url)
        var meta = original
        meta["sampler_rng"] = SeededGenerator(seed: 999).state.map(String.init).joined(separator: ",")
        try Safetensors.write(tensors, metadata: meta, to: url)
    }
}
