import Foundation
import TestSupport
import XCTest

/// The paper's full AlexNet (width 1.0, hidden 4096: 57 M parameters, ~0.7 GB checkpoints with
/// Adam's moments) through a coordinator and two workers as separate processes, checkpointing
/// every epoch, while another process keeps one core busy. No worker may be declared lost, no
/// result may be stale, every task runs exactly once, and the run directory stays within 1.5×
/// its final size. Only the input is small (63 px) and the dataset tiny, to fit CI. Six
/// fine-tunes make the final size large enough (1.5× it leaves room for one 0.7 GB checkpoint)
/// that checkpoints do go through the coordinator.
final class PaperScaleTests: XCTestCase {
    static let yaml = """
    name: paper-scale
    seed: 11
    folds: 3
    pretrained: random
    model: {width_multiplier: 1.0, input_size: 63, hidden_width: 4096}
    training: {lr: 0.0001, batch_size: 6, epochs: 3, head_epochs: 3, checkpoint_every: 1}
    datasets:
      - {name: tiny, synthetic: multi-site, count: 24, size: 64, variants: [balanced, imbalanced]}
    lime: {enabled: false}
    """

    /// Sizes of the files under `dir` (a walk; files may vanish while it runs).
    static func bytes(under dir: URL) -> Int64 {
        guard let e = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        var sum: Int64 = 0
        for case let u as URL in e {
            guard let v = try? u.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), v.isRegularFile == true else { continue }
            sum += Int64(v.fileSize ?? 0)
        }
        return sum
    }

    func testFullWidthAlexNetThroughTheClusterOnALoadedMachine() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-paperscale")
        let cfg = dir.appendingPathComponent("paper-scale.yaml")
        try Self.yaml.write(to: cfg, atomically: true, encoding: .utf8)
        let run = dir.appendingPathComponent("run")
        let port = CLI.freePort()

        // Another process keeps one core busy for the whole run.
        let busy = try ChildProcess.start(URL(fileURLWithPath: "/bin/sh"), ["-c", "while :; do :; done"])
        defer { busy.terminate(); busy.waitUntilExit() }

        let coordinator = try CLI.start(["coordinator", "--config", cfg.path, "--run-dir", run.path, "--bind", "tcp://127.0.0.1:\(port)"],
                                        log: dir.appendingPathComponent("coordinator.log"))
        var workers: [Process] = []
        defer { for w in workers where w.isRunning { w.terminate() }; if coordinator.isRunning { coordinator.terminate() } }
        // Authenticated as the manifests run it: the key-less coordinator makes RUN/keys, and
        // every worker uses its `worker` key (ids stay unique: NAME-<random>).
        let keys = run.appendingPathComponent("keys")
        XCTAssertTrue(waitUntil(300, every: 0.1) { FileManager.default.fileExists(atPath: keys.appendingPathComponent("worker.key").path) || !coordinator.isRunning })
        for n in ["w1", "w2"] {
            workers.append(try CLI.start(["worker", "--connect", "tcp://127.0.0.1:\(port)", "--name", "worker", "--keys", keys.path, "--threads", "1",
                                          "--cache", dir.appendingPathComponent("cache-\(n)").path],
                                         log: dir.appendingPathComponent("\(n).log")))
        }
        // Sample the run directory's size while it runs.
        var peak: Int64 = 0
        let deadline = Date().addingTimeInterval(900)
        while coordinator.isRunning && Date() < deadline {
            peak = max(peak, Self.bytes(under: run))
            usleep(100_000)
        }
        if coordinator.isRunning { coordinator.terminate(); XCTFail("the run did not finish within 900 s") }
        coordinator.waitUntilExit()
        let log = (try? String(contentsOf: dir.appendingPathComponent("coordinator.log"), encoding: .utf8)) ?? ""
        XCTAssertEqual(coordinator.terminationStatus, 0, String(log.suffix(3000)))

        struct Event: Decodable { var kind: String; var task: String?; var worker: String?; var detail: String }
        let events = try String(contentsOf: run.appendingPathComponent("events.jsonl"), encoding: .utf8)
            .split(separator: "\n").map { try JSONDecoder().decode(Event.self, from: Data($0.utf8)) }
        let bad = events.filter { ["worker-lost", "worker-reconnected", "stale", "lease-lost", "requeued", "attempt-failed"].contains($0.kind) }
        XCTAssertEqual(bad.map { "\($0.kind) \($0.worker ?? "") \($0.detail)" }, [], "liveness held and nothing ran twice")
        let submitted = Set(events.filter { $0.kind == "submitted" }.compactMap(\.task))
        let done = events.filter { $0.kind == "done" }.compactMap(\.task)
        XCTAssertEqual(done.count, submitted.count, "one done per task")
        XCTAssertEqual(Set(done), submitted)
        XCTAssertEqual(events.filter { $0.kind == "leased" }.count, submitted.count, "every task leased exactly once")
        XCTAssertGreaterThan(events.filter { $0.kind == "checkpoint" }.count, 0, "checkpoints went through the coordinator")

        let final = Self.bytes(under: run)
        XCTAssertGreaterThan(final, 400_000_000, "full-width weights are in the store")
        XCTAssertLessThanOrEqual(Double(peak), 1.5 * Double(final),
                                 "run directory peaked at \(peak) bytes, final \(final): over 1.5×")
        print("paper-scale: \(submitted.count) tasks, run directory peak \(peak / 1_000_000) MB, final \(final / 1_000_000) MB, \(events.filter { $0.kind == "checkpoint" }.count) checkpoints stored")
    }
}
