import Foundation
import SeafoldCore

/// Synthetic sidescan/SAS seafloor textures standing in for the paper's private datasets:
/// four classes (craters, flat, rocky, sand ripple), deterministic from a seed, with a
/// ground-truth evidence mask per image. See `SeafloorScene` for the imaging model.
///
/// Presets mirror the paper (§3.1):
/// - `multi-site`: 118 images of 256 × 256 from 4 simulated sites that differ in gain,
///   speckle looks, K-texture, texture scale, falloff and grazing angle; classes balanced
///   (30/30/29/29).
/// - `single-site`: 2,962 snippets of 80 × 80 cut at random ranges from one site, with the
///   extreme imbalance of the paper's Figure 2: craters 148 (5.0 %), flat 1,807 (61.0 %),
///   rocky 415 (14.0 %), sand ripple 592 (20.0 %). Other counts keep these proportions
///   (largest remainders, at least one image per class).
///
/// `difficulty` ∈ [0, 1] (default 0.5) makes classes overlap: faint or patchy ripples, sparse
/// small rocks, shallow craters with broken (rock-like) rims, stones and faint ripples on flat
/// ground, rough K-distributed patches on non-rocky ground.
public enum SyntheticSAS {
    public static let classes = ["craters", "flat", "rocky", "sand_ripple"]
    public static let generatorVersion = 1
    /// Single-site class proportions (craters, flat, rocky, sand ripple) out of 2,962.
    public static let singleSiteCounts = [148, 1807, 415, 592]

    public enum Preset: String, CaseIterable, Codable, Sendable {
        case multiSite = "multi-site"
        case singleSite = "single-site"
    }

    /// Everything that determines a generated dataset.
    public struct Options: Codable, Equatable, Sendable {
        public var preset: Preset
        public var count: Int
        public var size: Int
        public var seed: UInt64
        public var difficulty: Double

        public init(preset: Preset, count: Int? = nil, size: Int? = nil, seed: UInt64 = 0, difficulty: Double = 0.5) {
            self.preset = preset
            self.count = count ?? (preset == .multiSite ? 118 : 2962)
            self.size = size ?? (preset == .multiSite ? 256 : 80)
            self.seed = seed
            self.difficulty = difficulty
        }

        public func validate() throws {
            guard count >= SyntheticSAS.classes.count else {
                throw SeafoldError.config(key: "count", reason: "\(count) images cannot cover \(SyntheticSAS.classes.count) classes; use at least 4")
            }
            guard (16...2048).contains(size) else {
                throw SeafoldError.config(key: "size", reason: "\(size) px is outside 16…2048")
            }
            guard (0...1).contains(difficulty) else {
                throw SeafoldError.config(key: "difficulty", reason: "\(difficulty) is outside [0, 1]")
            }
        }
    }

