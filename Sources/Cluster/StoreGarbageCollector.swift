import Foundation

/// Finds the files of a run's artifact store that no task needs any more, and deletes them.
/// Knows tasks only as the ledger records them (states, input hashes, output hashes, the
/// current checkpoint, checkpoint events), nothing of what the artifacts mean.
///
/// Kept: every output of a done task; every input of a task not done that is a stored hash
/// (imported packs, user files); the current checkpoint of every task not done. Deleted:
/// checkpoints of done tasks, superseded checkpoints, every other complete artifact (orphans)
/// once untouched for `staleAfter`, and temporary files of the store untouched for as long (an
/// upload in progress keeps its file fresh). Files not named by a hash are left alone.
public enum StoreGarbageCollector {
    /// Why a file goes.
    public enum Kind: String, Codable, CaseIterable, Sendable {
        case doneTaskCheckpoint = "checkpoint of a done task"
        case supersededCheckpoint = "superseded checkpoint"
        case orphan = "unreferenced artifact"
        case staleTemporary = "stale temporary file"
        case scratch = "scratch leftover"
    }

    /// One file or directory to delete.
    public struct Deletion: Codable, Equatable, Sendable {
        public var path: String
        public var bytes: Int64
        public var kind: Kind
        public init(path: String, bytes: Int64, kind: Kind) { self.path = path; self.bytes = bytes; self.kind = kind }
    }

    /// Files and bytes of one kind.
    public struct Total: Codable, Equatable, Sendable {
        public var kind: Kind
        public var count: Int
        public var bytes: Int64
    }

    /// What a collection deletes (or, in a dry run, would delete) and what it keeps.
    public struct Plan: Codable, Equatable, Sendable {
        public var deletions: [Deletion] = []
        public var keptCount = 0
        public var keptBytes: Int64 = 0
        public init() {}

        public var freedBytes: Int64 { deletions.reduce(0) { $0 + $1.bytes } }

        public var totals: [Total] {
            Kind.allCases.compactMap { k in
                let d = deletions.filter { $0.kind == k }
                return d.isEmpty ? nil : Total(kind: k, count: d.count, bytes: d.reduce(0) { $0 + $1.bytes })
            }
        }
    }

    /// The hashes the ledger's tasks still need.
    public static func referenced(_ tasks: [TaskRecord]) -> Set<String> {
        var keep = Set<String>()
        for t in tasks {
            if t.state == .done {
                keep.formUnion(t.artifacts.values)
                continue
            }
            for case let .hash(h) in t.inputs.values { keep.insert(h) }
            if let c = t.checkpoint { keep.insert(c) }
        }
        return keep
    }

    /// Decides what goes, touching nothing.
    public static func plan(ledger: Ledger, store: ArtifactStore, now: Date = Date(), staleAfter: TimeInterval = 3600) throws -> Plan {
        let tasks = try ledger.tasks()
        let keep = referenced(tasks)
        let state = Dictionary(tasks.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
        // Which hashes were checkpoints, and of which task.
        var checkpointOf: [String: String] = [:]
        for e in try ledger.events(kind: "checkpoint") { if let t = e.task { checkpointOf[e.detail] = t } }
        for t in tasks { if let c = t.checkpoint { checkpointOf[c] = t.id } }

        var plan = Plan()
        let fm = FileManager.default
        let prefixes = ((try? fm.contentsOfDirectory(atPath: store.root.path)) ?? []).sorted()
        for p in prefixes where p.utf8.count == 2 {
            let dir = store.root.appendingPathComponent(p, isDirectory: true)
            for name in ((try? fm.contentsOfDirectory(atPath: dir.path)) ?? []).sorted() {
                guard ArtifactStore.isValidHash(name), name.hasPrefix(p) else { continue }
                let url = dir.appendingPathComponent(name)
                let bytes = fileSize(url)
                // An artifact nothing references yet may be a result or checkpoint whose ledger
                // write is still to come: unreferenced ones go only once they are stale.
                let recent = checkpointOf[name] == nil && now.timeIntervalSince(usage(url).newest) < staleAfter
                if keep.contains(name) || recent {
                    plan.keptCount += 1
                    plan.keptBytes += bytes
                    continue
                }
                let kind: Kind
                if let task = checkpointOf[name] {
                    kind = state[task] == .done ? .doneTaskCheckpoint : .supersededCheckpoint
                } else {
                    kind = .orphan
                }
                plan.deletions.append(Deletion(path: url.path, bytes: bytes, kind: kind))
            }
        }
        let tmp = store.root.appendingPathComponent("tmp", isDirectory: true)
        plan.deletions += stale(entriesOf: tmp, kind: .staleTemporary, now: now, staleAfter: staleAfter)
        return plan
    }

    /// Entries of `directory` (files or whole directories) whose newest modification is older
    /// than `staleAfter`: nothing has written there for that long, so no writer is using them.
    public static func stale(entriesOf directory: URL, kind: Kind, now: Date = Date(), staleAfter: TimeInterval = 3600) -> [Deletion] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().compactMap {
            stale(directory.appendingPathComponent($0), kind: kind, now: now, staleAfter: staleAfter)
        }
    }

    /// `url` (a file, or a directory with everything in it) as a deletion when it exists and its
    /// newest modification is older than `staleAfter`.
    public static func stale(_ url: URL, kind: Kind, now: Date = Date(), staleAfter: TimeInterval = 3600) -> Deletion? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let (bytes, newest) = usage(url)
        return now.timeIntervalSince(newest) >= staleAfter ? Deletion(path: url.path, bytes: bytes, kind: kind) : nil
    }

    /// Deletes the plan's files; returns what was actually deleted (a file already gone, or one
    /// that cannot be removed, is left out).
    public static func execute(_ plan: Plan) -> Plan {
        var done = plan
        done.deletions = plan.deletions.filter { d in
            (try? FileManager.default.removeItem(atPath: d.path)) != nil
        }
        return done
    }

    /// Takes RUN/coordinator.lock without waiting, so no coordinator starts while files are
    /// deleted. Returns the descriptor holding the lock (close it to release), -1 when there is
    /// no lock file (no coordinator of this run has started), or nil when a live coordinator
    /// holds it.
    public static func lockRun(_ runDirectory: URL) -> Int32? {
        let path = runDirectory.appendingPathComponent("coordinator.lock").path
        guard FileManager.default.fileExists(atPath: path) else { return -1 }
        let fd = open(path, O_RDWR)
        guard fd >= 0 else { return nil }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { close(fd); return nil }
        return fd
    }

    static func fileSize(_ url: URL) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? NSNumber)?.int64Value ?? 0
    }

    /// Bytes under `url` and its newest modification time (the entry itself included).
    static func usage(_ url: URL) -> (bytes: Int64, newest: Date) {
        let fm = FileManager.default
        let attrs = try? fm.attributesOfItem(atPath: url.path)
        var newest = (attrs?[.modificationDate] as? Date) ?? .distantPast
        guard (attrs?[.type] as? FileAttributeType) == .typeDirectory else { return (fileSize(url), newest) }
        var bytes: Int64 = 0
        if let e = fm.enumerator(at: url, includingPropertiesForKeys: [.fileSizeKey, .contentModificationDateKey]) {
            for case let f as URL in e {
                guard let v = try? f.resourceValues(forKeys: [.fileSizeKey, .contentModificationDateKey]) else { continue }
                bytes += Int64(v.fileSize ?? 0)
                if let d = v.contentModificationDate, d > newest { newest = d }
            }
        }
        return (bytes, newest)
    }
}
