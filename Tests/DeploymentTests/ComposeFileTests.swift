import Foundation
import XCTest

/// docker/compose.yaml and docker/compose.remote-workers.yaml parse and are consistent
/// (ComposeChecks); the mutation tests show that the checks fail on broken files.
final class ComposeFileTests: XCTestCase {
    func checks(_ file: String) throws -> ComposeChecks {
        let docs = try DeploymentFiles.documents(file: file)
        XCTAssertEqual(docs.count, 1, "\(file) should hold one document")
        let body = try XCTUnwrap(docs.first as? [String: Any], "\(file) is not a mapping")
        return ComposeChecks(file: file, body: body, baseDirectory: (file as NSString).deletingLastPathComponent)
    }

    func testComposeFileIsConsistent() throws {
        let c = try checks("docker/compose.yaml")
        XCTAssertEqual(c.problems(), [])
        XCTAssertEqual(c.command("coordinator").first, "coordinator")
        XCTAssertEqual(c.command("worker").first, "worker")
        // The run directory on a named volume; the coordinator's port published for remote workers.
        XCTAssertTrue(c.volumes("coordinator").contains { $0.source == "run" })
        let ports = (c.services["coordinator"]?.list("ports") ?? []).compactMap { scalarText($0).map { DeploymentFiles.interpolate($0) } }
        XCTAssertTrue(ports.contains { $0.hasSuffix(":5555") }, "coordinator publishes \(ports)")
        // The demo is what `docker compose up` runs.
        let config = c.volumes("coordinator").first { $0.target == argument("--config", in: c.command("coordinator")) }
        XCTAssertEqual(config?.source, "./config/demo.yaml")
    }

    func testRemoteWorkersFileIsConsistentAndNeedsTheCoordinatorAddress() throws {
        let c = try checks("docker/compose.remote-workers.yaml")
        XCTAssertEqual(c.problems(), [])
        XCTAssertEqual(Array(c.services.keys), ["worker"])
        XCTAssertEqual(argument("--connect", in: c.command("worker")), "tcp://REQUIRED", "the coordinator address must be required, not defaulted")
    }

    func testExperimentConfigsNameAPreset() throws {
        for file in ["docker/config/demo.yaml", "docker/config/paper.yaml", "cluster/slurm/paper.yaml", "cluster/k8s/experiment.yaml"] {
            let body = try XCTUnwrap(DeploymentFiles.documents(file: file).first as? [String: Any], file)
            XCTAssertTrue(["smoke", "demo", "paper"].contains(body.string("preset") ?? ""), "\(file): preset \(body["preset"] ?? "missing")")
        }
    }

    // MARK: the checks can fail

    func testUndeclaredVolumeAndSecretAndMissingKeyAreReported() throws {
        var c = try checks("docker/compose.yaml")
        c.body["volumes"] = nil
        var secrets = try XCTUnwrap(c.body.map("secrets"))
        secrets["worker_key"] = nil
        c.body["secrets"] = secrets
        let problems = c.problems()
        XCTAssertTrue(problems.contains { $0.contains("mounts volume run, which is not declared") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("uses secret worker_key, which is not declared") }, "\(problems)")
    }

    func testWiringMistakesAreReported() throws {
        var c = try checks("docker/compose.yaml")
        var services = c.services
        var worker = try XCTUnwrap(services["worker"])
        worker["command"] = ["worker", "--connect", "tcp://coordinator:6000", "--keys", "/run/secrets/keys", "--name", "other"]
        worker["ports"] = ["5556:5556"]
        services["worker"] = worker
        var coordinator = try XCTUnwrap(services["coordinator"])
        coordinator["volumes"] = ["run:/var/lib/seafold", "./config/missing.yaml:/etc/seafold/experiment.yaml:ro"]
        services["coordinator"] = coordinator
        c.body["services"] = services
        let problems = c.problems()
        XCTAssertTrue(problems.contains { $0.contains("connects to port 6000, but coordinator binds 5555") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("lacks other.key") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("publishes ports, which breaks --scale") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("config file docker/config/missing.yaml does not exist") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.contains("no allow-list mounted") }, "\(problems)")
    }

    func testInterpolationUsesDefaults() {
        XCTAssertEqual(DeploymentFiles.interpolate("${A:-./x.yaml}:/c"), "./x.yaml:/c")
        XCTAssertEqual(DeploymentFiles.interpolate("tcp://${H:?set H to host:port}"), "tcp://REQUIRED")
        XCTAssertEqual(DeploymentFiles.interpolate("$$name ${B} $C."), "$name  .")
    }
}
