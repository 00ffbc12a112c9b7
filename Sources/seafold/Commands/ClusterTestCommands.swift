import ArgumentParser
import Cluster
import Foundation

/// Hidden `seafold cluster-fake coordinator|worker`: the real Coordinator and Worker running
/// fake tasks (sleep, fail on attempts, exit on demand, produce an artifact), for the
/// multi-process tests.
struct ClusterFakeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster-fake", abstract: "Cluster test harness with fake tasks.",
                                                    shouldDisplay: false, subcommands: [FakeCoordinator.self, FakeWorker.self])

    /// What a fake task does.
    struct Spec: Codable {
        var sleepMs: Int = 0
        var failAttempts: Int = 0
        var outputBytes: Int = 0
        /// Worker names that exit(3) when they start this task (crash on demand).
        var crashOn: [String] = []
    }

    struct FakeCoordinator: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "coordinator")
        @Option var runDir: String
        @Option var bind: String = "tcp://127.0.0.1:*"
        @Option(help: "Write the bound endpoint here once listening.") var endpointFile: String?
        @Option var tasks: Int = 4
        @Option var sleepMs: Int = 100
        @Option var outputBytes: Int = 0
        @Option var heartbeatMs: Int = 1000
        @Option var maxAttempts: Int = 3
        @Option var version: String = "fake-1"

        func run() throws {
            var o = CoordinatorOptions(codeVersion: version)
            o.heartbeatInterval = Double(heartbeatMs) / 1000
            o.maxAttempts = maxAttempts
            let c = try Coordinator(runDirectory: URL(fileURLWithPath: runDir), bind: bind, options: o)
            let spec = try JSONEncoder().encode(Spec(sleepMs: sleepMs, outputBytes: outputBytes))
            try c.submit((0..<tasks).map { TaskDescriptor(id: "fake-\($0)", kind: "fake", label: "fake \($0)", spec: spec) })
            if let f = endpointFile { try Data(c.endpoint.utf8).write(to: URL(fileURLWithPath: f), options: .atomic) }
            let st = try c.run(until: .allSettled)
            let enc = JSONEncoder(); enc.outputFormatting = [.sortedKeys]
            print(String(decoding: try enc.encode(st), as: UTF8.self))
            if st.done != st.total { throw ExitCode(1) }
        }
    }

    struct FakeWorker: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "worker")
        @Option var connect: String
        @Option var name: String
        @Option var cache: String
        @Option var heartbeatMs: Int = 1000
        @Option var version: String = "fake-1"
        @Option(help: "Exit(3) when starting any task (crash on demand).") var crashOnStart = false
        @Option(help: "Append 'task attempt name' lines here when a task starts.") var log: String?

        func run() throws {
            var o = WorkerOptions(codeVersion: version, cacheDirectory: URL(fileURLWithPath: cache))
            o.workerID = name
            o.heartbeatInterval = Double(heartbeatMs) / 1000
            o.reconnectInitial = 0.2
            o.giveUpAfter = 30
            let name = self.name, crash = crashOnStart, logPath = log
            let w = Worker(connect: connect, options: o) { a, ctx in
                let spec = (try? JSONDecoder().decode(Spec.self, from: a.spec)) ?? Spec()
                if let p = logPath, let h = FileHandle(forWritingAtPath: p) ?? { FileManager.default.createFile(atPath: p, contents: nil); return FileHandle(forWritingAtPath: p) }() {
                    _ = try? h.seekToEnd(); try? h.write(contentsOf: Data("\(a.taskID) \(a.attempt) \(name)\n".utf8)); try? h.close()
                }
                if crash || spec.crashOn.contains(name) { Foundation.exit(3) }
                let steps = max(1, spec.sleepMs / 50)
                for i in 0..<steps {
                    usleep(UInt32(spec.sleepMs * 1000 / steps))
                    ctx.progress(Double(i + 1) / Double(steps), "step \(i + 1)/\(steps)")
                }
                if a.attempt <= spec.failAttempts { throw ValidationError("fake failure on attempt \(a.attempt)") }
                var artifacts: [String: URL] = [:]
                if spec.outputBytes > 0 {
                    let f = ctx.scratchDirectory.appendingPathComponent("out.bin")
                    try Data(repeating: UInt8(truncatingIfNeeded: a.taskID.hashValue), count: spec.outputBytes).write(to: f)
                    artifacts["out.bin"] = f
                }
                return TaskOutcome(result: Data("{\"task\":\"\(a.taskID)\",\"worker\":\"\(name)\"}".utf8), artifacts: artifacts)
            }
            try w.run()
        }
    }
}
