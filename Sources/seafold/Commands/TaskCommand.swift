import ArgumentParser
import Foundation
import Pipeline
import SeafoldCore
import Terminal

/// `seafold task run SPEC.json --store DIR`: runs one task locally, with the same code a worker
/// runs. SPEC.json is `{"spec": <TaskSpec>, "inputs": {"name": "path", ...}}`.
struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "task", abstract: "Run one task of an experiment locally.",
                                                    subcommands: [TaskRunCommand.self])
}

struct TaskFile: Codable {
    var spec: TaskSpec
    var inputs: [String: String]
}

struct TaskRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run a task spec; write result.json and its artifacts into --store.")

    @Argument(help: "Task file: {\"spec\": {...}, \"inputs\": {\"name\": \"path\"}}.")
    var specFile: String

    @Option(help: "Directory for the result and output artifacts.")
    var store: String

    @Flag(help: "Print the result JSON to stdout.")
    var json = false

    func run() throws {
        let url = URL(fileURLWithPath: specFile)
        let file: TaskFile
        do { file = try JSONDecoder().decode(TaskFile.self, from: Data(contentsOf: url)) } catch {
            throw SeafoldError.badInput(path: url.path, reason: "not a task file: \(error)")
        }
        let storeURL = URL(fileURLWithPath: store)
        let io = try DirectoryTaskIO(store: storeURL, inputs: file.inputs.mapValues { URL(fileURLWithPath: $0) })
        let t0 = Date()
        let out = try TaskRunner.run(spec: file.spec, io: io)
        Console.endStatus()
        for (name, src) in out.artifacts {
            let dest = storeURL.appendingPathComponent(name)
            if src.standardizedFileURL != dest.standardizedFileURL {
                try? FileManager.default.removeItem(at: dest)
                try FileManager.default.moveItem(at: src, to: dest)
            }
        }
        try out.result.write(to: storeURL.appendingPathComponent("result.json"), options: .atomic)
        if json { print(String(decoding: out.result, as: UTF8.self)) } else {
            Console.info(String(format: "%@ done in %.1f s: %@", file.spec.kind.rawValue, Date().timeIntervalSince(t0),
                                out.artifacts.keys.sorted().joined(separator: ", ")))
        }
    }
}

/// `TaskIO` over plain files: inputs given by path, outputs and checkpoints in a directory.
final class DirectoryTaskIO: TaskIO {
    let inputs: [String: URL]
    let scratchDirectory: URL
    let checkpoint: CheckpointFile

    init(store: URL, inputs: [String: URL]) throws {
        self.inputs = inputs
        scratchDirectory = store
        checkpoint = CheckpointFile(store.appendingPathComponent("checkpoint.safetensors"))
        try FileManager.default.createDirectory(at: store, withIntermediateDirectories: true)
    }

    func input(_ name: String) throws -> URL {
        guard let u = inputs[name] else { throw SeafoldError.config(key: "inputs.\(name)", reason: "this task needs an input named '\(name)'") }
        guard FileManager.default.fileExists(atPath: u.path) else { throw SeafoldError.io(path: u.path, reason: "input '\(name)' does not exist") }
        return u
    }

    func hasInput(_ name: String) -> Bool { inputs[name].map { FileManager.default.fileExists(atPath: $0.path) } ?? false }

    func progress(_ fraction: Double, _ message: String) { Console.status(String(format: "[%3.0f%%] ", fraction * 100) + message) }

    func saveCheckpoint(_ file: URL) throws { try checkpoint.store(file) }

    func latestCheckpoint() throws -> URL? { checkpoint.latest() }
}

/// `seafold plan`: prints the experiment's task graph (ids, kinds, dependencies) and the disk
/// the run needs (`DiskBudget`).
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Prepare the datasets, print the task graph and the disk the run needs.")

    @OptionGroup var source: ExperimentSource
    @Flag(help: "Print the graph and the disk estimate as JSON.") var json = false
    @Option(help: "Workers running at once, for the peak disk use (each running fine-tune holds a checkpoint).")
    var workers: Int = 2

    func validate() throws {
        if workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    /// The JSON form: the task graph's fields and the disk estimate beside them.
    struct Output: Encodable {
        var tasks: [PlannedTask]
        var disk: DiskBudget
    }

    func run() throws {
        let loaded = try source.load()
        let setup = try ExperimentSetup.prepare(config: loaded.config, yaml: loaded.text, runDirectory: source.runDirectory(for: loaded.config),
                                                progress: { Console.status($0) })
        Console.endStatus()
        for w in setup.warnings { Console.warn(w) }
        let disk = DiskBudget.estimate(setup, workers: workers)
        if json { try Console.printJSON(Output(tasks: setup.graph.tasks, disk: disk)); return }
        for t in setup.graph.tasks {
            print("\(t.id.prefix(12))  \(t.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0))  \(t.label)  <- \(t.dependencies.map { String($0.prefix(8)) }.joined(separator: ","))")
        }
        print("\(setup.graph.tasks.count) tasks")
        print(disk.summary)
    }
}
