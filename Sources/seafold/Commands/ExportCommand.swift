import ArgumentParser
import Datasets
import Foundation
import Pipeline
import Report
import SeafoldCore
import Terminal

/// `seafold export --run-dir DIR [--out DIR]`: the run's numbers as tidy CSV for pandas and R
/// (`metrics.csv`, long format) and every test prediction with class names (`predictions.csv`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a run's per-fold metrics as one tidy CSV and its test predictions with class names.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Option(help: "Where to write metrics.csv and predictions.csv (default: RUN/export).")
    var out: String?

    func run() throws {
        let dir = try RunDirectory.requireExisting(runDir)
        let results = try ReportCommand.results(runDirectory: dir)
        let outDir = out.map { URL(fileURLWithPath: $0) } ?? dir.appendingPathComponent("export", isDirectory: true)
        do { try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true) } catch {
            throw SeafoldError.io(path: outDir.path, reason: "cannot create the export directory: \(error.localizedDescription); pass another --out")
        }
        let run = dir.standardizedFileURL.lastPathComponent
        let images = ExportCommand.testImages(runDirectory: dir, results: results)
        for (name, text) in [("metrics.csv", TidyExport.metrics(results, run: run)),
                             ("predictions.csv", TidyExport.predictions(results, run: run, images: images))] {
            let url = outDir.appendingPathComponent(name)
            do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
                throw SeafoldError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
            }
            print("\(url.path)\t\(text.split(separator: "\n").count - 1) rows")
        }
    }

    /// Each shard's test images in test order (the split the tasks used: stratified folds from
    /// the experiment seed, as the saved plan records them), with their source files from the
    /// dataset pack's meta.json. A shard whose recorded labels do not match the split, or whose
    /// pack is gone, is left without image names, and said so.
    static func testImages(runDirectory dir: URL, results: RunResults) -> [ShardKey: [TidyExport.ImageRef]] {
        guard let plan = try? RunPlan.load(runDirectory: dir) else {
            Console.info("export: the run's plan could not be read; predictions.csv has no image names")
            return [:]
        }
        var out: [ShardKey: [TidyExport.ImageRef]] = [:]
        for pack in plan.datasets {
            let metaURL = dir.appendingPathComponent("datasets/\(pack.name)/meta.json")
            guard let data = try? Data(contentsOf: metaURL), let meta = try? JSONDecoder().decode(PackMeta.self, from: data) else {
                Console.info("export: dataset \(pack.name): pack metadata \(metaURL.path) unreadable; its predictions have no image names")
                continue
            }
            for h in results.heads where h.shard.dataset == pack.name && out[h.shard] == nil {
                guard let test = try? FoldSplits.split(config: plan.config, dataset: pack.summary, shard: h.shard).test,
                      test.map({ meta.labels[$0] }) == h.labels else {
                    Console.info("export: \(h.shard): the recorded labels do not match the fold's split; its predictions have no image names")
                    continue
                }
                out[h.shard] = test.map { TidyExport.ImageRef(index: $0, file: $0 < meta.files.count ? meta.files[$0] : "") }
            }
        }
        return out
    }
}
