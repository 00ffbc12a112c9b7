import Foundation

/// Consistency checks for the Kubernetes manifests in cluster/k8s: what `kubectl apply`
/// would reject or what would silently never work (a selector that matches no pod, a Service
/// port that no container serves, a Secret nobody creates). Each problem is one line naming
/// the file, the object and the field.
struct KubernetesChecks {
    /// One parsed object and where it came from.
    struct Object {
        var file: String
        var body: [String: Any]
        var kind: String { body.string("kind") ?? "?" }
        var name: String { body.mapAt("metadata")?.string("name") ?? "?" }
        var label: String { "\(file): \(kind)/\(name)" }
    }

    var objects: [Object]
    /// Names of ConfigMaps and Secrets that the kustomization generates.
    var generatedConfigMaps: Set<String> = []
    var generatedSecrets: Set<String> = []
    /// Secrets that the documentation tells the user to create (`kubectl create secret ...`).
    var documentedSecrets: Set<String> = []
    /// Image names the kustomization rewrites (`images:`); a container may use these bare.
    var kustomizeImages: Set<String> = []
    /// Lower and upper bound for a worker's memory request (the benchmark's sizing).
    var workerMemoryRange: ClosedRange<Double> = 2 * 1_073_741_824 ... 3 * 1_073_741_824

