import Foundation
import Scheduling

/// Re-verification of the coordinator's artifact store. Nothing here trusts that bytes on
/// disk stayed what they were when they were stored: on start every artifact the run relies on
/// is hashed again, and before an artifact is served the first time in this process it is
/// hashed once (cached by file identity, like a worker's `isVerified`). A corrupt or missing
/// output puts its producing task back in the queue (dependents wait for it); a corrupt
/// imported input is removed and named, so that importing it again (re-running the coordinator
/// with the experiment config) puts it back.
extension ArtifactStore {
    /// Device, inode, size, mtime and ctime (ns) of a stored artifact, or nil if absent: a file
    /// rewritten in place or replaced by rename since it was hashed has another identity.
    func fileIdentity(_ hash: String) -> [Int]? {
        guard let p = try? path(for: hash) else { return nil }
        var st = stat()
        guard stat(p.path, &st) == 0 else { return nil }
        return [Int(st.st_dev), Int(st.st_ino), Int(st.st_size), Int(st.st_mtim.tv_sec), Int(st.st_mtim.tv_nsec), Int(st.st_ctim.tv_sec), Int(st.st_ctim.tv_nsec)]
    }
}

extension Coordinator {
    func storeFileIdentity(_ hash: String) -> [Int]? { store.fileIdentity(hash) }

    /// Hashes a stored artifact unless this very file was verified before in this process.
    func verifiedOnce(_ hash: String) -> Bool {
        guard let id = storeFileIdentity(hash) else { return false }
        if servedVerified[hash] == id { return true }
        guard store.verify(hash) else { return false }
        servedVerified[hash] = storeFileIdentity(hash)
        return true
    }

    /// Outputs of an accepted DONE were hashed when their upload committed (in this process):
    /// they count as verified while their file keeps its identity.
    func noteFreshOutputs(_ artifacts: [String: String]) {
        for h in artifacts.values where servedVerified[h] == nil { servedVerified[h] = storeFileIdentity(h) }
    }

    /// Done tasks whose stored output `hash` is.
    func producers(of hash: String) -> [String] {
        tasks.values.filter { $0.state == .done && $0.artifacts.values.contains(hash) }.map(\.id).sorted()
    }

    /// On start: every output of a done task and every imported input of an unfinished task.
    func verifyStoredArtifacts(now: Double) throws {
        let start = Date()
        var bytes: Int64 = 0, files = 0
        var outputs = Set<String>(), imports = Set<String>()
        for t in tasks.values {
            if t.state == .done { outputs.formUnion(t.artifacts.values) }
            for case let .hash(h) in t.inputs.values where t.state != .done { imports.insert(h) }
        }
        var badOutputs: [String] = []
        for h in outputs.union(imports).sorted() {
            files += 1
            bytes += store.size(of: h) ?? 0
            if verifiedOnce(h) { continue }
            if imports.contains(h) {
                let origin = (try? ledger.artifactOrigin(h)) ?? nil
                let name = origin.map { $0.replacingOccurrences(of: "import:", with: "") } ?? "an imported file"
                let text = "imported input \(name) (\(h.prefix(16))…, \((try? store.path(for: h).path) ?? "?")) is corrupt or missing; re-run `seafold coordinator` with the experiment config to import it again"
                log.error("\(text)")
                store.remove(h)
                apply([], now: now, extraEvents: [EventRecord(time: now, kind: "artifact-corrupt", task: nil, worker: nil, detail: text)])
            }
            if outputs.contains(h) { badOutputs.append(h) }
        }
        for h in badOutputs { invalidateProducers(of: h, now: now, why: "its output \(h.prefix(16))… was corrupt or missing at start") }
        let secs = Date().timeIntervalSince(start)
        if files > 0 {
            log.notice("verified \(files) stored artifacts (\(bytes >> 20) MiB) in \(String(format: "%.2f", secs)) s; \(badOutputs.count) corrupt outputs")
        }
        lastVerification = (files, bytes, secs)
    }

    /// Puts the producers of a bad artifact back in the queue (the bad file is removed).
    func invalidateProducers(of hash: String, now: Double, why: String) {
        store.remove(hash)
        servedVerified[hash] = nil
        readHandles.removeValue(forKey: hash).map { try? $0.close() }
        for id in producers(of: hash) {
            log.error("task \(tasks[id]?.label ?? id) runs again: \(why)")
            apply(sched.handle(.invalidate(task: id, withDependents: false, reason: why), now: now), now: now,
                  extraEvents: [EventRecord(time: now, kind: "artifact-corrupt", task: id, worker: nil, detail: why)])
        }
    }

    /// Before the first chunk of an artifact goes out: true if it may be served. A corrupt one
    /// invalidates its producer, and the leases of the fetching worker that need it end without
    /// counting against anyone (the task waits for its input to be produced again).
    func verifyBeforeServing(_ hash: String, to peer: Data, now: Double) -> Bool {
        guard ArtifactStore.isValidHash(hash), store.contains(hash) else { return true }  // onFetch answers "no artifact"
        if verifiedOnce(hash) { return true }
        let needing = attempts.values.filter { a in
            guard let t = tasks[a.taskID], holds(peer, a.leaseToken) else { return false }
            return ((try? resolveInputs(t)) ?? [:]).values.contains { $0.sha256 == hash }
        }.map(\.leaseToken)
        invalidateProducers(of: hash, now: now, why: "its output \(hash.prefix(16))… was corrupt when a worker fetched it")
        for token in needing.sorted() {
            apply(sched.handle(.abandon(lease: token, error: "input \(hash.prefix(16))… was corrupt on the coordinator; it is produced again"), now: now), now: now)
        }
        _ = send(peer, WireMessage(.chunk, ChunkHeader(sha256: hash, offset: 0, total: -1, error: "artifact \(hash.prefix(16))… was corrupt on the coordinator")))
        return false
    }
}
