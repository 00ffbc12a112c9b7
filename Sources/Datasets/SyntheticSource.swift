import Foundation
import SeafoldCore

/// A generic many-class source task for pretraining (a stand-in for ImageNet when no
/// pretrained weights are available): 32 classes of grey images in generic families —
/// oriented gratings (4 orientations × 2 periods), crosshatch, checkerboards, grids, lines,
/// bright and dark spots at several sizes, smooth random textures at three correlation lengths,
/// streaks, shapes (disc, ring, square, triangle, cross, star), concentric rings and gradients.
/// Each image draws its own grey levels (with a guaranteed contrast), position, scale, phase,
/// multiplicative speckle (1–16 looks or none) and additive noise, so a class is defined by its
/// structure only and the features it teaches (edges, orientation, frequency, blob size,
/// texture scale) are generic, as ImageNet's are. It does not use the SAS generator or its
/// classes: no class is a crater, rock field, ripple field or flat seafloor.
///
/// Deterministic from the seed; classes balanced (label = index mod classes). The order
/// interleaves the families, so the first k classes of a smaller preset are still varied.
/// The mask marks a structure's foreground (shapes, spots, lines), else all zeros.
public enum SyntheticSource {
    public static let classes = [
        "grating_0_fine", "spots_small", "texture_coarse", "disc",
        "grating_90_coarse", "checker_fine", "dark_spots_large", "lines",
        "grating_45_fine", "spots_large", "texture_fine", "ring",
        "grating_135_coarse", "crosshatch", "dark_spots_small", "square",
        "grating_90_fine", "spots_medium", "texture_medium", "triangle",
        "grating_0_coarse", "checker_coarse", "concentric", "grid",
        "grating_135_fine", "star", "cross", "grating_45_coarse",
        "gradient_linear", "gradient_radial", "streaks", "spots_mixed",
    ]

    /// `count` images of the first `classes` classes (all by default), label = index mod classes.
    public static func generate(count: Int, size: Int = 64, seed: UInt64, classes k: Int? = nil) throws -> [SyntheticSample] {
        let k = k ?? classes.count
        guard count >= 1, (8...1024).contains(size) else {
            throw SeafoldError.config(key: "source", reason: "count \(count) must be ≥ 1 and size \(size) in 8…1024")
        }
        guard (1...classes.count).contains(k) else {
            throw SeafoldError.config(key: "pretraining.classes", reason: "\(k) is outside 1…\(classes.count) (the source task's classes)")
        }
        let root = SeededGenerator.derive(seed: seed, "synthetic-source")
        return parallelMap(count, progress: nil) { i in
            var rng = root.derive("image-\(i)")
            return render(label: i % k, size: size, rng: &rng)
        }
    }

