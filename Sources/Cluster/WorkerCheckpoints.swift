import Foundation

/// A worker's own checkpoints, kept in its cache (`CACHE/checkpoints/<task>/`): the newest one
/// of each task it ran lately, so that the same task handed back to this cache resumes without
/// a transfer. Beside each file a small JSON says its sha256 and the lineage of checkpoints it
/// continues: every checkpoint of this line that reached the coordinator. A coordinator
/// checkpoint from that list is not newer than the local one; any other came from a worker
/// that ran the task later, and wins. (Any checkpoint of a task is a valid resume point, since
/// training is deterministic: the rule only decides which saves more work.)
struct LocalCheckpoints {
    struct Meta: Codable {
        var sha256: String
        var size: Int64
        /// Checkpoints of this line that the coordinator stored (oldest first).
        var uploaded: [String]
        var savedAt: Double
        /// Seconds the last upload took (hash excluded), and when it ended.
        var uploadSeconds: Double?
        var uploadEndedAt: Double?
    }

    let root: URL
    /// Tasks whose checkpoints are kept at once (the running one and a recently failed one).
    static let keepTasks = 2

    init(cache: URL) { root = cache.appendingPathComponent("checkpoints", isDirectory: true) }

    /// Task ids are opaque strings: the directory is named by their hash.
    func directory(_ task: String) -> URL {
        root.appendingPathComponent(String(ArtifactStore.sha256(Data(task.utf8)).prefix(32)), isDirectory: true)
    }

    func meta(_ task: String) -> Meta? {
        guard let d = try? Data(contentsOf: directory(task).appendingPathComponent("latest.json")) else { return nil }
        return try? JSONDecoder().decode(Meta.self, from: d)
    }

    func file(_ task: String) -> URL { directory(task).appendingPathComponent("latest.safetensors") }

    /// Moves `file` in as the task's newest checkpoint (rename; a copy across file systems)
    /// and writes its meta. The previous checkpoint of the task is replaced in one step.
    func keep(_ task: String, file: URL, meta: Meta) throws {
        let dir = directory(task)
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let dest = self.file(task)
            if rename(file.path, dest.path) != 0 {
                let part = dir.appendingPathComponent("latest.part")
                try? fm.removeItem(at: part)
                try fm.copyItem(at: file, to: part)
                try? fm.removeItem(at: file)
                guard rename(part.path, dest.path) == 0 else { throw ClusterError.io(path: dest.path, reason: String(cString: strerror(errno))) }
            }
            try write(meta, task)
        } catch let e as ClusterError { throw e } catch {
            throw ClusterError.io(path: dir.path, reason: "cannot keep a checkpoint in the worker's cache: \(error.localizedDescription)")
        }
        prune(keeping: task)
    }

    func write(_ meta: Meta, _ task: String) throws {
        let url = directory(task).appendingPathComponent("latest.json")
        do { try JSONEncoder().encode(meta).write(to: url, options: .atomic) } catch {
            throw ClusterError.io(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    func remove(_ task: String) { try? FileManager.default.removeItem(at: directory(task)) }

    /// Keeps `task` and the most recently saved others, up to `keepTasks` in all.
    func prune(keeping task: String) {
        let fm = FileManager.default
        let mine = directory(task).lastPathComponent
        let others = ((try? fm.contentsOfDirectory(atPath: root.path)) ?? []).filter { $0 != mine }.map { name -> (String, Double) in
            let m = (try? Data(contentsOf: root.appendingPathComponent(name).appendingPathComponent("latest.json")))
                .flatMap { try? JSONDecoder().decode(Meta.self, from: $0) }
            return (name, m?.savedAt ?? 0)
        }.sorted { $0.1 > $1.1 }
        for (name, _) in others.dropFirst(LocalCheckpoints.keepTasks - 1) {
            try? fm.removeItem(at: root.appendingPathComponent(name))
        }
    }
}
