import XCTest
@testable import Engine
import SeafoldCore

final class TrainingTests: XCTestCase {
    /// Two classes: a bright blob in the left or the right half, on noise.
    static func batch(_ n: Int, size: Int, rng: inout SeededGenerator) -> (Tensor, [Int]) {
        var data = [Float](repeating: 0, count: n * 3 * size * size)
        var labels: [Int] = []
        for i in 0..<n {
            let c = rng.nextInt(below: 2); labels.append(c)
            let cx = c == 0 ? size / 4 : 3 * size / 4, cy = size / 4 + rng.nextInt(below: size / 2)
            for ch in 0..<3 { for y in 0..<size { for x in 0..<size {
                let d2 = Float((x - cx) * (x - cx) + (y - cy) * (y - cy))
                data[((i * 3 + ch) * size + y) * size + x] = (d2 < 64 ? 1.5 : 0) + rng.uniform(-0.3, 0.3)
            } } }
        }
        return (Tensor(shape: [n, 3, size, size], data: data), labels)
    }

    func testLearnsSeparableTask() throws {
        let net = try AlexNet(config: AlexNetConfig(numClasses: 2, widthMultiplier: 0.0625, inputSize: 63, hiddenWidth: 32, dropout: 0.1), seed: 1)
        let trainer = try Trainer(model: net, optimizer: Adam(lr: 1e-3))
        var rng = SeededGenerator(seed: 2)
        var steps = 0
        for _ in 0..<150 {
            let (x, y) = Self.batch(8, size: 63, rng: &rng)
            try trainer.step(input: x, labels: y, rng: &rng)
            steps += 1
        }
        var test = SeededGenerator(seed: 99)
        let (x, y) = Self.batch(100, size: 63, rng: &test)
        let (_, correct) = try trainer.evaluate(input: x, labels: y)
        XCTAssertGreaterThanOrEqual(correct, 95, "accuracy \(correct)% after \(steps) steps")
    }

    func testSameSeedBitIdenticalAndFreezing() throws {
        func run() throws -> [String: Tensor] {
            let net = try AlexNet(config: AlexNetTests.tiny, seed: 4)
            let t = try Trainer(model: net, optimizer: Adam(lr: 1e-3, weightDecay: 1e-4))
            var rng = SeededGenerator(seed: 5)
            for _ in 0..<3 {
                let (x, y) = Self.batch(4, size: 63, rng: &rng)
                try t.step(input: x, labels: y, rng: &rng)
            }
            return net.stateDict()
        }
        let a = try run(), b = try run()
        for (k, v) in a { XCTAssertEqual(v.data.map(\.bitPattern), b[k]!.data.map(\.bitPattern), k) }

        // Freezing: only classifier.4/6 change; frozen parameters stay bit-identical.
        let net = try AlexNet(config: AlexNetTests.tiny, seed: 4)
        let before = net.stateDict()
        let trainable: Set<String> = ["classifier.4.weight", "classifier.4.bias", "classifier.6.weight", "classifier.6.bias"]
        let t = try Trainer(model: net, optimizer: SGD(lr: 0.1, momentum: 0.9), trainable: trainable)
        var rng = SeededGenerator(seed: 5)
        let (x, y) = Self.batch(4, size: 63, rng: &rng)
        try t.step(input: x, labels: y, rng: &rng)
        let after = net.stateDict()
        for k in net.parameterKeys {
            if trainable.contains(k) { XCTAssertNotEqual(after[k], before[k], k) } else { XCTAssertEqual(after[k], before[k], k) }
        }
        XCTAssertThrowsError(try Trainer(model: net, optimizer: Adam(), trainable: ["features.1.weight"]))
        XCTAssertThrowsError(try t.step(input: x, labels: [0, 1, 2, 7], rng: &rng))
    }

    func testAdamOneStepByHand() throws {
        // p = [1, -2], g = [0.5, -0.1]; PyTorch Adam step 1: m = 0.1g, v = 0.001g²,
        // m̂ = g, v̂ = g², update = lr·g/(|g| + eps) ≈ lr·sign(g).
        let p = Parameter(key: "w", shape: [2])
        p.value.copy(from: [1, -2]); p.grad.copy(from: [0.5, -0.1])
        let adam = Adam(lr: 0.1)
        adam.step([p])
        XCTAssertEqual(p.value.ptr[0], 1 - 0.1 * 0.5 / (0.5 + 1e-8), accuracy: 1e-6)
        XCTAssertEqual(p.value.ptr[1], -2 + 0.1 * 0.1 / (0.1 + 1e-8), accuracy: 1e-6)
        // After step 1 p = [0.9, -1.9]. Step 2 with g = [0.5, 0.3]: m = 0.9·m1 + 0.1·g, v = 0.999·v1 + 0.001·g².
        p.grad.copy(from: [0.5, 0.3])
        adam.step([p])
        let m = [0.9 * 0.05 + 0.05, 0.9 * -0.01 + 0.03], v = [0.999 * 0.00025 + 0.00025, 0.999 * 0.00001 + 0.00009]
        let bc1 = 1 - 0.81, bc2 = 1 - 0.998001
        let exp0 = 0.9 - 0.1 / bc1 * m[0] / ((v[0]).squareRoot() / bc2.squareRoot() + 1e-8)
        let exp1 = -1.9 - 0.1 / bc1 * m[1] / ((v[1]).squareRoot() / bc2.squareRoot() + 1e-8)
        XCTAssertEqual(Double(p.value.ptr[0]), exp0, accuracy: 1e-5)
        XCTAssertEqual(Double(p.value.ptr[1]), exp1, accuracy: 1e-5)
        // State round trip: a restored optimizer continues identically.
        let st = adam.state()
        XCTAssertEqual(st["w.step"]?.data, [2])
        let q = Parameter(key: "w", shape: [2]); q.value.copy(from: p.value.array(2)); q.grad.copy(from: [0.2, 0.2])
        p.grad.copy(from: [0.2, 0.2])
        let adam2 = Adam(lr: 0.1); try adam2.restore(state: st)
        adam.step([p]); adam2.step([q])
        XCTAssertEqual(p.value.array(2), q.value.array(2))
        // SGD with momentum by hand: buf = g; then buf = 0.9·buf + g.
        let s = Parameter(key: "s", shape: [1]); s.value.copy(from: [1]); s.grad.copy(from: [2])
        let sgd = SGD(lr: 0.1, momentum: 0.9)
        sgd.step([s]); XCTAssertEqual(s.value.ptr[0], 0.8, accuracy: 1e-6)
        sgd.step([s]); XCTAssertEqual(s.value.ptr[0], 0.8 - 0.1 * 3.8, accuracy: 1e-6)
    }
}
