import Foundation
import SeafoldCore

/// A generic many-class source task for pretraining (a stand-in for ImageNet when no
/// pretrained weights are available): 24 classes of RGB images — six shapes, four oriented
/// gratings, checkerboard, concentric rings, four textures, four blob counts, two gradients,
/// random lines and a grid — each with random colours, position, scale, phase and pixel noise.
/// Deterministic from the seed; classes balanced (count / 24, remainder to the first classes).
/// The mask marks the structure's foreground (shapes, blobs, lines), else all zeros.
public enum SyntheticSource {
    public static let classes = [
        "disc", "square", "triangle", "ring", "cross", "star",
        "grating_0", "grating_45", "grating_90", "grating_135", "checkerboard", "concentric",
        "texture_coarse", "texture_fine", "texture_streaks", "dots",
        "blob_1", "blob_2", "blob_3", "blob_many",
        "gradient_linear", "gradient_radial", "lines", "grid",
    ]

    public static func generate(count: Int, size: Int = 64, seed: UInt64) throws -> [SyntheticSample] {
        guard count >= 1, (8...1024).contains(size) else {
            throw SeafoldError.config(key: "source", reason: "count \(count) must be ≥ 1 and size \(size) in 8…1024")
        }
        let k = classes.count
        let root = SeededGenerator.derive(seed: seed, "synthetic-source")
        return parallelMap(count, progress: nil) { i in
            var rng = root.derive("image-\(i)")
            return render(label: i % k, size: size, rng: &rng)
        }
    }

