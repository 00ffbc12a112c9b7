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
        var m = Model(config: config, datasets: datasets, packFiles: packFiles)
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

/// The per-task arithmetic behind `DiskBudget.estimate`.
private struct Model {
    let config: ExperimentConfig
    let datasets: [String: DatasetSummary]
    let packFiles: [String: [String: Int64]]
    /// Output bytes by task id and output name.
    var outputs: [String: [String: Int64]] = [:]
    /// Outputs that are the same bytes in several tasks, counted once: key → bytes.
    var shared: [String: Int64] = [:]
    var items: [String: DiskBudget.Item] = [:]
    var itemOrder: [String] = []

    init(config: ExperimentConfig, datasets: [DatasetSummary], packFiles: [String: [String: Int64]]) {
        self.config = config
        self.datasets = Dictionary(datasets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.packFiles = packFiles
    }

    mutating func add(_ name: String, _ bytes: Int64, count: Int = 1) {
        if items[name] == nil { itemOrder.append(name); items[name] = DiskBudget.Item(name: name, count: 0, bytes: 0) }
        items[name]!.count += count
        items[name]!.bytes += bytes
    }

    /// Adds an output stored under a content key: equal keys are equal bytes, stored once.
    mutating func addShared(_ item: String, key: String, _ bytes: Int64) {
        guard shared[key] == nil else { return }
        shared[key] = bytes
        add(item, bytes)
    }

    // MARK: packs

    func packConfig(_ name: String) -> DatasetConfig? { config.datasets.first { $0.name == name } }

    func imageCount(_ name: String) -> Int {
        if let d = datasets[name] { return d.labels.count }
        let c = packConfig(name)
        return c?.count ?? (c?.synthetic == "multi-site" ? 118 : 2962)
    }

    /// A pack file's bytes: the real file when prepared, else from its shape.
    func packFile(_ dataset: String, _ file: String) -> Int64 {
        if let b = packFiles[dataset]?[file] { return b }
        let n = imageCount(dataset), s = config.model.inputSize
        let synthetic = packConfig(dataset)?.synthetic != nil
        switch file {
        // Synthetic sonar images are grey; a folder may hold colour images.
        case "images.npy": return Int64(NpyArray.fileSize(dtype: .uint16, shape: [n, synthetic ? 1 : 3, s, s]))
        case "masks.npy": return Int64(NpyArray.fileSize(dtype: .uint8, shape: synthetic ? [n, s, s] : [0]))
        // Class names, labels and one source path per image.
        case "meta.json": return Int64(512 + n * 40)
        // Up to six 96 px tiles per class, PNG of noisy images: about their raw RGB bytes.
        case "contact_sheet.png": return Int64((datasets[dataset]?.classes.count ?? 4) * 6 * 96 * 96 * 3)
        case "pack.json": return 1024
        default: return 0
        }
    }

    static let storedPackFiles = ["images.npy", "meta.json", "masks.npy"]

    func inputBytes(_ input: PlannedInput) -> Int64 {
        switch input {
        case let .task(id, name): return outputs[id]?[name] ?? 0
        case let .dataset(name, file): return packFile(name, file)
        case let .file(path, _):
            let b = DiskBudget.fileBytes(URL(fileURLWithPath: path))
            // A missing user file: assume ImageNet AlexNet weights.
            return b > 0 ? b : weightsFile(ModelConfig(), classes: 1000, meta: [:])
        }
    }

    // MARK: outputs

    func weightsFile(_ network: ModelConfig, classes: Int, meta: [String: String]) -> Int64 {
        Int64(Safetensors.fileSize(shapes: DiskBudget.stateShapes(network, classes: classes), metadata: meta))
    }

    func split(_ shard: ShardKey) -> (train: [Int], test: [Int])? {
        guard let ds = datasets[shard.dataset], let s = try? FoldSplits.split(config: config, dataset: ds, shard: shard) else { return nil }
        let labels = ds.labels
        return (s.train.map { labels[$0] }, s.test.map { labels[$0] })
    }

    /// Train and test rows of a shard (the fold's split when the labels are known).
    func rows(folds: Int, _ shard: ShardKey) -> (train: Int, test: Int) {
        if let s = split(shard) { return (s.train.count, s.test.count) }
        let n = imageCount(shard.dataset), test = n / max(1, folds)
        return (n - test, test)
    }

    func npy(_ dtype: NpyArray.DType, _ shape: [Int]) -> Int64 { Int64(NpyArray.fileSize(dtype: dtype, shape: shape)) }

    /// The LIME outputs of an explain task: per explained image two masks and a figure, and the
    /// explanations (with their segmentations) as JSON.
    func explainOutputs(_ spec: ExplainSpec) -> [String: Int64] {
        let lime = spec.lime
        let classes = spec.classes.count
        var images = classes * lime.imagesPerClass
        if let s = split(spec.shard) {
            images = (0..<classes).reduce(0) { n, c in n + min(lime.imagesPerClass, s.test.filter { $0 == c }.count) }
        }
        let size = config.model.inputSize
        // The figure: three panels side by side under a title band, as PNG about half their raw
        // RGB bytes (an enlargement of small images repeats pixels, which deflate absorbs).
        let figure = Model.figureBytes(size)
        // Per explanation: the segmentation (a small integer per pixel in JSON) and the weights.
        let explanation = Int64(2 * size * size + 3072)
        var out: [String: Int64] = [:]
        for i in 0..<images {
            out["mask_\(i)_base.npy"] = npy(.uint8, [size, size])
            out["mask_\(i)_ft.npy"] = npy(.uint8, [size, size])
            out["lime_\(i).png"] = figure
        }
        out["explanations.json"] = Int64(images) * 2 * explanation
        return out
    }

    static func figureBytes(_ size: Int) -> Int64 { Int64(3 * (3 * size + 16) * (size + 30) / 2) }

    mutating func run(_ graph: TaskGraph, workers: Int?) -> DiskBudget {
        // Packs: the prepared directory and the copies imported into the store.
        var pictures: Int64 = 0
        for files in packInventory(graph) {
            pictures += files["contact_sheet.png"] ?? 0
            add("dataset packs", files.values.reduce(0, +))
            add("dataset pack copies in the store", Model.storedPackFiles.reduce(0) { $0 + (files[$1] ?? 0) })
        }
        var fileInputs = Set<String>()
        var checkpoint: Int64 = 0, written: Int64 = 0, fineTunes = 0
        var cache: (bytes: Int64, task: String) = (0, "")
        var resultBytes: Int64 = 0
        for t in graph.tasks {
            var out: [String: Int64] = [:]
            var localCheckpoints: Int64 = 0
            switch t.spec {
            case let .pretrain(spec):
                let network = spec.network
                let synthetic = spec.source == .synthetic
                let kinds = synthetic ? min(spec.pretraining?.classes ?? 16, SyntheticSource.classes.count) : 1000
                let meta = WeightsMetadata.pretrainMetadata(source: synthetic ? "synthetic" : "random", classes: synthetic ? kinds : nil, network: network)
                out["weights.safetensors"] = weightsFile(network, classes: kinds, meta: meta)
                add("pretrained weights", out["weights.safetensors"]!)
                resultBytes += Int64(256 + 80 * (spec.pretraining?.epochs ?? 0))
            case let .finetune(spec), let .baseline(spec):
                let shard = spec.shard, network = spec.network, classes = spec.classes.count
                let r = rows(folds: spec.split.folds, shard)
                let h = network.hiddenWidth
                let meta = WeightsMetadata.taskMetadata(t.kind, shard: shard, classes: spec.classes, network: network,
                                                        floatScaling: config.datasets.first(where: { $0.name == shard.dataset })?.scaling)
                let fTrain = npy(.float32, [r.train, h]), fTest = npy(.float32, [r.test, h])
                out["features_train.npy"] = fTrain
                out["features_test.npy"] = fTest
                out["labels_train.npy"] = npy(.int64, [r.train])
                out["labels_test.npy"] = npy(.int64, [r.test])
                // Labels are stored once per split (content-addressed): variants share them, repeats do not.
                let foldKey = "\(shard.dataset)/" + (shard.repeat > 0 ? "repeat\(shard.repeat)/" : "") + "fold\(shard.fold)"
                addShared("labels", key: "labels_train/\(foldKey)", out["labels_train.npy"]!)
                addShared("labels", key: "labels_test/\(foldKey)", out["labels_test.npy"]!)
                let epochs = spec.training.epochs
                resultBytes += Int64(1024 + 80 * epochs + 12 * r.test)
                if t.kind == .finetune {
                    out["weights.safetensors"] = weightsFile(network, classes: classes, meta: meta)
                    add("fine-tune weights", out["weights.safetensors"]!)
                    add("fine-tune features", fTrain + fTest, count: 2)
                    fineTunes += 1
                    let every = spec.training.checkpointEvery
                    if every > 0, epochs > every {
                        let count = (epochs - 1) / every
                        let last = DiskBudget.checkpointSize(network, classes: classes, optimizer: spec.training.optimizer,
                                                             epochs: count * every)
                        checkpoint = max(checkpoint, last)
                        // Curves grow by a few bytes per epoch: every checkpoint is about the last one.
                        written += Int64(count) * last
                        localCheckpoints = Int64(DiskBudget.localCheckpointsPerTask) * last
                    }
                } else {
                    out["output_layer.safetensors"] = Int64(Safetensors.fileSize(
                        shapes: ["classifier.6.weight": [classes, h], "classifier.6.bias": [classes]], metadata: meta))
                    add("baseline output layers", out["output_layer.safetensors"]!)
                    // The frozen features do not depend on the sampling variant: one copy per fold.
                    addShared("baseline features", key: "base/train/\(foldKey)", fTrain)
                    addShared("baseline features", key: "base/test/\(foldKey)", fTest)
                }
            case let .explain(spec):
                out = explainOutputs(spec)
                add("LIME figures, masks and explanations", out.values.reduce(0, +), count: out.count)
                pictures += out.filter { $0.key.hasSuffix(".png") }.values.reduce(0, +)
                resultBytes += Int64(512 * max(1, out.count / 3))
            case let .heads(spec):
                let test = rows(folds: config.folds, spec.shard).test
                let headEpochs: Int
                if case let .fc(t) = spec.settings { headEpochs = t.headEpochs } else { headEpochs = 0 }
                resultBytes += Int64(1024 + 12 * test + 80 * headEpochs)
            case let .divergence(spec):
                // Rows, plus the swap test's null draws: ~22 bytes of JSON per draw and layer.
                resultBytes += Int64(2048 + 22 * 7 * spec.divergence.permutations)
            }
            outputs[t.id] = out
            for case let .file(path, _) in t.inputs.values where !fileInputs.contains(path) {
                fileInputs.insert(path)
                add("imported weights", inputBytes(.file(path: path, hash: "")))
            }
            // The worker's working set: distinct inputs, local checkpoints, scratch outputs.
            var seen = Set<PlannedInput>()
            var need = localCheckpoints + out.values.reduce(0, +)
            for i in t.inputs.values where seen.insert(i).inserted { need += inputBytes(i) }
            if need > cache.bytes { cache = (need, t.label) }
        }

        // The ledger holds specs and results (twice while the WAL is not yet checkpointed),
        // events.jsonl a few lines per task; the report embeds the figures and contact sheets
        // (base64: 4/3 of their bytes) and repeats every result in results.json; report/figures
        // holds each picture again as PNG and as SVG with it embedded (another 4/3), and every
        // chart as SVG and 2× PNG (about 8 KiB per task).
        let perTask = Int64(graph.tasks.count)
        add("ledger and events", (256 << 10) + 2 * (perTask * 1024 + resultBytes) + perTask * 512)
        add("report", (256 << 10) + perTask * (6144 + 8192) + pictures * 19 / 5)

        let final = items.values.reduce(0) { $0 + $1.bytes }
        let w = max(1, workers ?? fineTunes)
        let concurrent = checkpoint > 0 ? min(w, fineTunes) : 0
        let peak = final + Int64(concurrent) * 2 * checkpoint
        let list = itemOrder.compactMap { items[$0] }.filter { $0.bytes > 0 }.sorted { $0.bytes > $1.bytes }
        return DiskBudget(items: list, finalBytes: final, checkpointBytes: checkpoint, checkpointsWrittenBytes: written,
                          workers: w, concurrentCheckpoints: concurrent, peakBytes: peak,
                          budgetBytes: DiskBudget.budget(finalBytes: final, checkpointBytes: checkpoint),
                          workerCacheBytes: cache.bytes, workerCacheTask: cache.task)
    }

    /// Every pack the graph reads, with its files' bytes.
    func packInventory(_ graph: TaskGraph) -> [[String: Int64]] {
        var names: [String] = []
        for t in graph.tasks {
            for case let .dataset(name, _) in t.inputs.values where !names.contains(name) { names.append(name) }
        }
        return names.sorted().map { name in
            var files = packFiles[name] ?? [:]
            for f in Model.storedPackFiles + ["contact_sheet.png", "pack.json"] where files[f] == nil { files[f] = packFile(name, f) }
            return files
        }
    }
}

// MARK: pre-flight

extension DiskBudget {
    /// Set to 1 to start a run even when the pre-flight check says it will not fit.
    public static let ignoreVariable = "SEAFOLD_IGNORE_DISK_CHECK"
    /// Bytes to use as the file system's free space instead of asking it (for tests).
    public static let availableVariable = "SEAFOLD_DISK_AVAILABLE_BYTES"

