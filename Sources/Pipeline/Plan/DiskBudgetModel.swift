import Datasets
import Engine
import Foundation
import SeafoldCore

/// The per-task arithmetic behind `DiskBudget.estimate`.
struct DiskBudgetModel {
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
        let figure = DiskBudgetModel.figureBytes(size)
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
            add("dataset pack copies in the store", DiskBudgetModel.storedPackFiles.reduce(0) { $0 + (files[$1] ?? 0) })
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
            for f in DiskBudgetModel.storedPackFiles + ["contact_sheet.png", "pack.json"] where files[f] == nil { files[f] = packFile(name, f) }
            return files
        }
    }
}
