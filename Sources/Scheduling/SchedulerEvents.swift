/// The scheduler's events: what each one does to tasks, leases and workers, and the
/// directives it answers with (accounting rules on `Scheduler`).
extension Scheduler {

    /// Applies one event at time `now`; returns what the owner must do, in order.
    public mutating func handle(_ event: Event, now: Double) -> [Directive] {
        var out: [Directive] = []
        switch event {
        case let .submitted(list): submit(list, &out)
        case let .workerJoined(w, slots, running): join(w, slots: slots, running: running, now: now, &out)
        case let .workerLeft(w, reason, detail): leave(w, reason: reason, detail: detail, now: now, &out)
        case let .done(token, w): complete(token, worker: w, now: now, &out)
        case let .failed(token, w, blame, error):
            guard holds(w, token) else { break }
            switch blame {
            case .task: endLease(token, end: .failed, countTask: true, countWorker: true, error: error, now: now, &out)
            case .workerResource: endLease(token, end: .failed, countTask: false, countWorker: true, error: error, now: now, &out)
            case .coordinatorRefusal: endLease(token, end: .refused, countTask: false, countWorker: false, error: error, now: now, &out)
            }
        case let .busy(token, w):
            guard holds(w, token) else { break }
            endLease(token, end: .busy, countTask: false, countWorker: false, error: "worker busy", now: now, &out)
        case let .staleResult(token, w):
            if workers[w]?.staleBusy.remove(token) != nil { maybeFree.insert(w) }
        case let .leasesAborted(tokens): for t in tokens { abort(t) }
        case let .undelivered(token):
            endLease(token, end: .lost, countTask: false, countWorker: false, error: "could not deliver the lease", now: now, &out)
        case let .doneNotRecorded(token, w, error): undoDone(token, worker: w, error: error, now: now, &out)
        case let .abandon(token, error):
            endLease(token, end: .lost, countTask: false, countWorker: false, error: error, now: now, &out)
        case .tick: tick(now: now, &out)
        case let .retry(ids): retry(ids, now: now, &out)
        case let .invalidate(id, withDependents, reason): invalidate(id, withDependents: withDependents, reason: reason, now: now, &out)
        }
        return out
    }

    func holds(_ worker: String, _ token: String) -> Bool { lease(token)?.worker == worker }

    mutating func submit(_ list: [Task], _ out: inout [Directive]) {
        for t in list where tasks[t.id] == nil {
            tasks[t.id] = TaskState(task: t, phase: t.phase == .running ? .pending : t.phase, leases: t.leases, failures: t.failures)
            for d in t.dependencies { dependents[d, default: []].append(t.id) }
        }
        pendingOrderStale = true
        reblock(&out)
    }

    mutating func join(_ w: String, slots: Int, running: [String], now: Double, _ out: inout [Directive]) {
        let running = Set(running)
        var order: Int
        if let old = workers[w] {
            // A reconnect: leases it no longer runs end (the eviction is nobody's fault).
            order = old.order
            for token in old.leases.sorted() where !running.contains(token) {
                endLease(token, end: .lost, countTask: false, countWorker: false, error: "worker \(w) reconnected without it", now: now, &out)
            }
        } else {
            nextOrder += 1
            order = nextOrder
        }
        var s = WorkerState(slots: max(1, slots), order: order)
        for token in running {
            if holds(w, token) { s.leases.insert(token) } else { s.staleBusy.insert(token) }
        }
        workers[w] = s
        if history[w] == nil { history[w] = WorkerHistory() }
        maybeFree.insert(w)
    }

    mutating func leave(_ w: String, reason: LeaveReason, detail: String, now: Double, _ out: inout [Directive]) {
        guard let s = workers.removeValue(forKey: w) else { return }
        maybeFree.remove(w)
        for token in s.leases.sorted() {
            guard let id = leaseTask[token], let t = tasks[id], t.lease == token else { continue }
            if reason == .silent {
                // The worker's fault; the task's only if another worker already went silent on it.
                let again = !t.silentOn.subtracting([w]).isEmpty
                tasks[id]!.silentOn.insert(w)
                endLease(token, end: .lost, countTask: again, countWorker: true, error: detail, now: now, &out)
            } else {
                endLease(token, end: .lost, countTask: false, countWorker: false, error: detail, now: now, &out)
            }
        }
    }

    mutating func complete(_ token: String, worker w: String, now: Double, _ out: inout [Directive]) {
        guard holds(w, token), let id = leaseTask.removeValue(forKey: token), var t = tasks[id] else { return }
        workers[w]?.leases.remove(token)
        maybeFree.insert(w)
        slowest[t.task.kind] = max(slowest[t.task.kind] ?? 0, now - t.leaseStart)
        t.phase = .done; t.lease = nil; t.worker = nil
        tasks[id] = t
        completedBy[token] = id
        history[w]?.failedTasks = []
        out.append(.completed(task: id, lease: token, worker: w))
    }