    /// Free bytes for an unprivileged writer on the file system holding `path` (statvfs).
    public static func availableBytes(at path: URL) throws -> Int64 {
        if let v = ProcessInfo.processInfo.environment[availableVariable], let n = Int64(v) { return n }
        var s = statvfs()
        guard statvfs(path.path, &s) == 0 else {
            throw SeafoldError.io(path: path.path, reason: "cannot read the file system's free space: \(String(cString: strerror(errno)))")
        }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }

    /// Fails, before the run writes anything large, when the file system of `runDirectory`
    /// cannot take the `needBytes` the run will hold at its peak, less what the run directory
    /// already holds (a resumed run has written part of it). The error names the path, the
    /// bytes needed and available, and the ways out. `SEAFOLD_IGNORE_DISK_CHECK=1` skips it.
    /// `available` replaces the file system's answer (tests).
    public static func preflight(runDirectory: URL, needBytes: Int64, available: Int64? = nil) throws {
        if ProcessInfo.processInfo.environment[ignoreVariable] == "1" { return }
        let present = bytesUnder(runDirectory)
        let missing = max(0, needBytes - present)
        let free = try available ?? availableBytes(at: runDirectory)
        guard missing > free else { return }
        throw SeafoldError.io(path: runDirectory.path, reason: """
            not enough disk space for this run: it needs \(format(missing)) more at its peak \
            (\(format(needBytes)) in all, \(format(present)) already there) but the file system has \(format(free)) available. \
            Free space there, choose another --run-dir, run fewer workers (--workers; each running fine-tune holds a checkpoint), \
            or set `training: {checkpoint_every: 0}` (no checkpoints; an interrupted fine-tune restarts from scratch). \
            `seafold plan` shows the estimate; \(ignoreVariable)=1 starts anyway.
            """)
    }