    /// Images per class (in `classes` order) for a preset and total.
    public static func classCounts(preset: Preset, total: Int) -> [Int] {
        let k = classes.count
        if preset == .multiSite {
            return (0..<k).map { total / k + ($0 < total % k ? 1 : 0) }
        }
        let ref = singleSiteCounts, refTotal = Double(ref.reduce(0, +))
        var counts = ref.map { max(1, Int(Double($0) * Double(total) / refTotal)) }
        // Largest remainders fix the sum (classes ordered by their remainder, then index).
        let rema = ref.enumerated().map { (i, c) in (Double(c) * Double(total) / refTotal - Double(counts[i]), i) }
            .sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }
        var j = 0
        while counts.reduce(0, +) < total { counts[rema[j % k].1] += 1; j += 1 }
        while counts.reduce(0, +) > total, let big = counts.indices.max(by: { counts[$0] < counts[$1] }) { counts[big] -= 1 }
        return counts
    }

    /// The simulated sites of a preset (derived from the seed).
    public static func sites(_ options: Options) -> [SonarSite] {
        var rng = SeededGenerator.derive(seed: options.seed, "synthetic-sas/sites")
        if options.preset == .singleSite {
            return [SonarSite(id: 0, gain: 1, looks: 1, roughShape: 2.5, textureScale: 1, falloff: 0.8,
                              grazingTan: 0.22, rangeMin: 0.5, rangeMax: 4, noiseFloor: 0.02)]
        }
        let looks = [1, 2, 4, 1]
        return (0..<4).map { id in
            SonarSite(id: id, gain: Double(rng.uniform(0.5, 1.6)), looks: looks[id], roughShape: Double(rng.uniform(1.5, 5)),
                      textureScale: Double(rng.uniform(0.7, 1.4)), falloff: Double(rng.uniform(0.4, 1.2)),
                      grazingTan: Double(rng.uniform(0.15, 0.35)), rangeMin: 0.3, rangeMax: 1.5,
                      noiseFloor: Double(rng.uniform(0.005, 0.05)))
        }
    }

    /// Generates the dataset in memory, class by class (label = index in `classes`).
    /// Runs on all cores; the result does not depend on scheduling.
    public static func generate(_ options: Options, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [SyntheticSample] {
        try options.validate()
        let counts = classCounts(preset: options.preset, total: options.count)
        let sites = sites(options)
        var plan: [(label: Int, site: Int)] = []
        for (label, c) in counts.enumerated() {
            for j in 0..<c { plan.append((label, (j + label) % sites.count)) }
        }
        let root = SeededGenerator.derive(seed: options.seed, "synthetic-sas/images")
        return parallelMap(plan.count, progress: progress) { i in
            var rng = root.derive("image-\(i)")
            return render(label: plan[i].label, site: sites[plan[i].site], size: options.size,
                          difficulty: options.difficulty, rng: &rng)
        }
    }

    /// One image of class `label` at `site`.
    public static func render(label: Int, site: SonarSite, size: Int, difficulty d: Double, rng: inout SeededGenerator) -> SyntheticSample {
        var scene = SeafloorScene(size: size)
        let S = Double(size), ts = site.textureScale
        let area = S * S / (96 * 96)
        func u(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextDouble() }
        scene.addBackground(scale: ts, rng: &rng)
        var nu = 1e9
        if rng.nextDouble() < 0.3 * d { nu = u(3, 8) }  // rough patches confuse texture statistics
        switch classes[label] {
        case "flat":
            if rng.nextDouble() < 0.35 * d {
                let stones = 1 + rng.nextInt(below: 3)
                for _ in 0..<stones {
                    let r = u(0.8, 2) * ts
                    scene.addRock(x: u(0, S), y: u(0, S), radius: r, height: r * u(0.4, 0.9), brightness: u(1.2, 2), evidence: false)
                }
                scene.params["stones"] = Double(stones)
            }
            if rng.nextDouble() < 0.35 * d {
                scene.addRipples(amplitude: u(0.1, 0.3), wavelength: u(6, 15) * ts, orientation: u(0, .pi), wander: u(0.5, 3),
                                 asymmetry: u(0.6, 0.85), patchy: true, evidence: false, rng: &rng)
                scene.params["faintRipples"] = 1
            }
        case "sand_ripple":
            let a = u(0.5, 1.5) * (1 - 0.55 * d * rng.nextDouble())
            let lambda = u(6, 15) * ts, theta = u(0, .pi), wander = u(0.5, 3)
            let patchy = rng.nextDouble() < 0.5 * d
            scene.addRipples(amplitude: a, wavelength: lambda, orientation: theta, wander: wander,
                             asymmetry: u(0.6, 0.85), patchy: patchy, evidence: true, rng: &rng)
            scene.params["rippleAmplitude"] = a; scene.params["wavelength"] = lambda
            scene.params["orientation"] = theta; scene.params["wander"] = wander; scene.params["patchy"] = patchy ? 1 : 0
        case "rocky":
            nu = site.roughShape * u(0.5, 1)
            let clusters = 1 + rng.nextInt(below: 1 + Int(area.rounded(.up)))
            var rocks = 0
            for _ in 0..<clusters {
                let cx = u(0.1, 0.9) * S, cy = u(0.1, 0.9) * S, spread = u(0.05, 0.18) * S
                let n = max(1, Int(u(4, 16) * (1 - 0.6 * d * rng.nextDouble())))
                for _ in 0..<n {
                    let x = min(max(cx + spread * rng.normal(), 0), S - 1), y = min(max(cy + spread * rng.normal(), 0), S - 1)
                    let r = u(0.8, 3) * ts * max(1, S / 96).squareRoot()
                    scene.addRock(x: x, y: y, radius: r, height: r * u(0.5, 1.1), brightness: u(2, 4.5), evidence: true)
                    rocks += 1
                }
            }
            scene.params["clusters"] = Double(clusters); scene.params["rocks"] = Double(rocks)
        default:  // craters
            if rng.nextDouble() < 0.35 {
                scene.addRipples(amplitude: u(0.2, 0.6), wavelength: u(6, 15) * ts, orientation: u(0, .pi), wander: u(0.5, 3),
                                 asymmetry: u(0.6, 0.85), patchy: rng.nextDouble() < 0.5, evidence: false, rng: &rng)
                scene.params["rippledGround"] = 1
            }
            let n = 1 + rng.nextInt(below: max(1, Int(area)))
            for k in 0..<n {
                let R = max(4, u(0.14, 0.3) * S / Double(n).squareRoot())
                let depth = R * u(0.12, 0.3) * (1 - 0.6 * d * rng.nextDouble())
                let rim = depth * u(0.25, 0.6)
                let margin = R * (1 - 0.8 * d)
                let cx = u(margin, S - margin), cy = u(margin, S - margin)
                scene.addCrater(x: cx, y: cy, radius: R, depth: depth, rim: rim, rimBreak: u(0, 0.2 + 0.8 * d), rng: &rng)
                if k == 0 { scene.params["radius"] = R; scene.params["depth"] = depth; scene.params["rim"] = rim }
            }
            scene.params["craters"] = Double(n)
            if rng.nextDouble() < 0.3 * d {
                let stones = 2 + rng.nextInt(below: 5)
                for _ in 0..<stones {
                    let r = u(0.8, 2) * ts
                    scene.addRock(x: u(0, S), y: u(0, S), radius: r, height: r * u(0.4, 0.9), brightness: u(1.2, 2), evidence: false)
                }
                scene.params["stones"] = Double(stones)
            }
        }
        let r0 = u(site.rangeMin, site.rangeMax) * S
        let (px, mask) = scene.image(site: site, rangeOffset: r0, roughShape: nu, rng: &rng)
        var params = scene.params
        params["rangeOffset"] = r0
        params["textureShape"] = nu >= 1e6 ? 0 : nu
        // Quantise to the 16-bit grid so the in-memory image equals the one written to disk.
        let q = px.map { ($0 * 65535).rounded() / 65535 }
        return SyntheticSample(image: Image(width: size, height: size, channels: 1, pixels: q), label: label,
                               className: classes[label], mask: mask, site: site.id, parameters: params)
    }
}