    mutating func undoDone(_ token: String, worker w: String, error: String, now: Double, _ out: inout [Directive]) {
        // The DONE was accepted in memory but never written: the task runs again, no one's fault.
        guard let id = completedBy.removeValue(forKey: token), var t = tasks[id], t.phase == .done else { return }
        t.phase = .pending
        tasks[id] = t
        pendingOrderStale = true
        out.append(.leaseEnded(task: id, lease: token, worker: w, end: .lost, counted: false, error: error))
        out.append(.requeued(task: id))
    }

    mutating func abort(_ token: String) {
        guard let id = leaseTask.removeValue(forKey: token), var t = tasks[id], t.lease == token else { return }
        if let w = t.worker { workers[w]?.leases.remove(token); maybeFree.insert(w) }
        t.phase = .pending; t.lease = nil; t.worker = nil; t.leases -= 1
        tasks[id] = t
        pendingOrderStale = true
    }

    /// Ends a current lease without a result: the task is pending again or failed.
    mutating func endLease(_ token: String, end: LeaseEnd, countTask: Bool, countWorker: Bool, error: String,
                                   now: Double, _ out: inout [Directive]) {
        guard let id = leaseTask.removeValue(forKey: token), var t = tasks[id], t.lease == token, let w = t.worker else { return }
        if workers[w]?.leases.remove(token) != nil { maybeFree.insert(w) }
        t.lease = nil; t.worker = nil
        t.avoid.insert(w)
        if countTask { t.failures += 1; t.failedOn[w, default: 0] += 1 }
        tasks[id] = t
        out.append(.leaseEnded(task: id, lease: token, worker: w, end: end, counted: countTask, error: error))
        if countWorker { noteWorkerFailure(w, task: id, resource: !countTask && end == .failed, now: now, &out) }
        guard let t2 = tasks[id] else { return }
        let usable = workers.keys.filter { history[$0]?.quarantinedUntil == nil }.count
        if t2.failures >= policy.maxAttempts && (t2.failedOn.count >= 2 || usable < 2) {
            fail(id, reason: "after \(t2.failures) failed attempts: \(error)", error: error, now: now, &out)
        } else if t2.leases >= policy.leaseCap {
            let why = "gave up after \(t2.leases) leases without a result (limit \(policy.leaseCap) = \(policy.leaseCapFactor) × maxAttempts; \(t2.failures) counted failures); last: \(error)"
            fail(id, reason: why, error: why, now: now, &out)
        } else {
            tasks[id]!.phase = .pending
            pendingOrderStale = true
            out.append(.requeued(task: id))
        }
    }

    mutating func fail(_ id: String, reason: String, error: String, now: Double, _ out: inout [Directive]) {
        tasks[id]!.phase = .failed
        out.append(.failed(task: id, reason: reason, error: error))
        reblock(&out)
    }

    mutating func noteWorkerFailure(_ w: String, task id: String, resource: Bool, now: Double, _ out: inout [Directive]) {
        var h = history[w] ?? WorkerHistory()
        // Task errors count once per distinct task (one bad task is no evidence against the
        // worker); the worker's own resource failures count each time.
        h.failedTasks.append(resource ? "\u{0}resource \(h.failedTasks.count)" : id)
        history[w] = h
        guard h.quarantinedUntil == nil, Set(h.failedTasks).count >= policy.quarantineAfter else { return }
        // Task errors on a lone worker are no evidence against it (the tasks may be bad); its own
        // resource problems are, and backing off is right for them even with no one else.
        let others = workers.keys.contains { $0 != w && history[$0]?.quarantinedUntil == nil }
        guard others || resource else { return }
        let span = min(policy.quarantineMax, policy.quarantineBase * Double(1 << min(h.quarantines, 30)))
        h.quarantines += 1
        h.quarantinedUntil = now + span
        h.reason = "\(Set(h.failedTasks).count) failures in a row on it (\(resource ? "its own resources" : "distinct tasks")); quarantined for \(Int(span)) s (quarantine \(h.quarantines))"
        h.failedTasks = []
        history[w] = h
        maybeFree.remove(w)
        out.append(.quarantined(worker: w, until: now + span, reason: h.reason))
        // Its failures are not held against the tasks.
        var revived: [String] = []
        for id in tasks.keys.sorted() {
            guard var t = tasks[id], t.phase != .done, let n = t.failedOn.removeValue(forKey: w) else { continue }
            t.failures -= n
            if t.phase == .failed && t.failures < policy.maxAttempts && t.leases < policy.leaseCap {
                t.phase = .pending
                revived.append(id)
            }
            tasks[id] = t
            out.append(.forgiven(task: id, worker: w, failures: n))
        }
        for id in revived { out.append(.requeued(task: id)) }
        if !revived.isEmpty { pendingOrderStale = true; unblock(&out) }
    }

