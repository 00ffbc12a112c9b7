import Foundation
import TestSupport
import XCTest
@testable import Engine
import SeafoldCore

/// The PyTorch reference written by `scripts/make_pytorch_fixture.py`
/// (`Tests/Fixtures/pytorch_alexnet.safetensors`): a width-1/8 AlexNet's float32 weights under
/// torchvision's keys, one batch, and PyTorch's float64 logits, loss, gradients and parameters
/// after three Adam steps (stored as float32), with PyTorch's own float32-vs-float64 error per
/// tensor in the metadata. See the script for every key.
struct PyTorchFixture {
    static let url = RepositoryFiles.url("Tests/Fixtures/pytorch_alexnet.safetensors")

    let tensors: [String: Tensor]
    let metadata: [String: String]
    let config: AlexNetConfig
    /// PyTorch float32 vs float64: worst |difference| / max |value| per expected tensor.
    let torchError: [String: Double]
    let lr: Float, steps: Int
    let crop: Int

    init() throws {
        let (tensors, metadata) = try Safetensors.read(from: PyTorchFixture.url)
        func json<T: Decodable>(_ key: String, as: T.Type) throws -> T {
            guard let s = metadata[key] else {
                throw SeafoldError.badInput(path: PyTorchFixture.url.path, reason: "metadata key '\(key)' is missing; regenerate with scripts/make_pytorch_fixture.py")
            }
            return try JSONDecoder().decode(T.self, from: Data(s.utf8))
        }
        struct AdamSettings: Decodable { let lr: Double; let steps: Int; let weight_decay: Double; let eps: Double; let betas: [Double] }
        struct Implicit: Decodable { let crop: Int }
        let adam = try json("adam", as: AdamSettings.self)
        guard adam.weight_decay == 0, adam.eps == 1e-8, adam.betas == [0.9, 0.999] else {
            throw SeafoldError.badInput(path: PyTorchFixture.url.path, reason: "metadata 'adam' must use PyTorch's defaults (betas 0.9/0.999, eps 1e-8, no weight decay) as the test's Adam does")
        }
        self.tensors = tensors
        self.metadata = metadata
        config = try json("config", as: AlexNetConfig.self)
        torchError = try json("torch_f32_error", as: [String: Double].self)
        lr = Float(adam.lr); steps = adam.steps
        crop = try json("implicit", as: Implicit.self).crop
    }

    func tensor(_ key: String) throws -> Tensor {
        guard let t = tensors[key] else {
            throw SeafoldError.badInput(path: PyTorchFixture.url.path, reason: "tensor '\(key)' is missing; regenerate with scripts/make_pytorch_fixture.py")
        }
        return t
    }

    var labels: [Int] { get throws { try tensor("labels").data.map { Int($0) } } }

    /// The 32-image batch of the script's `variants`: sample 4j+i is image i flipped left-right
    /// if j&1, upside down if j&2, negated if j&4 (exact in any precision); label (label_i + j) mod classes.
    func batch32() throws -> (Tensor, [Int]) {
        let x = try tensor("input"), y = try labels
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = [Float](); out.reserveCapacity(8 * x.count)
        var ys: [Int] = []
        for j in 0..<8 {
            for i in 0..<n {
                for ch in 0..<c { for r in 0..<h { for col in 0..<w {
                    let sr = j & 2 != 0 ? h - 1 - r : r, sc = j & 1 != 0 ? w - 1 - col : col
                    let v = x.data[((i * c + ch) * h + sr) * w + sc]
                    out.append(j & 4 != 0 ? -v : v)
                } } }
                ys.append((y[i] + j) % config.numClasses)
            }
        }
        return (Tensor(shape: [8 * n, c, h, w], data: out), ys)
    }

    /// The top-left `crop`×`crop` pixels of the input batch (the implicit-GEMM layer's input).
    func croppedInput() throws -> Tensor {
        let x = try tensor("input")
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        var out = [Float]()
        for i in 0..<n { for ch in 0..<c { for r in 0..<crop { for col in 0..<crop {
            out.append(x.data[((i * c + ch) * h + r) * w + col])
        } } } }
        _ = h
        return Tensor(shape: [n, c, crop, crop], data: out)
    }
}

/// One comparison of seafold's float32 result with PyTorch's float64 one: the worst
/// |difference| relative to the reference tensor's largest |value| (or, `normwise`,
/// ‖difference‖₂ / ‖reference‖₂, the script's measure for the Adam steps), and where the
/// largest difference is.
struct FixtureComparison {
    let name: String, algorithm: ConvAlgorithm
    let worst: Double, index: Int, got: Float, want: Float
    let torchError: Double, tolerance: Double, normwise: Bool

    /// `baseline` (same count) is subtracted from both first: the Adam checks compare the change
    /// from the initial weights.
    init(_ name: String, _ algorithm: ConvAlgorithm, got: [Float], want: Tensor, baseline: [Float]? = nil,
         normwise: Bool = false, torchError: Double, tolerance: Double) {
        precondition(got.count == want.count, "\(name): \(got.count) values against \(want.count)")
        var d = 0.0, m = 0.0, d2 = 0.0, m2 = 0.0, at = 0
        for i in 0..<got.count {
            let b = baseline.map { Double($0[i]) } ?? 0
            let diff = abs(Double(got[i]) - Double(want.data[i])), ref = abs(Double(want.data[i]) - b)
            if diff > d { d = diff; at = i }
            m = max(m, ref)
            d2 += diff * diff; m2 += ref * ref
        }
        self.name = name; self.algorithm = algorithm; self.normwise = normwise
        worst = normwise ? (d2 / max(m2, 1e-300)).squareRoot() : d / max(m, 1e-30)
        index = at; self.got = got[at]; self.want = want.data[at]
        self.torchError = torchError; self.tolerance = tolerance
    }

    var passes: Bool { worst <= tolerance }

    var message: String {
        func e(_ x: Double) -> String { String(format: "%.2e", x) }
        func g(_ x: Float) -> String { String(format: "%.9g", Double(x)) }
        let measure = normwise ? "normwise relative error" : "worst error relative to the tensor's largest value"
        return "\(name) under \(algorithm.rawValue): \(measure) \(e(worst)) (largest difference at element \(index): "
            + "seafold \(g(got)), PyTorch float64 \(g(want))); tolerance \(e(tolerance)) (PyTorch's own float32 error \(e(torchError)))"
    }

    func check(file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue(passes, message, file: file, line: line)
    }
}
