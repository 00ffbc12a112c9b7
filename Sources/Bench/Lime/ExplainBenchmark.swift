import Explain
import Foundation
import SeafoldCore

/// The test image of the LIME measurements (`seafold bench lime`, the run projection's LIME
/// unit cost).
public enum ExplainBenchmark {
    /// A deterministic sonar-like test image: sand ripples, a bright object with a shadow, speckle.
    public static func syntheticImage(size: Int, seed: UInt64 = 1) -> RGBImage {
        var rng = SeededGenerator(seed: seed).derive("bench/image")
        var g = [Float](repeating: 0, count: size * size)
        let s = Double(size)
        for r in 0..<size {
            for c in 0..<size {
                let x = Double(c) / s, y = Double(r) / s
                var v = 0.35 + 0.15 * sin(2 * Double.pi * (x * 9 + y * 3))
                if y > 0.5 { v = 0.3 + 0.05 * sin(2 * Double.pi * x * 2) }
                let dx = x - 0.3, dy = y - 0.3
                if dx * dx + dy * dy < 0.01 { v = 0.9 }
                if dx > 0 && abs(dy) < 0.08 && dx < 0.3 && dx * dx + dy * dy >= 0.01 { v *= 0.3 }
                v += 0.08 * (rng.nextDouble() - 0.5)
                g[r * size + c] = Float(min(max(v, 0), 1))
            }
        }
        return try! RGBImage(grayscale: g, width: size, height: size)
    }
}