    /// Bytes for people: decimal units (1 MB = 10^6 bytes), three significant digits.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(bytes), u = 0
        while v >= 1000, u < units.count - 1 { v /= 1000; u += 1 }
        if u == 0 { return "\(bytes) B" }
        return String(format: v >= 100 ? "%.0f %@" : (v >= 10 ? "%.1f %@" : "%.2f %@"), v, units[u])
    }

    /// The estimate as `seafold plan` prints it.
    public var summary: String {
        var lines: [String] = []
        lines.append("disk: final \(DiskBudget.format(finalBytes)); peak \(DiskBudget.format(peakBytes)) with \(workers) workers "
                     + "(\(concurrentCheckpoints) fine-tune checkpoints of \(DiskBudget.format(checkpointBytes)) + their in-flight copies); "
                     + "coordinator budget \(DiskBudget.format(budgetBytes)); worker cache \(DiskBudget.format(workerCacheBytes)) (\(workerCacheTask))")
        if checkpointsWrittenBytes > 0 {
            lines.append("  checkpoints written in all: \(DiskBudget.format(checkpointsWrittenBytes)) (deleted as they are superseded)")
        }
        for i in items.prefix(6) {
            let each = DiskBudget.format(i.bytes / Int64(max(1, i.count)))
            lines.append(i.count == 1 ? "  \(i.name): \(each)" : "  \(i.count) \(i.name) × \(each) = \(DiskBudget.format(i.bytes))")
        }
        return lines.joined(separator: "\n")
    }
}

extension ExperimentSetup {
    /// The pre-flight disk check of a run about to start with `workers` workers (nil: one per
    /// fine-tune); `workerCachesInRunDirectory` when the workers' caches live in the run
    /// directory (`seafold run`).
    /// Checks the run fits on its disk (see `DiskBudget.preflight`) and returns the estimate.
    @discardableResult
    public func checkDisk(workers: Int?, workerCachesInRunDirectory: Bool) throws -> DiskBudget {
        let b = DiskBudget.estimate(self, workers: workers)
        try DiskBudget.preflight(runDirectory: runDirectory, needBytes: b.needBytes(workerCachesInRunDirectory: workerCachesInRunDirectory))
        return b
    }
}
