import Foundation

/// What differs between a run's saved plan and a new one, in words: the config keys that
/// changed (with old and new values), datasets whose packs changed, and tasks added or dropped.
/// Said on resume and when a changed config extends a run, so a plan is never replaced silently.
public enum RunPlanChanges {
    /// One line per difference; empty when the plans are equal.
    public static func describe(old: RunPlan, new: RunPlan) -> [String] {
        var out: [String] = []
        if old.format != new.format { out.append("plan format \(old.format) → \(new.format)") }
        let a = flatten(old.config), b = flatten(new.config)
        for key in Set(a.keys).union(b.keys).sorted() where a[key] != b[key] {
            out.append("config \(key): \(a[key] ?? "(absent)") → \(b[key] ?? "(absent)")")
        }
        if old.pretrainedFileHash != new.pretrainedFileHash {
            out.append("pretrained weights file: sha256 \(old.pretrainedFileHash?.prefix(12) ?? "none") → \(new.pretrainedFileHash?.prefix(12) ?? "none")")
        }
        let oldSets = Dictionary(old.datasets.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        let newSets = Dictionary(new.datasets.map { ($0.name, $0) }, uniquingKeysWith: { x, _ in x })
        for name in Set(oldSets.keys).union(newSets.keys).sorted() {
            switch (oldSets[name], newSets[name]) {
            case (nil, _?): out.append("dataset \(name): added")
            case (_?, nil): out.append("dataset \(name): removed")
            case let (x?, y?):
                if x.classes != y.classes { out.append("dataset \(name): classes \(x.classes) → \(y.classes)") }
                if x.classCounts != y.classCounts { out.append("dataset \(name): images per class \(x.classCounts) → \(y.classCounts)") }
                if x.packHash != y.packHash { out.append("dataset \(name): pack \(x.packHash.prefix(12)) → \(y.packHash.prefix(12)) (its images changed)") }
                if x.foldAssignment != y.foldAssignment { out.append("dataset \(name): fold assignment changed") }
            default: break
            }
        }
        let oldIDs = Set(old.tasks.map(\.id)), newIDs = Set(new.tasks.map(\.id))
        let added = new.tasks.filter { !oldIDs.contains($0.id) }, dropped = old.tasks.filter { !newIDs.contains($0.id) }
        if !added.isEmpty { out.append("tasks added: \(added.count) (\(sample(added)))") }
        if !dropped.isEmpty { out.append("tasks no longer planned: \(dropped.count) (\(sample(dropped))); their results stay in the run directory but leave the report") }
        if out.isEmpty && old != new { out.append("the task list changed (same ids; labels, order or priorities differ)") }
        return out
    }

    private static func sample(_ tasks: [PlannedTask]) -> String {
        let shown = tasks.prefix(3).map { "\($0.label) \($0.id.prefix(8))" }
        return shown.joined(separator: ", ") + (tasks.count > 3 ? ", …" : "")
    }

    /// The config as "key.path" → JSON value text, for a key-by-key comparison.
    static func flatten(_ config: ExperimentConfig) -> [String: String] {
        let enc = JSONEncoder()
        enc.outputFormatting = .sortedKeys
        guard let data = try? enc.encode(config), let object = try? JSONSerialization.jsonObject(with: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ v: Any, _ path: String) {
            if let d = v as? [String: Any] {
                for (k, x) in d { walk(x, path.isEmpty ? k : "\(path).\(k)") }
            } else if let a = v as? [Any], a.contains(where: { $0 is [String: Any] }) {
                // Lists of records (datasets) by name when they have one, else by index.
                for (i, x) in a.enumerated() {
                    let name = (x as? [String: Any])?["name"] as? String
                    walk(x, "\(path)[\(name ?? String(i))]")
                }
            } else if let text = try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys]) {
                // A scalar or a list of scalars, as JSON (wrapped in a list and unwrapped again).
                out[path] = String(String(decoding: text, as: UTF8.self).dropFirst().dropLast())
            }
        }
        walk(object, "")
        return out
    }
}
