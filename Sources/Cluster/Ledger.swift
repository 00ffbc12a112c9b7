import Foundation
import GRDB
import Synchronization

/// The durable record of a run: SQLite in WAL mode (GRDB) at RUN/ledger.sqlite with tables
/// tasks, attempts (one row per lease), workers, artifacts and events. Every state change is
/// one transaction (task rows + attempt row + events together), and each event is also appended
/// to RUN/events.jsonl after its commit. Several processes may read it (`seafold status`) while
/// the coordinator writes.
public final class Ledger: Sendable {
    public let runDirectory: URL
    let db: DatabasePool
    private let eventsURL: URL
    /// RUN/ledger.sqlite
    var path: String { runDirectory.appendingPathComponent("ledger.sqlite").path }
    private let eventsLock = NSLock()

    public init(runDirectory: URL) throws {
        self.runDirectory = runDirectory
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: runDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch { throw ClusterError.io(path: runDirectory.path, reason: "cannot create run directory: \(error.localizedDescription)") }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let path = runDirectory.appendingPathComponent("ledger.sqlite").path
        // Create the database owner-only before SQLite opens it: SQLite gives the -wal and -shm
        // files the database file's mode, so a umask-default 0644 ledger would leak through them.
        let fd = open(path, O_CREAT | O_RDWR, 0o600)
        if fd >= 0 { fchmod(fd, 0o600); close(fd) }
        do {
            db = try DatabasePool(path: path, configuration: config)
            try Ledger.migrator.migrate(db)
        } catch { throw ClusterError.io(path: path, reason: "cannot open ledger: \(error)") }
        for f in [path, path + "-wal", path + "-shm"] { chmod(f, 0o600) }
        eventsURL = runDirectory.appendingPathComponent("events.jsonl")
        let efd = open(eventsURL.path, O_CREAT | O_WRONLY | O_APPEND, 0o600)
        if efd >= 0 { fchmod(efd, 0o600); close(efd) }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
            CREATE TABLE tasks (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL,
              spec BLOB NOT NULL, dependencies TEXT NOT NULL, inputs TEXT NOT NULL, priority INTEGER NOT NULL,
              state TEXT NOT NULL, attempts INTEGER NOT NULL, failures INTEGER NOT NULL, lastError TEXT,
              result BLOB, artifacts TEXT NOT NULL, checkpoint TEXT, currentLease TEXT,
              progress REAL NOT NULL, progressMessage TEXT NOT NULL, submittedAt REAL NOT NULL, finishedAt REAL);
            CREATE TABLE attempts (leaseToken TEXT PRIMARY KEY, taskID TEXT NOT NULL, attempt INTEGER NOT NULL,
              workerID TEXT NOT NULL, startedAt REAL NOT NULL, endedAt REAL, outcome TEXT NOT NULL, error TEXT);
            CREATE INDEX attempts_task ON attempts(taskID);
            CREATE TABLE workers (id TEXT PRIMARY KEY, host TEXT NOT NULL, codeVersion TEXT NOT NULL, threads INTEGER NOT NULL,
              memoryBytes INTEGER NOT NULL, slots INTEGER NOT NULL, firstSeen REAL NOT NULL, lastSeen REAL NOT NULL, state TEXT NOT NULL);
            CREATE TABLE artifacts (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, origin TEXT NOT NULL, createdAt REAL NOT NULL);
            CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, kind TEXT NOT NULL,
              task TEXT, worker TEXT, detail TEXT NOT NULL);
            """)
        }
        // The plan's expected duration (deadlines) and requests from the CLI to a live coordinator.
        m.registerMigration("v2") { db in
            try db.execute(sql: """
            ALTER TABLE tasks ADD COLUMN expectedSeconds REAL;
            CREATE TABLE requests (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, task TEXT NOT NULL,
              withDependents INTEGER NOT NULL, createdAt REAL NOT NULL, appliedAt REAL, outcome TEXT);
            """)
        }
        // Which BLAS kernel and CPU ISA level a worker computed with: tables from a cluster of
        // mixed CPUs can differ in the last digits, and this says which worker ran what.
        m.registerMigration("v3-worker-kernel") { db in
            try db.execute(sql: "ALTER TABLE workers ADD COLUMN kernel TEXT")
        }
        return m
    }

    // MARK: writes

    /// Inserts tasks whose id is new (existing ids keep their state: submit is idempotent) and
    /// returns the inserted records.
    func submit(_ descriptors: [TaskDescriptor], now: Double) throws -> [TaskRecord] {
        var inserted: [TaskRecord] = []
        var events: [EventRecord] = []
        try write { db in
            var seq = try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(seq), -1) FROM tasks") ?? -1
            for d in descriptors {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM tasks WHERE id = ?", arguments: [d.id]) == true { continue }
                seq += 1
                let r = TaskRecord(id: d.id, kind: d.kind, label: d.label, spec: d.spec, dependencies: d.dependencies,
                                   inputs: d.inputs, priority: d.priority, state: .pending, attempts: 0, failures: 0,
                                   lastError: nil, result: nil, artifacts: [:], checkpoint: nil, currentLease: nil,
                                   progress: 0, progressMessage: "", submittedAt: now, finishedAt: nil, sequence: seq,
                                   expectedSeconds: d.expectedSeconds)
                try Ledger.insert(r, db)
                let e = EventRecord(time: now, kind: "submitted", task: d.id, worker: nil, detail: d.label)
                try Ledger.insert(e, db)
                inserted.append(r)
                events.append(e)
            }
        }
        appendJSONL(events)
        return inserted
    }

    /// Signalled to end the running checkpoint thread (nil: none runs).
    private let checkpointStop = Mutex<DispatchSemaphore?>(nil)

    /// Moves WAL checkpoints off the writing thread while a coordinator serves: SQLite's
    /// automatic checkpoint runs inside whichever commit crosses 1000 WAL pages, copying pages
    /// and fsyncing the database file there (a multi-millisecond stall of the serving loop every
    /// second or so under load). Here the writer's auto-checkpoint is off and a second
    /// connection runs PASSIVE checkpoints every 200 ms on its own thread; durability is the
    /// same (WAL with synchronous=NORMAL: commits are in the WAL, the checkpoint fsyncs).
    func startBackgroundCheckpoints() {
        guard checkpointStop.withLock({ $0 == nil }) else { return }
        guard (try? db.writeWithoutTransaction({ try $0.execute(sql: "PRAGMA wal_autocheckpoint = 0") })) != nil else { return }
        let path = self.path
        let stop = DispatchSemaphore(value: 0)
        checkpointStop.withLock { $0 = stop }
        let t = Thread {
            var config = Configuration()
            config.busyMode = .timeout(1)
            guard let q = try? DatabaseQueue(path: path, configuration: config) else { return }
            // Every 200 ms until stopped.
            while stop.wait(timeout: .now() + 0.2) == .timedOut {
                try? q.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        t.name = "seafold.ledger-checkpoint"
        t.start()
    }

    /// Stops the background checkpoints and gives commits their automatic checkpoint back.
    func stopBackgroundCheckpoints() {
        guard let stop = checkpointStop.withLock({ s in defer { s = nil }; return s }) else { return }
        stop.signal()
        _ = try? db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA wal_autocheckpoint = 1000") }
    }

    deinit { checkpointStop.withLock { _ = $0?.signal() } }

    /// Writes changed tasks, attempts, workers, artifacts and events as one transaction.
    func commit(tasks: [TaskRecord] = [], attempts: [AttemptRecord] = [], workers: [WorkerRecord] = [],
                artifacts: [(hash: String, size: Int64, origin: String)] = [], events: [EventRecord] = []) throws {
        try write { db in
            for t in tasks { try Ledger.update(t, db) }
            for a in attempts {
                try db.execute(sql: "INSERT OR REPLACE INTO attempts VALUES (?,?,?,?,?,?,?,?)",
                               arguments: [a.leaseToken, a.taskID, a.attempt, a.workerID, a.startedAt, a.endedAt, a.outcome.rawValue, a.error])
            }
            for w in workers {
                try db.execute(sql: """
                    INSERT OR REPLACE INTO workers (id, host, codeVersion, threads, memoryBytes, slots, firstSeen, lastSeen, state, kernel)
                    VALUES (?,?,?,?,?,?,?,?,?,?)
                    """, arguments: [w.id, w.host, w.codeVersion, w.threads, w.memoryBytes, w.slots, w.firstSeen, w.lastSeen, w.state, w.kernel])
            }
            for a in artifacts {
                try db.execute(sql: "INSERT OR IGNORE INTO artifacts VALUES (?,?,?,?)", arguments: [a.hash, a.size, a.origin, Date().timeIntervalSince1970])
            }
            for e in events { try Ledger.insert(e, db) }
        }
        appendJSONL(events)
    }

    /// Puts a failed task (and the tasks blocked by it) back to pending with its failure count
    /// reset, directly in the ledger: only while no coordinator serves this run (a live one
    /// would not see it; write a request with `addRequest` instead, or use `Coordinator.retry`).
    public func retry(taskID: String) throws {
        var all = try tasks()
        guard let i = all.firstIndex(where: { $0.id == taskID }) else { throw ClusterError.task(id: taskID, reason: "not in the ledger") }
        guard all[i].state == .failed else { throw ClusterError.task(id: taskID, reason: "is \(all[i].state.rawValue), only failed tasks can be retried") }
        try resetFailed(&all, ids: [taskID])
    }

    /// Retries every failed task; returns their ids.
    @discardableResult
    public func retryFailed() throws -> [String] {
        var all = try tasks()
        let ids = all.filter { $0.state == .failed }.map(\.id)
        if !ids.isEmpty { try resetFailed(&all, ids: Set(ids)) }
        return ids
    }

    func resetFailed(_ all: inout [TaskRecord], ids: Set<String>) throws {
        let now = Date().timeIntervalSince1970
        var changed: [TaskRecord] = []
        var events: [EventRecord] = []
        for i in all.indices where ids.contains(all[i].id) {
            all[i].state = .pending; all[i].failures = 0; all[i].lastError = nil; all[i].finishedAt = nil
            changed.append(all[i])
            events.append(EventRecord(time: now, kind: "retry", task: all[i].id, worker: nil, detail: "reset by request"))
        }
        let blocked = Ledger.blockedSet(all)
        for i in all.indices where all[i].state == .blocked && !blocked.contains(all[i].id) {
            all[i].state = .pending
            changed.append(all[i])
            events.append(EventRecord(time: now, kind: "unblocked", task: all[i].id, worker: nil, detail: ""))
        }
        try commit(tasks: changed, events: events)
    }

    /// Ids of tasks that cannot run because a dependency (transitively) failed.
    static func blockedSet(_ tasks: [TaskRecord]) -> Set<String> {
        var dependents: [String: [String]] = [:]
        for t in tasks { for d in t.dependencies { dependents[d, default: []].append(t.id) } }
        var blocked = Set<String>()
        var stack = tasks.filter { $0.state == .failed }.map(\.id)
        while let id = stack.popLast() {
            for d in dependents[id] ?? [] where !blocked.contains(d) {
                blocked.insert(d)
                stack.append(d)
            }
        }
        return blocked
    }

    private func write(_ body: (Database) throws -> Void) throws {
        do { try db.write { db in try body(db) } } catch let e as ClusterError { throw e } catch {
            throw ClusterError.io(path: runDirectory.appendingPathComponent("ledger.sqlite").path, reason: "ledger write failed: \(error)")
        }
    }

    private func appendJSONL(_ events: [EventRecord]) {
        guard !events.isEmpty else { return }
        var blob = Data()
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        for e in events { if let d = try? enc.encode(e) { blob.append(d); blob.append(10) } }
        eventsLock.lock(); defer { eventsLock.unlock() }
        if let h = FileHandle(forWritingAtPath: eventsURL.path) {
            defer { try? h.close() }
            guard let end = try? h.seekToEnd() else { return }
            // On a full disk a write may land partly: cut it back so every line stays whole JSON.
            // (The events are in the ledger either way.)
            do { try h.write(contentsOf: blob) } catch { try? h.truncate(atOffset: end) }
        }
    }

    static func json<T: Encodable>(_ v: T) -> String { String(decoding: (try? WireMessage.encoder.encode(v)) ?? Data("null".utf8), as: UTF8.self) }

    private static func insert(_ r: TaskRecord, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", arguments: [
            r.id, r.sequence, r.kind, r.label, r.spec, json(r.dependencies), json(r.inputs), r.priority, r.state.rawValue,
            r.attempts, r.failures, r.lastError, r.result, json(r.artifacts), r.checkpoint, r.currentLease,
            r.progress, r.progressMessage, r.submittedAt, r.finishedAt, r.expectedSeconds])
    }

    private static func update(_ r: TaskRecord, _ db: Database) throws {
        try db.execute(sql: """
            UPDATE tasks SET state=?, attempts=?, failures=?, lastError=?, result=?, artifacts=?, checkpoint=?,
              currentLease=?, progress=?, progressMessage=?, finishedAt=?, priority=? WHERE id=?
            """, arguments: [r.state.rawValue, r.attempts, r.failures, r.lastError, r.result, json(r.artifacts),
                             r.checkpoint, r.currentLease, r.progress, r.progressMessage, r.finishedAt, r.priority, r.id])
    }

    private static func insert(_ e: EventRecord, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO events (time, kind, task, worker, detail) VALUES (?,?,?,?,?)",
                       arguments: [e.time, e.kind, e.task, e.worker, e.detail])
    }
}
