import SeafoldCore
@testable import Explain

/// Small synthetic images for the tests (built from definitions, not from code under test).
enum TestImages {
    /// Left half black, right half white.
    static func halves(width: Int, height: Int) -> RGBImage {
        var p = [Float](repeating: 0, count: width * height * 3)
        for r in 0..<height { for c in width / 2..<width { for k in 0..<3 { p[(r * width + c) * 3 + k] = 1 } } }
        return try! RGBImage(width: width, height: height, pixels: p)
    }

    static let quadrantColours: [(Float, Float, Float)] = [(0.9, 0.1, 0.1), (0.1, 0.8, 0.1), (0.1, 0.1, 0.9), (0.9, 0.9, 0.2)]

    /// Quadrant index (0 TL, 1 TR, 2 BL, 3 BR) of pixel (r, c) in a size×size image.
    static func quadrant(_ r: Int, _ c: Int, size: Int) -> Int { (r < size / 2 ? 0 : 2) + (c < size / 2 ? 0 : 1) }

    /// Four flat colour quadrants, optionally with seeded texture of amplitude `noise`.
    static func quadrants(size: Int, noise: Float = 0, seed: UInt64 = 7) -> RGBImage {
        var rng = SeededGenerator(seed: seed)
        var p = [Float](repeating: 0, count: size * size * 3)
        for r in 0..<size {
            for c in 0..<size {
                let q = quadrantColours[quadrant(r, c, size: size)]
                let v = [q.0, q.1, q.2]
                for k in 0..<3 {
                    let n = noise == 0 ? 0 : rng.uniform(-noise, noise)
                    p[(r * size + c) * 3 + k] = min(max(v[k] + n, 0), 1)
                }
            }
        }
        return try! RGBImage(width: size, height: size, pixels: p)
    }
}

/// Gauss–Jordan with partial pivoting, independent of the module's solver.
func testSolve(_ a0: [[Double]], _ b0: [Double]) -> [Double] {
    var a = a0, b = b0
    let n = b.count
    for col in 0..<n {
        var piv = col
        for r in col..<n where abs(a[r][col]) > abs(a[piv][col]) { piv = r }
        a.swapAt(col, piv); b.swapAt(col, piv)
        for r in 0..<n where r != col {
            let f = a[r][col] / a[col][col]
            for k in 0..<n { a[r][k] -= f * a[col][k] }
            b[r] -= f * b[col]
        }
    }
    return (0..<n).map { b[$0] / a[$0][$0] }
}
