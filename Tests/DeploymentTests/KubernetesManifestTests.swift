import Foundation
import XCTest

/// cluster/k8s: every manifest parses and is consistent (KubernetesChecks), the kustomization
/// lists files that exist, and the seafold-specific wiring holds (worker → Service → coordinator
/// port, keys and config mounted where the command line reads them, memory sized from the
/// benchmark). The mutation tests show that each kind of check does fail.
final class KubernetesManifestTests: XCTestCase {
    static let dir = "cluster/k8s"

    /// The kustomization, the objects of its resources and of any other manifest in the folder
    /// (e.g. fetch-report-pod.yaml), and the README's documented secrets.
    func loadChecks() throws -> (KubernetesChecks, kustomization: [String: Any]) {
        let k = try XCTUnwrap(DeploymentFiles.documents(file: "\(Self.dir)/kustomization.yaml").first as? [String: Any],
                              "kustomization.yaml is not a mapping")
        let resources = stringList(k["resources"]) ?? []
        XCTAssertFalse(resources.isEmpty, "kustomization.yaml lists no resources")
        let generatorFiles = Set(((k.list("configMapGenerator") ?? []) + (k.list("secretGenerator") ?? []))
            .compactMap { ($0 as? [String: Any]).flatMap { stringList($0["files"]) } }.joined()
            .map { $0.split(separator: "=").last.map(String.init) ?? $0 })
        for file in resources + Array(generatorFiles) {
            XCTAssertTrue(DeploymentFiles.exists("\(Self.dir)/\(file)"), "kustomization.yaml names \(file), which does not exist")
        }
        let all = try FileManager.default.contentsOfDirectory(atPath: DeploymentFiles.url(Self.dir).path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .filter { $0 != "kustomization.yaml" && !generatorFiles.contains($0) }
        XCTAssertTrue(Set(resources).isSubset(of: Set(all)), "resources outside \(Self.dir): \(resources)")
        var objects: [KubernetesChecks.Object] = []
        for file in all.sorted() {
            let docs = try DeploymentFiles.documents(file: "\(Self.dir)/\(file)")
            XCTAssertFalse(docs.isEmpty, "\(file) has no documents")
            for doc in docs {
                let body = try XCTUnwrap(doc as? [String: Any], "\(file): a document is not a mapping")
                objects.append(.init(file: file, body: body))
            }
        }
        var checks = KubernetesChecks(objects: objects)
        func names(_ key: String) -> Set<String> {
            Set((k.list(key) as? [[String: Any]] ?? []).compactMap { $0.string("name") })
        }
        checks.generatedConfigMaps = names("configMapGenerator")
        checks.generatedSecrets = names("secretGenerator")
        checks.kustomizeImages = names("images")
        let docs = try DeploymentFiles.text("cluster/README.md") + DeploymentFiles.text("\(Self.dir)/kustomization.yaml")
        checks.documentedSecrets = KubernetesChecks.secretsCreated(inDocumentation: docs)
        return (checks, k)
    }

    func object(_ checks: KubernetesChecks, kind: String, component: String) throws -> KubernetesChecks.Object {
        try XCTUnwrap(checks.objects.first { $0.kind == kind && stringMap($0.body.mapAt("metadata")?["labels"])?["app.kubernetes.io/component"] == component },
                      "no \(kind) for the \(component)")
    }

    func testManifestsHaveRequiredFieldsAndAreConsistent() throws {
        let (checks, _) = try loadChecks()
        XCTAssertGreaterThanOrEqual(checks.objects.count, 4)
        XCTAssertEqual(checks.problems(), [])
        XCTAssertEqual(checks.documentedSecrets.isSuperset(of: ["seafold-coordinator-keys", "seafold-worker-keys", "seafold-worker-allowlist"]), true,
                       "README must show how to create the key Secrets; found \(checks.documentedSecrets)")
    }

    func testCoordinatorIsAStatefulSetWithAClaimAndItsServiceReachesIt() throws {
        let (checks, _) = try loadChecks()
        let coordinator = try object(checks, kind: "StatefulSet", component: "coordinator")
        let spec = try XCTUnwrap(KubernetesChecks.podSpec(coordinator))
        let container = try XCTUnwrap(KubernetesChecks.containers(spec, includingInit: false).first)
        let args = try XCTUnwrap(stringList(container["command"]))
        XCTAssertEqual(args.dropFirst().first, "coordinator", "command: \(args)")
        let bind = try XCTUnwrap(argument("--bind", in: args).flatMap(tcpEndpoint), "coordinator has no tcp --bind")
        let ports = (container.list("ports") as? [[String: Any]] ?? []).compactMap { $0.string("containerPort") }
        XCTAssertTrue(ports.contains(String(bind.port)), "--bind port \(bind.port) is not a containerPort (\(ports))")
        // The run directory sits on the claim, the config and keys where the flags point.
        let mounts = Dictionary(uniqueKeysWithValues: (container.list("volumeMounts") as? [[String: Any]] ?? [])
            .compactMap { m in m.string("mountPath").map { ($0, m.string("name") ?? "") } })
        let claims = (coordinator.body.listAt("spec.volumeClaimTemplates") as? [[String: Any]] ?? []).compactMap { $0.mapAt("metadata")?.string("name") }
        let runDir = try XCTUnwrap(argument("--run-dir", in: args))
        XCTAssertTrue(mounts.contains { runDir.hasPrefix($0.key) && claims.contains($0.value) }, "--run-dir \(runDir) is not on a volumeClaimTemplate (\(mounts))")
        for flag in ["--config", "--keys"] {
            let path = try XCTUnwrap(argument(flag, in: args), "coordinator has no \(flag)")
            XCTAssertTrue(mounts.keys.contains { path.hasPrefix($0) }, "\(flag) \(path) is not under a volumeMount")
        }
        let service = try XCTUnwrap(checks.objects.first { $0.kind == "Service" && $0.name == coordinator.body.mapAt("spec")?.string("serviceName") })
        let servicePorts = (service.body.listAt("spec.ports") as? [[String: Any]] ?? []).compactMap { $0.string("port") }
        XCTAssertTrue(servicePorts.contains(String(bind.port)))
    }

    func testWorkersConnectToTheServiceAndAreSizedFromTheBenchmark() throws {
        let (checks, k) = try loadChecks()
        let worker = try object(checks, kind: "Deployment", component: "worker")
        let spec = try XCTUnwrap(KubernetesChecks.podSpec(worker))
        let container = try XCTUnwrap(KubernetesChecks.containers(spec, includingInit: false).first)
        let args = try XCTUnwrap(stringList(container["command"]))
        XCTAssertEqual(args.dropFirst().first, "worker")
        let connect = try XCTUnwrap(argument("--connect", in: args).flatMap(tcpEndpoint))
        let service = try XCTUnwrap(checks.objects.first { $0.kind == "Service" && $0.name == connect.host }, "--connect host \(connect.host) is not a Service")
        let servicePorts = (service.body.listAt("spec.ports") as? [[String: Any]] ?? []).compactMap { $0.string("port") }
        XCTAssertTrue(servicePorts.contains(String(connect.port)))
        let memory = try XCTUnwrap(container.mapAt("resources.requests")?.string("memory").flatMap(kubernetesQuantity))
        XCTAssertTrue(checks.workerMemoryRange.contains(memory), "worker memory request \(memory) outside 2–3 GiB")
        let cpu = try XCTUnwrap(container.mapAt("resources.requests")?.string("cpu").flatMap(kubernetesQuantity))
        let threads = try XCTUnwrap(argument("--threads", in: args).flatMap(Double.init))
        XCTAssertEqual(cpu, threads, "BLAS --threads should equal the CPU request")
        let keyName = try XCTUnwrap(argument("--name", in: args))
        let keys = try XCTUnwrap(argument("--keys", in: args))
        let initScript = (KubernetesChecks.containers(spec, includingInit: true).first?["command"] as? [Any])?.compactMap(scalarText).joined(separator: " ") ?? ""
        for file in ["coordinator.pub", "\(keyName).key", "\(keyName).pub"] {
            XCTAssertTrue(initScript.contains(file), "the worker's key directory \(keys) never receives \(file)")
        }
        XCTAssertNotNil((k.list("replicas") as? [[String: Any]])?.first { $0.string("name") == worker.name }, "kustomization sets no worker replica count")
    }

    /// Every replica runs `--name worker` as PID 1; the worker id gets a random instance id, and
    /// the host shown in status is the pod's name from the downward API.
    func testWorkerReplicasShowTheirPodName() throws {
        let (checks, _) = try loadChecks()
        let worker = try object(checks, kind: "Deployment", component: "worker")
        let spec = try XCTUnwrap(KubernetesChecks.podSpec(worker))
        let container = try XCTUnwrap(KubernetesChecks.containers(spec, includingInit: false).first)
        let env = (container.list("env") as? [[String: Any]]) ?? []
        let host = try XCTUnwrap(env.first { $0.string("name") == "SEAFOLD_WORKER_HOST" }, "no SEAFOLD_WORKER_HOST in the worker's env")
        XCTAssertEqual(host.mapAt("valueFrom.fieldRef")?.string("fieldPath"), "metadata.name")
    }

    // MARK: the checks can fail

    func testMissingResourcesFieldIsReported() throws {
        var (checks, _) = try loadChecks()
        let i = try XCTUnwrap(checks.objects.firstIndex { $0.kind == "Deployment" })
        var spec = try XCTUnwrap(checks.objects[i].body.mapAt("spec.template.spec"))
        var containers = try XCTUnwrap(spec.list("containers") as? [[String: Any]])
        containers[0]["resources"] = nil
        containers[0]["image"] = nil
        spec["containers"] = containers
        checks.objects[i].body = setting(checks.objects[i].body, path: ["spec", "template", "spec"], to: spec)
        let problems = checks.problems()
        XCTAssertTrue(problems.contains { $0.contains("no resources.requests.memory") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("no image") }, "\(problems)")
    }

    func testSelectorMismatchAndWrongTargetPortAndMissingSecretAreReported() throws {
        var (checks, _) = try loadChecks()
        let d = try XCTUnwrap(checks.objects.firstIndex { $0.kind == "StatefulSet" })
        checks.objects[d].body = setting(checks.objects[d].body, path: ["spec", "selector", "matchLabels", "app.kubernetes.io/component"], to: "nope")
        let s = try XCTUnwrap(checks.objects.firstIndex { $0.kind == "Service" })
        var ports = try XCTUnwrap(checks.objects[s].body.listAt("spec.ports") as? [[String: Any]])
        ports[0]["targetPort"] = "http"
        checks.objects[s].body = setting(checks.objects[s].body, path: ["spec", "ports"], to: ports)
        checks.documentedSecrets = []
        let problems = checks.problems()
        XCTAssertTrue(problems.contains { $0.contains("does not match the template labels") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("targets http") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("seafold-worker-keys") }, "\(problems)")
    }

    func testMissingApiVersionAndNameAreReported() throws {
        let yaml = """
        kind: Service
        metadata: {}
        spec: {selector: {a: b}, ports: [{port: 1}]}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: x}
        spec:
          selector: {matchLabels: {a: b}}
          template:
            metadata: {labels: {a: c}}
            spec: {containers: [{name: c, image: "r/x:1", command: [x]}]}
        """
        let objects = try DeploymentFiles.documents(yaml: yaml).map { KubernetesChecks.Object(file: "t.yaml", body: $0 as! [String: Any]) }
        let problems = KubernetesChecks(objects: objects).problems()
        XCTAssertTrue(problems.contains("t.yaml: an object has no apiVersion"), "\(problems)")
        XCTAssertTrue(problems.contains("t.yaml: a Service has no metadata.name"), "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("selector a=b does not match") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("matches no pod template") }, "\(problems)")
        XCTAssertThrowsError(try DeploymentFiles.documents(yaml: "a: [1, 2\nb: {"))
    }

    func testDocumentedSecretParsing() {
        let text = """
        kubectl -n seafold create secret generic seafold-worker-keys --from-file=a
          kubectl create secret generic other \\
        kubectl get secret not-this-one
        """
        XCTAssertEqual(KubernetesChecks.secretsCreated(inDocumentation: text), ["seafold-worker-keys", "other"])
        XCTAssertEqual(kubernetesQuantity("3Gi"), 3 * 1_073_741_824)
        XCTAssertEqual(kubernetesQuantity("500m"), 0.5)
        XCTAssertNil(kubernetesQuantity("lots"))
    }

    /// A copy of `body` with the value at `path` replaced.
    func setting(_ body: [String: Any], path: [String], to value: Any) -> [String: Any] {
        guard let first = path.first else { return body }
        var copy = body
        if path.count == 1 { copy[first] = value } else {
            copy[first] = setting(body[first] as? [String: Any] ?? [:], path: Array(path.dropFirst()), to: value)
        }
        return copy
    }
}
