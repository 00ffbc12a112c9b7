import ArgumentParser
import Cluster
import Foundation
import Pipeline
import Report
import Terminal

/// `seafold report --run-dir DIR`: the paper's tables and the HTML report from any run directory,
/// complete or not (a partial run reports what it has; gaps show the reason).
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "report", abstract: "Write the tables and the HTML report of a run.")

    @Option(name: .customLong("run-dir"), help: "The run directory.")
    var runDir: String

    @Flag(help: "Print the results as JSON instead of Markdown tables.")
    var json = false

    @Flag(help: "Plan the run again from its experiment.yaml and save RUN/plan.json first (for a run directory made before plans were saved; rebuilds missing dataset packs).")
    var rebuildPlan = false

    func run() throws {
        let dir = try RunDirectory.requireExisting(runDir)
        if rebuildPlan {
            let setup = try ExperimentSetup.prepare(yaml: nil, runDirectory: dir, baseDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                                    progress: { Console.status($0) })
            Console.endStatus()
            for w in setup.warnings { Console.warn(w) }
            Console.info("report: plan saved in \(dir.appendingPathComponent(RunPlan.fileName).path)")
        }
        try ReportCommand.write(try ReportCommand.results(runDirectory: dir), runDirectory: dir, json: json)
    }

    /// Results of a distributed run (ledger) or a local one (RUN/local), from the run's saved
    /// plan (RUN/plan.json) and its stored results only: no config, no dataset packs, no planning.
    static func results(runDirectory dir: URL) throws -> RunResults {
        let plan = try RunPlan.load(runDirectory: dir)
        if FileManager.default.fileExists(atPath: dir.appendingPathComponent("ledger.sqlite").path) {
            let ledger = try Ledger(runDirectory: dir)
            let store = try ArtifactStore(root: dir.appendingPathComponent("artifacts"))
            return try ClusterGlue.results(plan: plan, runDirectory: dir, ledger: ledger, store: store)
        }
        let exec = LocalExecutor(runDirectory: dir)
        var done: [CompletedTask] = [], missing: [IncompleteTask] = []
        for t in plan.tasks {
            let d = exec.taskDirectory(t.id)
            if let r = try? Data(contentsOf: d.appendingPathComponent("result.json")),
               let names = try? JSONDecoder().decode([String].self, from: Data(contentsOf: d.appendingPathComponent("artifacts.json"))) {
                done.append(CompletedTask(task: t, result: r, artifacts: Dictionary(uniqueKeysWithValues: names.map { ($0, d.appendingPathComponent($0)) })))
            } else {
                missing.append(IncompleteTask(task: t, reason: "not run"))
            }
        }
        return plan.results(completed: done, incomplete: missing, timeline: [], softwareVersion: SeafoldVersion.string, runDirectory: dir)
    }

    static func write(_ results: RunResults, runDirectory: URL, json: Bool) throws {
        let stamp = ISO8601DateFormatter().string(from: Date())
        _ = try ReportWriter.write(results, to: runDirectory.appendingPathComponent("report"), generatedAt: stamp)
        if json {
            try Console.printJSON(results)
        } else {
            print(MarkdownTables.render(results))
            Console.info("report: \(runDirectory.appendingPathComponent("report/index.html").path)")
        }
    }
}