    mutating func tick(now: Double, _ out: inout [Directive]) {
        for w in history.keys.sorted() {
            if let u = history[w]?.quarantinedUntil, now >= u {
                history[w]!.quarantinedUntil = nil
                if workers[w] != nil { maybeFree.insert(w) }
                out.append(.released(worker: w))
            }
        }
        guard policy.deadlineFloor != nil else { return }
        var late: [(String, String, String, Double)] = []
        for (token, id) in leaseTask {
            guard let t = tasks[id], t.lease == token, let w = t.worker, let d = deadline(of: id), now - t.leaseStart > d else { continue }
            late.append((token, id, w, d))
        }
        for (token, id, w, d) in late.sorted(by: { $0.0 < $1.0 }) {
            // The worker still runs it: the slot stays taken until its runner ends.
            workers[w]?.staleBusy.insert(token)
            out.append(.cancel(lease: token, worker: w))
            endLease(token, end: .timedOut, countTask: true, countWorker: false,
                     error: "timed out: still running after \(Int(d)) s (deadline for \(tasks[id]?.task.kind ?? "?"))", now: now, &out)
        }
    }

    mutating func retry(_ ids: [String], now: Double, _ out: inout [Directive]) {
        var any = false
        for id in ids {
            guard var t = tasks[id] else { out.append(.rejected("task \(id) is not known")); continue }
            guard t.phase == .failed else { out.append(.rejected("task \(id) is \(t.phase.rawValue); only failed tasks can be retried")); continue }
            t.phase = .pending; t.failures = 0; t.leases = 0; t.failedOn = [:]; t.avoid = []; t.silentOn = []
            tasks[id] = t
            out.append(.reset(task: id, reason: "retry requested"))
            any = true
        }
        if any { pendingOrderStale = true; unblock(&out) }
    }

    mutating func invalidate(_ id: String, withDependents: Bool, reason: String, now: Double, _ out: inout [Directive]) {
        guard let t = tasks[id] else { out.append(.rejected("task \(id) is not known")); return }
        guard t.phase == .done else { out.append(.rejected("task \(id) is \(t.phase.rawValue); only done tasks can be invalidated")); return }
        // Without dependents only the task itself: pending dependents wait for it anyway, done
        // ones keep their results.
        var targets = [id], seen: Set<String> = [id]
        var i = 0
        while withDependents && i < targets.count {
            for d in dependents[targets[i]] ?? [] where seen.insert(d).inserted { targets.append(d) }
            i += 1
        }
        for x in targets {
            if let s = tasks[x], s.phase == .running, let token = s.lease, let w = s.worker {
                // Its inputs are being replaced: the lease ends, counted against nobody.
                workers[w]?.staleBusy.insert(token)
                out.append(.cancel(lease: token, worker: w))
                endLease(token, end: .cancelled, countTask: false, countWorker: false, error: "an input was invalidated: \(reason)", now: now, &out)
            }
            guard var s = tasks[x], s.phase == .done else { continue }
            s.phase = .pending; s.failures = 0; s.leases = 0; s.failedOn = [:]; s.avoid = []; s.silentOn = []
            tasks[x] = s
            out.append(.reset(task: x, reason: x == id ? reason : "an input task was invalidated: \(reason)"))
        }
        pendingOrderStale = true
    }

    // MARK: blocking

    /// Pending tasks downstream of a failed one become blocked.
    mutating func reblock(_ out: inout [Directive]) {
        var stack = tasks.values.filter { $0.phase == .failed }.map(\.task.id)
        var newly: [String] = [], seen = Set<String>()
        while let id = stack.popLast() {
            for d in dependents[id] ?? [] where seen.insert(d).inserted {
                if tasks[d]?.phase == .pending { tasks[d]!.phase = .blocked; newly.append(d) }
                stack.append(d)
            }
        }
        if !newly.isEmpty { pendingOrderStale = true; out.append(.blocked(newly.sorted())) }
    }

    /// Blocked tasks with no failed task upstream any more become pending.
    mutating func unblock(_ out: inout [Directive]) {
        var still = Set<String>()
        var stack = tasks.values.filter { $0.phase == .failed }.map(\.task.id)
        while let id = stack.popLast() {
            for d in dependents[id] ?? [] where still.insert(d).inserted { stack.append(d) }
        }
        let freed = tasks.values.filter { $0.phase == .blocked && !still.contains($0.task.id) }.map(\.task.id).sorted()
        for id in freed { tasks[id]!.phase = .pending }
        if !freed.isEmpty { pendingOrderStale = true; out.append(.unblocked(freed)) }
    }
}
