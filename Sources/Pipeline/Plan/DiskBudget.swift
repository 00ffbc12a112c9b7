import Datasets
import Engine
import Foundation
import SeafoldCore

/// The disk a run needs, worked out from the config and the task graph before anything runs:
/// the bytes of every file each task writes (weights, features, labels, LIME outputs,
/// checkpoints), the dataset packs (their real sizes once prepared), and allowances for the
/// ledger and the report.
///
/// - `finalBytes`: what stays in the run directory once every task is done and superseded
///   checkpoints are gone (packs and their store copies, every output of every task, ledger,
///   events, report). Outputs with equal bytes are stored once (content addressing): the
///   labels of a fold, and the baseline features of a fold whatever the sampling variant.
/// - `peakBytes`: `finalBytes` plus, for each fine-tune running at once (one per worker), its
///   newest durable checkpoint and the copy being uploaded.
/// - `budgetBytes`: what the coordinator keeps the run directory under (see `budget`).
/// - `workerCacheBytes`: one task's working set on a worker: its inputs, its local checkpoints
///   and its scratch outputs, for the largest task.
public struct DiskBudget: Codable, Equatable, Sendable {
    /// One kind of file that stays in the run directory: how many files and their total bytes.
    public struct Item: Codable, Equatable, Sendable {
        public var name: String
        public var count: Int
        public var bytes: Int64
        public init(name: String, count: Int, bytes: Int64) { self.name = name; self.count = count; self.bytes = bytes }
    }

    /// What stays, biggest first.
    public var items: [Item]
    public var finalBytes: Int64
    /// The largest fine-tune checkpoint (0 when the config writes none).
    public var checkpointBytes: Int64
    /// Every checkpoint the run writes: what the run directory would hold if none were deleted.
    public var checkpointsWrittenBytes: Int64
    public var workers: Int
    /// Fine-tunes that hold a checkpoint at the same time (at most one per worker).
    public var concurrentCheckpoints: Int
    public var peakBytes: Int64
    public var budgetBytes: Int64
    public var workerCacheBytes: Int64
    /// The task whose working set sets `workerCacheBytes`.
    public var workerCacheTask: String

    /// Checkpoints a fine-tune keeps on its worker at once: the newest saved, the one being
    /// written, and the fetched copy a resumed attempt started from.
    public static let localCheckpointsPerTask = 3

    /// The coordinator's limit for the run directory: 1.5 × the final size. A checkpoint upload
    /// that would pass it is declined and stays on its worker (which resumes from it if it gets
    /// the task back), so the limit costs at most the epochs another worker would redo after a
    /// crash; the half on top of the final size is where checkpoints live while they are worth
    /// keeping, and room for the estimate's error and the ledger's WAL.
    public static func budget(finalBytes: Int64, checkpointBytes: Int64) -> Int64 {
        finalBytes + finalBytes / 2
    }

    /// What checkpoints may take in the coordinator's store at once: the budget less the final
    /// size, since every result arrives whatever happens to checkpoints.
    public var checkpointRoomBytes: Int64 { max(0, budgetBytes - finalBytes) }

    /// Bytes the run directory must still be able to take: the peak (plus the local workers'
    /// caches when they live inside the run directory, as with `seafold run`).
    public func needBytes(workerCachesInRunDirectory: Bool) -> Int64 {
        peakBytes + (workerCachesInRunDirectory ? Int64(workers) * workerCacheBytes : 0)
    }

    // MARK: the model

    /// Estimates the run of `graph`. `packFiles` gives the real bytes of prepared pack files by
    /// dataset name and file name (missing ones are estimated from the config); `workers`
    /// defaults to the number of fine-tunes (all running at once).
    public static func estimate(config: ExperimentConfig, graph: TaskGraph, datasets: [DatasetSummary],
                                packFiles: [String: [String: Int64]] = [:], workers: Int? = nil) -> DiskBudget {
        var m = DiskBudgetModel(config: config, datasets: datasets, packFiles: packFiles)
        return m.run(graph, workers: workers)
    }

