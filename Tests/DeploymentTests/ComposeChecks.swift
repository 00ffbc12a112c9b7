import Foundation

/// Consistency checks for seafold's Compose files (docker/compose.yaml and
/// docker/compose.remote-workers.yaml) beyond what `docker-compose config` validates: named
/// volumes and secrets that are used are declared (and the other way round), each secret has a
/// file, a `--scale`d service has no fixed name or host port, depends_on names services, and
/// the seafold command lines agree with the mounts (keys directory, config file, ports).
struct ComposeChecks {
    var file: String
    var body: [String: Any]
    /// Directory of the compose file, relative to the repository root (bind sources resolve here).
    var baseDirectory: String

    var services: [String: [String: Any]] { body.map("services") as? [String: [String: Any]] ?? [:] }

    /// The service's command after interpolation with defaults.
    func command(_ service: String) -> [String] {
        (stringList(services[service]?["command"]) ?? []).map { DeploymentFiles.interpolate($0) }
    }

    /// Secret targets as container paths (Compose puts relative targets under /run/secrets).
    func secretTargets(_ service: String) -> [String: String] {
        var out: [String: String] = [:]
        for entry in services[service]?.list("secrets") ?? [] {
            if let short = entry as? String { out["/run/secrets/\(short)"] = short; continue }
            guard let long = entry as? [String: Any], let source = long.string("source") else { continue }
            let target = DeploymentFiles.interpolate(long.string("target") ?? source)
            out[target.hasPrefix("/") ? target : "/run/secrets/\(target)"] = source
        }
        return out
    }

    /// Volume entries as (source, target) after interpolation (short syntax and long syntax).
    func volumes(_ service: String) -> [(source: String, target: String)] {
        (services[service]?.list("volumes") ?? []).compactMap { entry in
            if let short = entry as? String {
                let parts = DeploymentFiles.interpolate(short).split(separator: ":").map(String.init)
                return parts.count >= 2 ? (parts[0], parts[1]) : nil
            }
            if let long = entry as? [String: Any], let t = long.string("target") {
                return (DeploymentFiles.interpolate(long.string("source") ?? ""), DeploymentFiles.interpolate(t))
            }
            return nil
        }
    }

    static func isNamedVolume(_ source: String) -> Bool {
        !source.isEmpty && !source.hasPrefix("/") && !source.hasPrefix(".") && !source.hasPrefix("~")
    }

    func problems() -> [String] {
        var p: [String] = []
        if services.isEmpty { return ["\(file): no services"] }
        if body["version"] != nil { p.append("\(file): a top-level `version:` key is obsolete in Compose v2") }
        let declaredVolumes = Set((body.map("volumes") ?? [:]).keys)
        let declaredSecrets = body.map("secrets") as? [String: [String: Any]] ?? [:]
        var usedVolumes: Set<String> = []
        var usedSecrets: Set<String> = []
        for (name, s) in services.sorted(by: { $0.key < $1.key }) {
            let label = "\(file): service \(name)"
            if s["image"] == nil && s["build"] == nil { p.append("\(label) has neither image nor build") }
            if command(name).isEmpty && s["entrypoint"] == nil { p.append("\(label) has no command") }
            for v in volumes(name) where Self.isNamedVolume(v.source) {
                usedVolumes.insert(v.source)
                if !declaredVolumes.contains(v.source) { p.append("\(label) mounts volume \(v.source), which is not declared under volumes:") }
            }
            for source in secretTargets(name).values {
                usedSecrets.insert(source)
                if declaredSecrets[source] == nil { p.append("\(label) uses secret \(source), which is not declared under secrets:") }
            }
            for dep in (s.list("depends_on") as? [String]) ?? Array((s.map("depends_on") ?? [:]).keys) where services[dep] == nil {
                p.append("\(label) depends on \(dep), which is not a service")
            }
            if name.contains("worker") {
                // `--scale worker=N` needs replicas that differ in nothing fixed.
                if s["container_name"] != nil { p.append("\(label) sets container_name, which breaks --scale") }
                if !(s.list("ports") ?? []).isEmpty { p.append("\(label) publishes ports, which breaks --scale") }
            }
        }
        for (name, secret) in declaredSecrets {
            if secret.string("file") == nil && secret.string("environment") == nil && secret["external"] == nil {
                p.append("\(file): secret \(name) has no file")
            }
            if !usedSecrets.contains(name) { p.append("\(file): secret \(name) is declared but no service uses it") }
        }
        for v in declaredVolumes.subtracting(usedVolumes) { p.append("\(file): volume \(v) is declared but no service mounts it") }
        p += seafoldWiring()
        return p
    }

    /// The seafold commands read what is mounted: --keys holds the key layout of the role,
    /// --config is a mounted file that exists, workers connect to the coordinator service's
    /// bind port.
    func seafoldWiring() -> [String] {
        var p: [String] = []
        for name in services.keys.sorted() {
            let args = command(name)
            let role = args.first ?? ""
            guard role == "coordinator" || role == "worker" else { continue }
            let label = "\(file): service \(name)"
            let secrets = secretTargets(name)
            let mountTargets = volumes(name).map(\.target)
            guard let keys = argument("--keys", in: args) else { p.append("\(label) runs without --keys (no CURVE)"); continue }
            var needed: [String] = []
            if role == "coordinator" {
                needed = ["coordinator.key", "coordinator.pub"]
                if !mountTargets.contains("\(keys)/workers") && !secrets.keys.contains(where: { $0.hasPrefix("\(keys)/workers/") }) {
                    p.append("\(label): no allow-list mounted at \(keys)/workers")
                }
                guard let config = argument("--config", in: args) else { p.append("\(label) has no --config"); continue }
                if let v = volumes(name).first(where: { $0.target == config }) {
                    let source = v.source.hasPrefix("./") ? "\(baseDirectory)/\(v.source.dropFirst(2))" : v.source
                    if !DeploymentFiles.exists(source) { p.append("\(label): the config file \(source) does not exist") }
                } else {
                    p.append("\(label): --config \(config) is not a mounted file")
                }
                if let runDir = argument("--run-dir", in: args),
                   !volumes(name).contains(where: { Self.isNamedVolume($0.source) && runDir.hasPrefix($0.target) }) {
                    p.append("\(label): --run-dir \(runDir) is not on a named volume")
                }
            } else {
                let keyName = argument("--name", in: args) ?? "?"
                needed = ["coordinator.pub", "\(keyName).key", "\(keyName).pub"]
                let endpoint = argument("--connect", in: args) ?? ""
                if endpoint.contains("REQUIRED") {
                    // `${VAR:?message}`: the user must supply the address; compose refuses otherwise.
                } else if let connect = tcpEndpoint(endpoint), services[connect.host] != nil {
                    let bind = argument("--bind", in: command(connect.host)).flatMap(tcpEndpoint)
                    if bind?.port != connect.port { p.append("\(label) connects to port \(connect.port), but \(connect.host) binds \(bind.map { String($0.port) } ?? "nothing")") }
                } else if tcpEndpoint(endpoint) == nil {
                    p.append("\(label) has no tcp --connect endpoint")
                }
            }
            for f in needed where secrets["\(keys)/\(f)"] == nil {
                p.append("\(label): --keys \(keys) lacks \(f) (no secret targets it)")
            }
        }
        return p
    }
}
