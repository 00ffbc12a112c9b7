import Foundation
import SeafoldCore
import XCTest

/// `seafold data synth`, `features`, `predict` and `explain` on real files, through the CLI.
final class InferenceCommandTests: XCTestCase {
    func testFeaturesPredictAndExplainOnNewImages() throws {
        let dir = CLI.tempDir("infer")
        defer { try? FileManager.default.removeItem(at: dir) }
        // A tiny model: the smoke preset's fine-tuned weights (hidden width 64, 4 classes).
        let run = dir.appendingPathComponent("run")
        let r = try CLI.run(["run", "--preset", "smoke", "--local", "--run-dir", run.path], timeout: 600)
        XCTAssertEqual(r.status, 0, r.stderr)
        let local = run.appendingPathComponent("local")
        let weights = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: local.path)
            .filter { $0.hasSuffix("weights.safetensors") }
            .map { local.appendingPathComponent($0) }
            .first { (try? Data(contentsOf: $0).count) ?? 0 > 0 && !$0.path.contains("scratch") && (try? String(contentsOf: $0.deletingLastPathComponent().appendingPathComponent("result.json"), encoding: .utf8))?.contains("\"output\"") == true })

        let data = dir.appendingPathComponent("synth")
        let s = try CLI.run(["data", "synth", "--preset", "multi-site", "--count", "8", "--size", "64", "--out", data.path])
        XCTAssertEqual(s.status, 0, s.stderr)

        let feats = dir.appendingPathComponent("f.npy"), probs = dir.appendingPathComponent("p.npy")
        let f = try CLI.run(["features", "--weights", weights.path, "--images", data.appendingPathComponent("images").path,
                             "--input-size", "63", "--out", feats.path])
        XCTAssertEqual(f.status, 0, f.stderr)
        let fa = try NpyArray.read(from: feats)
        XCTAssertEqual(fa.shape, [8, 64])
        XCTAssertTrue(fa.floats().allSatisfy { $0 >= 0 }, "penultimate features come after a ReLU")

        let p = try CLI.run(["predict", "--weights", weights.path, "--images", data.appendingPathComponent("images").path,
                             "--input-size", "63", "--out", probs.path])
        XCTAssertEqual(p.status, 0, p.stderr)
        let pa = try NpyArray.read(from: probs)
        XCTAssertEqual(pa.shape, [8, 4])
        let v = pa.floats()
        for i in 0..<8 { XCTAssertEqual(v[(i * 4)..<(i * 4 + 4)].reduce(0, +), 1, accuracy: 1e-4) }
        let names = try String(contentsOf: dir.appendingPathComponent("p.files.txt"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(names.count, 8)

        let image = try XCTUnwrap(FileManager.default.subpathsOfDirectory(atPath: data.appendingPathComponent("images").path)
            .first { $0.hasSuffix(".png") })
        let out = dir.appendingPathComponent("x").path
        let e = try CLI.run(["explain", "--weights", weights.path, "--weights-base", weights.path,
                             "--image", data.appendingPathComponent("images/\(image)").path, "--input-size", "63",
                             "--samples", "50", "--segmentation", "slic", "--out", out])
        XCTAssertEqual(e.status, 0, e.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + ".png"))
        XCTAssertEqual(try NpyArray.read(from: URL(fileURLWithPath: out + "_mask.npy")).shape, [63, 63])

        // Wrong weights: a clear error naming the file, no crash.
        let bad = dir.appendingPathComponent("bad.safetensors")
        try Data("not a safetensors file".utf8).write(to: bad)
        let b = try CLI.run(["features", "--weights", bad.path, "--images", data.path, "--out", feats.path])
        XCTAssertNotEqual(b.status, 0)
        XCTAssertTrue(b.stderr.contains("bad.safetensors"), b.stderr)
    }
}