    /// `estimate` for a prepared run, with the packs' real file sizes.
    public static func estimate(_ setup: ExperimentSetup, workers: Int? = nil) -> DiskBudget {
        var files: [String: [String: Int64]] = [:]
        for p in setup.datasets {
            let dir = p.directory
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for n in names { files[p.summary.name, default: [:]][n] = fileBytes(dir.appendingPathComponent(n)) }
        }
        return estimate(config: setup.config, graph: setup.graph, datasets: setup.datasets.map(\.summary), packFiles: files, workers: workers)
    }

    /// Float32 parameters of the network for `classes` outputs.
    public static func parameterCount(_ network: ModelConfig, classes: Int) -> Int {
        stateShapes(network, classes: classes).values.reduce(0) { $0 + $1.reduce(1, *) }
    }

    /// The shapes of the network's state dict (torchvision AlexNet keys), from the layer list.
    public static func stateShapes(_ network: ModelConfig, classes: Int) -> [String: [Int]] {
        let ch = AlexNetConfig(network, numClasses: classes).channels
        var shapes: [String: [Int]] = [:]
        var cin = 3
        for (i, (k, cout)) in zip([0, 3, 6, 8, 10], zip([11, 5, 3, 3, 3], ch)) {
            shapes["features.\(i).weight"] = [cout, cin, k, k]
            shapes["features.\(i).bias"] = [cout]
            cin = cout
        }
        // The adaptive average pool always gives 6 × 6, whatever the input size.
        let flat = ch[4] * 36, h = network.hiddenWidth
        for (name, i, o) in [("classifier.1", flat, h), ("classifier.4", h, h), ("classifier.6", h, classes)] {
            shapes[name + ".weight"] = [o, i]
            shapes[name + ".bias"] = [o]
        }
        return shapes
    }

    /// A checkpoint of `NetworkTraining` after `epochs` epochs: the weights, the optimizer's
    /// state (Adam: two moments and a step count per tensor; SGD: one momentum buffer) and the
    /// metadata (RNG states, the curve so far as JSON).
    public static func checkpointSize(_ network: ModelConfig, classes: Int, optimizer: OptimizerKind, epochs: Int) -> Int64 {
        let weights = stateShapes(network, classes: classes)
        var shapes = weights
        for (k, s) in weights {
            let n = s.reduce(1, *)
            if optimizer == .sgd {
                shapes["optimizer.\(k).momentum_buffer"] = [n]
            } else {
                shapes["optimizer.\(k).exp_avg"] = [n]
                shapes["optimizer.\(k).exp_avg_sq"] = [n]
                shapes["optimizer.\(k).step"] = [1]
            }
        }
        // RNG states at their longest (four 20-digit words); a curve entry of typical length.
        let rng = Array(repeating: String(UInt64.max), count: 4).joined(separator: ",")
        let curve = (1...max(1, epochs)).map { EpochStats(epoch: $0, loss: 0.1234567890123456, accuracy: 0.1234567890123456) }
        let curveJSON = String(decoding: (try? TaskRunner.encode(Array(curve.prefix(epochs)))) ?? Data(), as: UTF8.self)
        let meta = ["epoch": String(epochs), "sampler_rng": rng, "dropout_rng": rng, "curve": curveJSON]
        return Int64(Safetensors.fileSize(shapes: shapes, metadata: meta))
    }

    /// The size of a file (0 if it does not exist).
    static func fileBytes(_ url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// The bytes of the files under `directory` (recursively; symbolic links not followed).
    public static func bytesUnder(_ directory: URL) -> Int64 {
        guard let e = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey]) else { return 0 }
        var total: Int64 = 0
        for case let url as URL in e {
            guard let v = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]), v.isRegularFile == true else { continue }
            total += Int64(v.fileSize ?? 0)
        }
        return total
    }
}
