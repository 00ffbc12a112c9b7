import Foundation
import Scheduling

/// Changes to the task graph from the owner of a coordinator (any thread): imports, submissions,
/// retries and invalidations, checked before anything is written.
extension Coordinator {
    /// Copies a file into the run's artifact store; returns its sha256 (use as `.hash`).
    @discardableResult
    public func importArtifact(_ file: URL) throws -> String {
        let h = try store.importFile(file)
        try ledger.commit(artifacts: [(h, store.size(of: h) ?? 0, "import:\(file.lastPathComponent)")])
        return h
    }

    /// Adds tasks to the graph. Idempotent by id: tasks already in the ledger keep their state.
    /// Throws if a dependency is unknown, an `.output` input names a task that is not a
    /// dependency, an input hash is not in the store, a name is not a plain file name, or the
    /// graph has a cycle.
    public func submit(_ descriptors: [TaskDescriptor]) throws {
        lock.lock(); defer { lock.unlock() }
        var known = Set(tasks.keys)
        for d in descriptors { known.insert(d.id) }
        for d in descriptors {
            guard !d.id.isEmpty else { throw ClusterError.task(id: "\"\"", reason: "empty id") }
            for dep in d.dependencies where !known.contains(dep) {
                throw ClusterError.task(id: d.id, reason: "depends on unknown task '\(dep)'")
            }
            for (name, ref) in d.inputs {
                try ArtifactStore.validateName(name)
                switch ref {
                case let .hash(h):
                    guard store.contains(h) else { throw ClusterError.task(id: d.id, reason: "input '\(name)' names artifact \(h.prefix(16))… which is not in the store; importArtifact it first") }
                case let .output(task, out):
                    try ArtifactStore.validateName(out)
                    guard d.dependencies.contains(task) else { throw ClusterError.task(id: d.id, reason: "input '\(name)' uses an output of '\(task)', which must be listed in dependencies") }
                }
            }
        }
        var graph: [String: [String]] = [:]
        for t in tasks.values { graph[t.id] = t.dependencies }
        for d in descriptors where graph[d.id] == nil { graph[d.id] = d.dependencies }
        if let cycle = Coordinator.findCycle(graph) { throw ClusterError.task(id: cycle, reason: "is part of a dependency cycle") }
        let now = Date().timeIntervalSince1970
        let inserted = try ledger.submit(descriptors, now: now)
        for r in inserted { tasks[r.id] = r }
        // A new task depending on an already failed one is blocked at once.
        apply(sched.handle(.submitted(inserted.map(Coordinator.schedulerTask)), now: now), now: now)
        dirty = true
    }

    /// Resets a failed task (and what it blocked) to pending with fresh counts; a checkpoint
    /// that no longer verifies is dropped. `taskID` may be a unique prefix.
    public func retry(taskID: String) throws {
        lock.lock(); defer { lock.unlock() }
        let id = try resolveTaskID(taskID)
        let rejected = apply(sched.handle(.retry(tasks: [id]), now: Date().timeIntervalSince1970), now: Date().timeIntervalSince1970)
        if let r = rejected.first { throw ClusterError.task(id: id, reason: r) }
    }

    /// Retries all failed tasks.
    @discardableResult
    public func retryFailed() throws -> [String] {
        lock.lock(); defer { lock.unlock() }
        let ids = tasks.values.filter { $0.state == .failed }.map(\.id).sorted()
        if !ids.isEmpty { apply(sched.handle(.retry(tasks: ids), now: Date().timeIntervalSince1970), now: Date().timeIntervalSince1970) }
        return ids
    }

    /// Puts a done task back in the queue (its outputs are discarded); with dependents,
    /// everything downstream that is done or running runs again too.
    public func invalidate(taskID: String, withDependents: Bool, reason: String = "invalidated by request") throws {
        lock.lock(); defer { lock.unlock() }
        let id = try resolveTaskID(taskID)
        let now = Date().timeIntervalSince1970
        let rejected = apply(sched.handle(.invalidate(task: id, withDependents: withDependents, reason: reason), now: now), now: now)
        if let r = rejected.first { throw ClusterError.task(id: id, reason: r) }
    }

    /// A full task id from an id or a unique prefix of one.
    func resolveTaskID(_ text: String) throws -> String {
        if tasks[text] != nil { return text }
        return try Ledger.resolve(prefix: text, among: tasks.keys)
    }

    static func findCycle(_ graph: [String: [String]]) -> String? {
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        for start in graph.keys.sorted() where state[start] == nil {
            var stack: [(String, Int)] = [(start, 0)]
            state[start] = 1
            while let (node, i) = stack.last {
                let deps = graph[node] ?? []
                if i < deps.count {
                    stack[stack.count - 1].1 += 1
                    let d = deps[i]
                    if state[d] == 1 { return d }
                    if state[d] == nil { state[d] = 1; stack.append((d, 0)) }
                } else {
                    state[node] = 2
                    stack.removeLast()
                }
            }
        }
        return nil
    }
}
