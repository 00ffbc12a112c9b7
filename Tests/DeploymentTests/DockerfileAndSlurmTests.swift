import Foundation
import XCTest

/// docker/Dockerfile and cluster/slurm/seafold.sbatch: the properties issue 8 requires,
/// read from the files (package names are checked against Debian by scripts/check-deploy.sh).
final class DockerfileAndSlurmTests: XCTestCase {
    /// Dockerfile instructions with continuation lines joined and comments dropped.
    static func instructions(_ text: String) -> [(op: String, args: String)] {
        var out: [(String, String)] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") { current += line.dropLast() + " "; continue }
            current += line
            let trimmed = current.trimmingCharacters(in: .whitespaces)
            current = ""
            guard !trimmed.isEmpty else { continue }
            let op = trimmed.prefix { !$0.isWhitespace }
            out.append((op.uppercased(), trimmed.dropFirst(op.count).trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    /// Packages named by `apt-get install` in one RUN instruction.
    static func aptPackages(_ run: String) -> [String] {
        guard let r = run.range(of: "apt-get install") else { return [] }
        return run[r.upperBound...].split(separator: "&&").first.map {
            $0.split(separator: " ").map(String.init).filter { !$0.hasPrefix("-") && !$0.isEmpty }
        } ?? []
    }

    static let runtimeAllowed: Set<String> = [
        "libzmq5", "libopenblas0-pthread", "libopenblas0", "libgfortran5", "libpng16-16", "libsqlite3-0", "libssl3", "libsvm3", "ca-certificates",
        "librsvg2-2", "fonts-dejavu-core",
        "libtiff6", "libjpeg62-turbo",
    ]

    func stages() throws -> [[(op: String, args: String)]] {
        var stages: [[(op: String, args: String)]] = []
        for i in Self.instructions(try DeploymentFiles.text("docker/Dockerfile")) {
            if i.op == "FROM" { stages.append([]) }
            if !stages.isEmpty { stages[stages.count - 1].append(i) }
        }
        return stages
    }

    func testDockerfileIsMultiStageWithASlimNonRootRuntime() throws {
        let stages = try stages()
        XCTAssertEqual(stages.count, 2, "a build stage and a runtime stage")
        let build = try XCTUnwrap(stages.first), runtime = try XCTUnwrap(stages.last)
        // Named `build`: scripts/check-image.sh replaces that stage with --build-context build=DIR.
        XCTAssertTrue(build.first?.args.hasSuffix("AS build") ?? false, "\(build.first?.args ?? "")")
        XCTAssertTrue(build.contains { $0.op == "RUN" && $0.args.contains("swift build -c release --product seafold") })
        XCTAssertTrue(runtime.contains { $0.op == "COPY" && $0.args.contains("--from=build") && $0.args.contains("seafold") })
        let text = try DeploymentFiles.text("docker/Dockerfile")
        let installed = runtime.filter { $0.op == "RUN" }.flatMap { Self.aptPackages($0.args) }
        XCTAssertTrue(Set(installed).isSubset(of: Self.runtimeAllowed), "runtime installs \(Set(installed).subtracting(Self.runtimeAllowed))")
        for needed in ["libzmq5", "libopenblas0-pthread", "libpng16-16", "libsqlite3-0", "librsvg2-2", "fonts-dejavu-core", "libssl3", "libsvm3"] {
            XCTAssertTrue(installed.contains(needed), "runtime lacks \(needed)")
        }
        let user = try XCTUnwrap(runtime.last { $0.op == "USER" }?.args, "no USER in the runtime stage")
        XCTAssertFalse(["root", "0", "root:root", "0:0"].contains(user), "runs as \(user)")
        XCTAssertTrue(runtime.contains { $0.op == "EXPOSE" && $0.args.split(separator: " ").contains("5555") })
        XCTAssertTrue(runtime.contains { $0.op == "HEALTHCHECK" && $0.args.contains("CMD") })
        XCTAssertTrue(runtime.contains { $0.op == "ENTRYPOINT" && $0.args.contains("seafold") })
        // The kernel override is documented and not pinned in the image.
        XCTAssertTrue(text.contains("SEAFOLD_BLAS_CORETYPE"))
        XCTAssertFalse(runtime.contains { $0.op == "ENV" && $0.args.contains("OPENBLAS_CORETYPE") }, "pins the BLAS kernel for one CPU")
        XCTAssertTrue(DeploymentFiles.exists("docker/healthcheck.sh"))
    }

    func testDockerfileParsingCanFail() {
        let broken = Self.instructions("FROM debian\nRUN apt-get update \\\n && apt-get install -y --no-install-recommends \\\n   libzmq5 curl \\\n && true\n")
        let packages = broken.flatMap { Self.aptPackages($0.args) }
        XCTAssertEqual(packages, ["libzmq5", "curl"])
        XCTAssertFalse(Set(packages).isSubset(of: Self.runtimeAllowed))
    }

    func testSlurmScriptRequeuesAndStartsOneWorkerStep() throws {
        let text = try DeploymentFiles.text("cluster/slurm/seafold.sbatch")
        let directives = text.split(separator: "\n").filter { $0.hasPrefix("#SBATCH ") }.map { String($0.dropFirst(8)) }
        XCTAssertTrue(text.hasPrefix("#!/bin/bash"))
        XCTAssertTrue(directives.contains("--requeue"), "\(directives)")
        XCTAssertTrue(directives.contains("--ntasks-per-node=1"))
        XCTAssertFalse(directives.contains { $0.hasPrefix("--array") }, "job arrays are not the tool here")
        // The coordinator (on the batch node) resumes from a run directory that is not per job.
        let coordinator = try XCTUnwrap(text.range(of: "coordinator \\"), "no coordinator command")
        let worker = try XCTUnwrap(text.range(of: "srun "), "workers are not started with srun")
        XCTAssertLessThan(coordinator.lowerBound, worker.lowerBound)
        let runDirDefault = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("SEAFOLD_RUN_DIR=") })
        XCTAssertFalse(runDirDefault.contains("SLURM_JOB_ID"), "a per-job run directory would not resume: \(runDirDefault)")
        XCTAssertTrue(try DeploymentFiles.text("cluster/README.md").localizedCaseInsensitiveContains("job array"))
    }
}