    public static func render(label: Int, size n: Int, rng: inout SeededGenerator) -> SyntheticSample {
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextDouble() }
        let name = classes[label]
        let S = Double(n)
        let cx = u(0.3, 0.7) * S, cy = u(0.3, 0.7) * S, r = u(0.15, 0.3) * S, rot = u(0, 2 * .pi)
        let phase = u(0, 2 * .pi)
        // Periods in pixels relative to the image: fine 6–11 %, coarse 14–25 % of the side.
        let period = (name.hasSuffix("_fine") ? u(0.06, 0.11) : u(0.14, 0.25)) * S
        var isShape = false
        var field: [Float] = []
        var spots: [(x: Double, y: Double, r: Double)] = []
        var segs: [(Double, Double, Double, Double)] = []
        func scatter(_ count: Int, _ lo: Double, _ hi: Double) -> [(x: Double, y: Double, r: Double)] {
            (0..<count).map { _ in (x: u(0, S), y: u(0, S), r: u(lo, hi) * S) }
        }
        switch name {
        case "texture_coarse": field = RandomFields.smooth(width: n, height: n, cell: S / 3, octaves: 2, rng: &rng)
        case "texture_medium": field = RandomFields.smooth(width: n, height: n, cell: S / 8, octaves: 2, rng: &rng)
        case "texture_fine": field = RandomFields.smooth(width: n, height: n, cell: max(2, S / 24), octaves: 1, rng: &rng)
        case "streaks": field = RandomFields.smooth(width: n, height: n, cell: S / 6, octaves: 1, rng: &rng)
        case "spots_small": spots = scatter(12 + rng.nextInt(below: 20), 0.015, 0.03)
        case "spots_medium": spots = scatter(5 + rng.nextInt(below: 6), 0.04, 0.07)
        case "spots_large": spots = scatter(1 + rng.nextInt(below: 3), 0.1, 0.18)
        case "spots_mixed": spots = scatter(2, 0.1, 0.15) + scatter(10 + rng.nextInt(below: 10), 0.015, 0.03)
        case "dark_spots_small": spots = scatter(10 + rng.nextInt(below: 15), 0.02, 0.04)
        case "dark_spots_large": spots = scatter(1 + rng.nextInt(below: 3), 0.1, 0.18)
        case "lines": segs = (0..<(3 + rng.nextInt(below: 4))).map { _ in (u(0, S), u(0, S), u(0, S), u(0, S)) }
        default: break
        }
        let cr = cos(rot), sr = sin(rot)
        let lineWidth = u(0.012, 0.03) * S
        var f = [Float](repeating: 0, count: n * n)
        for y in 0..<n {
            for x in 0..<n {
                let px = Double(x) + 0.5, py = Double(y) + 0.5
                let dx = px - cx, dy = py - cy
                let lx = dx * cr + dy * sr, ly = -dx * sr + dy * cr  // rotated frame
                let d = (dx * dx + dy * dy).squareRoot()
                var v = 0.0
                switch name {
                case "disc": isShape = true; v = d < r ? 1 : 0
                case "ring": isShape = true; v = abs(d - r) < r * 0.22 ? 1 : 0
                case "square": isShape = true; v = max(abs(lx), abs(ly)) < r * 0.85 ? 1 : 0
                case "triangle": isShape = true; v = (ly > -r * 0.5 && ly < r && abs(lx) < (r - ly) * 0.577) ? 1 : 0
                case "cross": isShape = true; v = (abs(lx) < r * 0.25 && abs(ly) < r) || (abs(ly) < r * 0.25 && abs(lx) < r) ? 1 : 0
                case "star": isShape = true; v = d < r * (0.55 + 0.45 * cos(5 * atan2(ly, lx))) ? 1 : 0
                case _ where name.hasPrefix("grating_"):
                    let deg = Double(name.split(separator: "_")[1]) ?? 0
                    let t = deg * .pi / 180
                    v = 0.5 + 0.5 * sin(2 * .pi * (px * cos(t) + py * sin(t)) / period + phase)
                case "crosshatch":
                    v = 0.5 + 0.25 * sin(2 * .pi * lx / (0.12 * S) + phase) + 0.25 * sin(2 * .pi * ly / (0.12 * S))
                case "checker_fine", "checker_coarse":
                    let c = name == "checker_fine" ? 0.08 * S : 0.2 * S
                    v = (Int(floor(lx / c)) + Int(floor(ly / c))) & 1 == 0 ? 1 : 0
                case "grid":
                    let c = 0.16 * S
                    let gx = lx - c * floor(lx / c), gy = ly - c * floor(ly / c)
                    v = (gx < lineWidth || gy < lineWidth) ? 1 : 0
                case "concentric": v = 0.5 + 0.5 * sin(2 * .pi * d / (0.1 * S) + phase)
                case "texture_coarse", "texture_medium", "texture_fine": v = 0.5 + 0.5 * Double(field[y * n + x])
                case "streaks": v = 0.5 + 0.5 * sin(lx * 0.9 + 4 * Double(field[y * n + x]))
                case "gradient_linear": v = min(max(0.5 + lx / (S * 0.8), 0), 1)
                case "gradient_radial": v = max(0, 1 - d / (S * 0.7))
                case "lines":
                    isShape = true
                    for s in segs where distanceToSegment(px, py, s) < lineWidth { v = 1 }
                default:  // spots: soft Gaussian discs (dark spots invert below)
                    isShape = true
                    for b in spots {
                        let e = ((px - b.x) * (px - b.x) + (py - b.y) * (py - b.y)) / (b.r * b.r)
                        v = max(v, exp(-e))
                    }
                }
                f[y * n + x] = Float(v)
            }
        }
        // Grey levels: foreground and background at least 0.3 apart; dark spots sit below the ground.
        var bg = u(0.05, 0.95), fg = u(0.05, 0.95)
        if abs(fg - bg) < 0.3 { fg = bg < 0.5 ? bg + u(0.3, 0.9 - bg) : bg - u(0.3, bg - 0.05) }
        if name.hasPrefix("dark_spots"), fg > bg { swap(&fg, &bg) }
        if name.hasPrefix("spots"), fg < bg { swap(&fg, &bg) }
        // Speckle (intensity, L looks) on a random half of the images, then additive noise.
        let looks = rng.nextDouble() < 0.5 ? 0 : [1, 2, 4, 8, 16][rng.nextInt(below: 5)]
        let noise = u(0.01, 0.06)
        var px = [Float](repeating: 0, count: n * n)
        for i in 0..<(n * n) {
            var v = bg + (fg - bg) * Double(f[i])
            if looks > 0 { v *= Double(RandomFields.speckle(looks: looks, rng: &rng)) }
            px[i] = Float(min(max(v + noise * rng.normal(), 0), 1))
        }
        let mask: [UInt8] = isShape ? f.map { $0 >= 0.5 ? 1 : 0 } : [UInt8](repeating: 0, count: n * n)
        return SyntheticSample(image: Image(width: n, height: n, channels: 1, pixels: px), label: label,
                               className: name, mask: mask, site: 0,
                               parameters: ["cx": cx, "cy": cy, "radius": r, "rotation": rot, "period": period, "looks": Double(looks)])
    }

    private static func distanceToSegment(_ px: Double, _ py: Double, _ s: (Double, Double, Double, Double)) -> Double {
        let vx = s.2 - s.0, vy = s.3 - s.1
        let l2 = vx * vx + vy * vy
        let t = l2 > 0 ? min(max(((px - s.0) * vx + (py - s.1) * vy) / l2, 0), 1) : 0
        let dx = px - (s.0 + t * vx), dy = py - (s.1 + t * vy)
        return (dx * dx + dy * dy).squareRoot()
    }
}