    public static func render(label: Int, size n: Int, rng: inout SeededGenerator) -> SyntheticSample {
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextDouble() }
        let S = Double(n)
        let cx = u(0.3, 0.7) * S, cy = u(0.3, 0.7) * S, r = u(0.15, 0.3) * S, rot = u(0, 2 * .pi)
        let freq = u(3, 10) / S, phase = u(0, 2 * .pi)
        var f = [Float](repeating: 0, count: n * n)
        var isShape = true
        var field: [Float] = []
        var blobs: [(Double, Double, Double)] = []
        var segs: [(Double, Double, Double, Double)] = []
        switch classes[label] {
        case "texture_coarse": field = RandomFields.smooth(width: n, height: n, cell: S / 4, octaves: 2, rng: &rng)
        case "texture_fine": field = RandomFields.smooth(width: n, height: n, cell: 3, octaves: 1, rng: &rng)
        case "texture_streaks": field = RandomFields.smooth(width: n, height: n, cell: S / 6, octaves: 1, rng: &rng)
        case "dots": blobs = (0..<(8 + rng.nextInt(below: 12))).map { _ in (u(0, S), u(0, S), u(0.02, 0.04) * S) }
        case "blob_1", "blob_2", "blob_3", "blob_many":
            let m = ["blob_1": 1, "blob_2": 2, "blob_3": 3, "blob_many": 6 + rng.nextInt(below: 4)][classes[label]]!
            blobs = (0..<m).map { _ in (u(0.15, 0.85) * S, u(0.15, 0.85) * S, u(0.06, 0.12) * S) }
        case "lines": segs = (0..<(3 + rng.nextInt(below: 3))).map { _ in (u(0, S), u(0, S), u(0, S), u(0, S)) }
        default: break
        }
        let cr = cos(rot), sr = sin(rot)
        for y in 0..<n {
            for x in 0..<n {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let dx = px - cx, dy = py - cy
                let lx = dx * cr + dy * sr, ly = -dx * sr + dy * cr  // rotated frame
                let d = (dx * dx + dy * dy).squareRoot()
                var v = 0.0
                switch classes[label] {
                case "disc": v = d < r ? 1 : 0
                case "square": v = max(abs(lx), abs(ly)) < r * 0.85 ? 1 : 0
                case "triangle": v = (ly > -r * 0.5 && ly < r && abs(lx) < (r - ly) * 0.577) ? 1 : 0
                case "ring": v = abs(d - r) < r * 0.25 ? 1 : 0
                case "cross": v = (abs(lx) < r * 0.25 && abs(ly) < r) || (abs(ly) < r * 0.25 && abs(lx) < r) ? 1 : 0
                case "star":
                    let a = atan2(ly, lx)
                    v = d < r * (0.55 + 0.45 * cos(5 * a)) ? 1 : 0
                case "grating_0", "grating_45", "grating_90", "grating_135":
                    isShape = false
                    let deg = Double(classes[label].split(separator: "_")[1]) ?? 0
                    let t = deg * .pi / 180
                    v = 0.5 + 0.5 * sin(2 * .pi * freq * (px * cos(t) + py * sin(t)) + phase)
                case "checkerboard":
                    isShape = false
                    let c = 1 / (freq * 2)
                    v = (Int((lx + 1000 * c) / c) + Int((ly + 1000 * c) / c)) % 2 == 0 ? 1 : 0
                case "concentric": isShape = false; v = 0.5 + 0.5 * sin(2 * .pi * freq * d + phase)
                case "texture_coarse", "texture_fine": isShape = false; v = 0.5 + 0.5 * Double(field[y * n + x])
                case "texture_streaks":
                    isShape = false
                    v = 0.5 + 0.5 * sin(lx * 0.9 + 4 * Double(field[y * n + x]))
                case "gradient_linear": isShape = false; v = min(max(0.5 + lx / (S * 0.8), 0), 1)
                case "gradient_radial": isShape = false; v = max(0, 1 - d / (S * 0.7))
                case "grid":
                    isShape = false
                    let c = 1 / (freq * 1.5)
                    let gx = (lx + 1000 * c).truncatingRemainder(dividingBy: c), gy = (ly + 1000 * c).truncatingRemainder(dividingBy: c)
                    v = (gx < c * 0.18 || gy < c * 0.18) ? 1 : 0
                case "lines":
                    for s in segs where distanceToSegment(px, py, s) < S * 0.02 { v = 1 }
                default:  // blobs and dots: soft Gaussian spots
                    for b in blobs {
                        let e = ((px - b.0) * (px - b.0) + (py - b.1) * (py - b.1)) / (b.2 * b.2)
                        v = max(v, exp(-e))
                    }
                }
                f[y * n + x] = Float(v)
            }
        }
        var bg = (Float(u(0, 1)), Float(u(0, 1)), Float(u(0, 1)))
        let fg = (Float(u(0, 1)), Float(u(0, 1)), Float(u(0, 1)))
        if abs(bg.0 - fg.0) + abs(bg.1 - fg.1) + abs(bg.2 - fg.2) < 0.6 { bg = (1 - fg.0, 1 - fg.1, 1 - fg.2) }
        let noise = Float(u(0.01, 0.06))
        var px = [Float](repeating: 0, count: n * n * 3)
        for i in 0..<(n * n) {
            let t = f[i]
            px[3 * i] = min(max(bg.0 + (fg.0 - bg.0) * t + noise * Float(rng.normal()), 0), 1)
            px[3 * i + 1] = min(max(bg.1 + (fg.1 - bg.1) * t + noise * Float(rng.normal()), 0), 1)
            px[3 * i + 2] = min(max(bg.2 + (fg.2 - bg.2) * t + noise * Float(rng.normal()), 0), 1)
        }
        let mask: [UInt8] = isShape ? f.map { $0 >= 0.5 ? 1 : 0 } : [UInt8](repeating: 0, count: n * n)
        return SyntheticSample(image: Image(width: n, height: n, channels: 3, pixels: px), label: label,
                               className: classes[label], mask: mask, site: 0,
                               parameters: ["cx": cx, "cy": cy, "radius": r, "rotation": rot, "frequency": freq])
    }

    private static func distanceToSegment(_ px: Double, _ py: Double, _ s: (Double, Double, Double, Double)) -> Double {
        let vx = s.2 - s.0, vy = s.3 - s.1
        let l2 = vx * vx + vy * vy
        let t = l2 > 0 ? min(max(((px - s.0) * vx + (py - s.1) * vy) / l2, 0), 1) : 0
        let dx = px - (s.0 + t * vx), dy = py - (s.1 + t * vy)
        return (dx * dx + dy * dy).squareRoot()
    }
}
