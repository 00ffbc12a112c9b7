import Foundation
import SeafoldCore
import TestSupport
import XCTest

/// `seafold data synth`, `features`, `predict` and `explain` on real files, through the CLI.
final class InferenceCommandTests: XCTestCase {
    func testFeaturesPredictAndExplainOnNewImages() throws {
        let dir = try makeTemporaryDirectory("seafold-e2e-infer")
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
        try checkModelMetadataIsUsed(weights: weights, images: data.appendingPathComponent("images"), explicit63: probs, dir: dir)

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

    /// The weights carry their input size and class names (safetensors `__metadata__`):
    /// `predict` without --input-size runs at the trained size and writes class names; weights
    /// without metadata fall back to 224 px and say so.
    func checkModelMetadataIsUsed(weights: URL, images: URL, explicit63: URL, dir: URL) throws {
        let layout = try SafetensorsLayout.parse(try Data(contentsOf: weights), source: weights.path)
        XCTAssertEqual(layout.metadata["seafold.input_size"], "63")
        let classes = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try XCTUnwrap(layout.metadata["seafold.class_names"]).utf8)) as? [String])
        XCTAssertEqual(classes.count, 4)

        let auto = dir.appendingPathComponent("auto.npy")
        let p = try CLI.run(["predict", "--weights", weights.path, "--images", images.path, "--out", auto.path])
        XCTAssertEqual(p.status, 0, p.stderr)
        XCTAssertTrue(p.stderr.contains("input size 63 px (from the weights' metadata)"), p.stderr)
        XCTAssertEqual(try Data(contentsOf: auto), try Data(contentsOf: explicit63), "no flag must mean the trained 63 px")
        let at224 = dir.appendingPathComponent("at224.npy")
        let q = try CLI.run(["predict", "--weights", weights.path, "--images", images.path, "--input-size", "224", "--out", at224.path])
        XCTAssertEqual(q.status, 0, q.stderr)
        XCTAssertNotEqual(try Data(contentsOf: at224), try Data(contentsOf: auto), "the input size must matter")

        // The CSV: header with the class names, one row per image in the .npy's order.
        let csv = try String(contentsOf: dir.appendingPathComponent("auto.csv"), encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(csv.first, (["file", "predicted"] + classes.map { "p_" + $0 }).joined(separator: ","))
        let files = try String(contentsOf: dir.appendingPathComponent("auto.files.txt"), encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(csv.count, 1 + files.count)
        let probs = try NpyArray.read(from: auto).floats()
        for (i, row) in csv.dropFirst().enumerated() {
            let f = row.split(separator: ",").map(String.init)
            XCTAssertEqual(f.count, 2 + classes.count)
            XCTAssertEqual(f[0], files[i])
            let p = Array(probs[(i * 4)..<(i * 4 + 4)])
            XCTAssertEqual(f[1], classes[p.firstIndex(of: p.max()!)!])
            XCTAssertEqual(f[2...].map { Float($0)! }, p)
        }

        // The same tensors without __metadata__ (as a torchvision export): 224 px, said on stderr.
        let bare = dir.appendingPathComponent("bare.safetensors")
        try stripMetadata(weights, to: bare)
        let bareOut = dir.appendingPathComponent("bare.npy")
        let b = try CLI.run(["predict", "--weights", bare.path, "--images", images.path, "--out", bareOut.path])
        XCTAssertEqual(b.status, 0, b.stderr)
        XCTAssertTrue(b.stderr.contains("no seafold metadata") && b.stderr.contains("224"), b.stderr)
        XCTAssertEqual(try Data(contentsOf: bareOut), try Data(contentsOf: at224))
        XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("bare.csv"), encoding: .utf8).hasPrefix("file,predicted,p_class0,p_class1,p_class2,p_class3\n"))
    }

    /// Rewrites a safetensors file with its header's `__metadata__` removed.
    func stripMetadata(_ url: URL, to out: URL) throws {
        let data = try Data(contentsOf: url)
        let n = Int(data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try XCTUnwrap(JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any])
        header["__metadata__"] = nil
        var h = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        while h.count % 8 != 0 { h.append(0x20) }
        var len = UInt64(h.count).littleEndian
        var d = Data(bytes: &len, count: 8)
        d.append(contentsOf: h)
        d.append(data.subdata(in: (8 + n)..<data.count))
        try d.write(to: out)
    }
}
