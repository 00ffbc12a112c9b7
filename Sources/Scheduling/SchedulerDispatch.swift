/// Dispatch: which ready tasks go to which free workers, as leases.
extension Scheduler {
    /// Hands ready tasks to free workers: highest priority first, then submission order; for
    /// each task the free worker already caching most of its input bytes wins (ties: the
    /// earliest joined), avoiding workers it ended badly on while another can take it.
    /// `inputs` gives a task's input artifacts (hash → bytes); when it throws, the task fails.
    /// `caches(worker, hash)` says whether a worker holds an artifact (the owner knows: it
    /// moves the bytes).
    public mutating func dispatch(now: Double, inputs: (String) throws -> [String: Int64] = { _ in [:] },
                                  caches: (String, String) -> Bool = { _, _ in false }) -> [Directive] {
        var out: [Directive] = []
        if pendingOrderStale {
            pendingOrderStale = false
            pendingOrder = tasks.values.filter { $0.phase == .pending }
                .sorted { ($0.task.priority, -$0.task.sequence) > ($1.task.priority, -$1.task.sequence) }.map(\.task.id)
        }
        guard !pendingOrder.isEmpty else { return out }
        var free = maybeFree.compactMap { w -> (Int, String)? in
            guard let s = workers[w], s.freeSlots > 0, history[w]?.quarantinedUntil == nil else { return nil }
            return (s.order, w)
        }.sorted { $0.0 < $1.0 }.map(\.1)
        maybeFree = Set(free)
        guard !free.isEmpty else { return out }
        var taken = Set<String>()
        var examined = 0
        for id in pendingOrder {
            guard !free.isEmpty else { break }
            examined += 1
            guard var t = tasks[id], t.phase == .pending, t.task.dependencies.allSatisfy({ tasks[$0]?.phase == .done }) else { continue }
            let manifest: [String: Int64]
            do { manifest = try inputs(id) } catch {
                taken.insert(id)
                fail(id, reason: "\(error)", error: "\(error)", now: now, &out)
                continue
            }
            // Not back to a worker it ended badly on while another free worker can take it. The
            // deciding attempt (one failure short of the limit) waits for a worker it has not
            // failed on, if one is connected, so that one machine cannot fail a task.
            var candidates = Array(free.indices)
            if !t.avoid.isEmpty {
                let fresh = candidates.filter { !t.avoid.contains(free[$0]) }
                if !fresh.isEmpty {
                    candidates = fresh
                } else if t.failures == policy.maxAttempts - 1,
                          workers.keys.contains(where: { t.failedOn[$0] == nil && history[$0]?.quarantinedUntil == nil }),
                          !free.contains(where: { t.failedOn[$0] == nil }) {
                    continue
                }
            }
            var best = candidates[0], bestBytes: Int64 = -1
            if !manifest.isEmpty {
                for i in candidates {
                    let w = free[i]
                    let bytes = manifest.reduce(Int64(0)) { $0 + (caches(w, $1.key) ? $1.value + 1 : 0) }
                    if bytes > bestBytes { best = i; bestBytes = bytes }
                }
            }
            let w = free[best]
            let token = makeToken()
            t.leases += 1
            t.phase = .running; t.lease = token; t.worker = w; t.leaseStart = now
            tasks[id] = t
            leaseTask[token] = id
            workers[w]!.leases.insert(token)
            if workers[w]!.freeSlots <= 0 { free.remove(at: best) }
            out.append(.assign(task: id, worker: w, lease: token, attempt: t.leases))
            taken.insert(id)
        }
        if !taken.isEmpty { pendingOrder.replaceSubrange(0..<examined, with: pendingOrder[0..<examined].filter { !taken.contains($0) }) }
        return out
    }
}