    static let workloadKinds: Set<String> = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]

    /// Secret names from lines such as `kubectl create secret generic NAME ...` (also
    /// `kubectl -n ns create secret generic NAME`).
    static func secretsCreated(inDocumentation text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let k = words.firstIndex(of: "kubectl"), let c = words[k...].firstIndex(of: "create"),
                  c + 3 < words.count, words[c + 1] == "secret" else { continue }
            names.insert(words[c + 3])
        }
        return names
    }

    func problems() -> [String] {
        var problems: [String] = []
        for object in objects { problems += basics(object) }
        let services = objects.filter { $0.kind == "Service" }
        let workloads = objects.filter { Self.workloadKinds.contains($0.kind) || $0.kind == "Pod" }
        for workload in workloads { problems += podChecks(workload) }
        for service in services { problems += serviceChecks(service, workloads: workloads) }
        for set in objects where set.kind == "StatefulSet" {
            let serviceName = set.body.mapAt("spec")?.string("serviceName")
            if serviceName == nil || !services.contains(where: { $0.name == serviceName }) {
                problems.append("\(set.label): spec.serviceName \(serviceName ?? "(missing)") names no Service in the manifests")
            }
            let claims = set.body.listAt("spec.volumeClaimTemplates") as? [[String: Any]] ?? []
            for claim in claims where claim.mapAt("spec.resources.requests")?.string("storage") == nil {
                problems.append("\(set.label): volumeClaimTemplate \(claim.mapAt("metadata")?.string("name") ?? "?") has no spec.resources.requests.storage")
            }
        }
        return problems
    }

    /// apiVersion, kind, metadata.name on every object.
    func basics(_ o: Object) -> [String] {
        var p: [String] = []
        if (o.body.string("apiVersion") ?? "").isEmpty { p.append("\(o.file): an object has no apiVersion") }
        if (o.body.string("kind") ?? "").isEmpty { p.append("\(o.file): an object has no kind") }
        if (o.body.mapAt("metadata")?.string("name") ?? "").isEmpty { p.append("\(o.file): a \(o.kind) has no metadata.name") }
        return p
    }

    /// The pod spec of a workload (spec.template.spec) or of a Pod (spec).
    static func podSpec(_ o: Object) -> [String: Any]? {
        o.kind == "Pod" ? o.body.mapAt("spec") : o.body.mapAt("spec.template.spec")
    }

    static func podLabels(_ o: Object) -> [String: String] {
        stringMap(o.kind == "Pod" ? o.body.mapAt("metadata")?["labels"] : o.body.mapAt("spec.template.metadata")?["labels"]) ?? [:]
    }

    static func containers(_ spec: [String: Any], includingInit: Bool) -> [[String: Any]] {
        let main = spec.list("containers") as? [[String: Any]] ?? []
        let initial = includingInit ? (spec.list("initContainers") as? [[String: Any]] ?? []) : []
        return initial + main
    }

    func podChecks(_ o: Object) -> [String] {
        var p: [String] = []
        if o.kind != "Pod" {
            let selector = stringMap(o.body.mapAt("spec.selector")?["matchLabels"]) ?? [:]
            let labels = Self.podLabels(o)
            if selector.isEmpty { p.append("\(o.label): spec.selector.matchLabels is missing or empty") }
            for (k, v) in selector where labels[k] != v {
                p.append("\(o.label): selector \(k)=\(v) does not match the template labels (\(labels[k] ?? "absent"))")
            }
        }
        guard let spec = Self.podSpec(o) else { return p + ["\(o.label): no pod spec"] }
        let volumes = spec.list("volumes") as? [[String: Any]] ?? []
        var volumeNames = Set(volumes.compactMap { $0.string("name") })
        for claim in o.body.listAt("spec.volumeClaimTemplates") as? [[String: Any]] ?? [] {
            if let n = claim.mapAt("metadata")?.string("name") { volumeNames.insert(n) }
        }
        let containers = Self.containers(spec, includingInit: true)
        if Self.containers(spec, includingInit: false).isEmpty { p.append("\(o.label): no containers") }
        for c in containers {
            let name = c.string("name") ?? "?"
            let where_ = "\(o.label) container \(name)"
            if c.string("name") == nil { p.append("\(o.label): a container has no name") }
            if let image = c.string("image"), !image.isEmpty {
                if !image.contains("/") && !image.contains(":") && !kustomizeImages.contains(image) {
                    p.append("\(where_): image \(image) has no registry/tag and is not rewritten by the kustomization's images:")
                }
            } else {
                p.append("\(where_): no image")
            }
            if (stringList(c["command"]) ?? []).isEmpty { p.append("\(where_): no command") }
            let requests = c.mapAt("resources")?.map("requests")
            for key in ["cpu", "memory"] {
                guard let q = requests?.string(key) else { p.append("\(where_): no resources.requests.\(key)"); continue }
                if kubernetesQuantity(q) == nil { p.append("\(where_): resources.requests.\(key) \(q) is not a quantity") }
            }
            if c.mapAt("resources")?.map("limits")?.string("memory") == nil {
                p.append("\(where_): no resources.limits.memory")
            }
            for mount in c.list("volumeMounts") as? [[String: Any]] ?? [] {
                let v = mount.string("name") ?? "?"
                if !volumeNames.contains(v) { p.append("\(where_): volumeMount \(v) names no volume") }
                if mount.string("mountPath") == nil { p.append("\(where_): volumeMount \(v) has no mountPath") }
            }
        }
        for v in volumes {
            let vname = v.string("name") ?? "?"
            if let secret = v.map("secret") {
                let s = secret.string("secretName") ?? ""
                if !secretExists(s) {
                    p.append("\(o.label): volume \(vname) uses Secret \(s), which is neither in the manifests, nor generated by the kustomization, nor created by a documented `kubectl create secret`")
                }
            }
            if let cm = v.map("configMap") {
                let n = cm.string("name") ?? ""
                if !generatedConfigMaps.contains(n) && !objects.contains(where: { $0.kind == "ConfigMap" && $0.name == n }) {
                    p.append("\(o.label): volume \(vname) uses ConfigMap \(n), which nothing creates")
                }
            }
        }
        return p
    }

    func secretExists(_ name: String) -> Bool {
        !name.isEmpty && (generatedSecrets.contains(name) || documentedSecrets.contains(name)
            || objects.contains(where: { $0.kind == "Secret" && $0.name == name }))
    }

    /// The Service selects some workload's pods, and each port's targetPort is a port that a
    /// container of those pods declares (by name or number).
    func serviceChecks(_ s: Object, workloads: [Object]) -> [String] {
        var p: [String] = []
        let selector = stringMap(s.body.mapAt("spec")?["selector"]) ?? [:]
        if selector.isEmpty { return ["\(s.label): spec.selector is missing or empty"] }
        let selected = workloads.filter { w in
            let labels = Self.podLabels(w)
            return selector.allSatisfy { labels[$0.key] == $0.value }
        }
        if selected.isEmpty { p.append("\(s.label): selector \(selector) matches no pod template") }
        var names: Set<String> = []
        var numbers: Set<String> = []
        for w in selected {
            for c in Self.podSpec(w).map({ Self.containers($0, includingInit: false) }) ?? [] {
                for port in c.list("ports") as? [[String: Any]] ?? [] {
                    if let n = port.string("name") { names.insert(n) }
                    if let n = port.string("containerPort") { numbers.insert(n) }
                }
            }
        }
        let ports = s.body.listAt("spec.ports") as? [[String: Any]] ?? []
        if ports.isEmpty { p.append("\(s.label): no spec.ports") }
        for port in ports {
            guard let number = port.string("port") else { p.append("\(s.label): a port has no port number"); continue }
            let target = port.string("targetPort") ?? number
            if !selected.isEmpty && !names.contains(target) && !numbers.contains(target) {
                p.append("\(s.label): port \(number) targets \(target), which no selected container declares (containerPort names \(names.sorted()), numbers \(numbers.sorted()))")
            }
        }
        return p
    }
}
