import Foundation
import SeafoldCore

/// One simulated survey site. Sites differ in gain, speckle statistics and texture scale, as
/// the paper's multi-site data come from different ocean-floor locations and sonar settings.
public struct SonarSite: Codable, Equatable, Sendable {
    public var id: Int
    /// Overall backscatter gain (brightness).
    public var gain: Double
    /// Speckle looks: 1 = fully developed speckle (Rayleigh amplitude); more looks = smoother.
    public var looks: Int
    /// K-distribution texture shape ν for rough (rocky) seafloor; smaller = spikier returns.
    public var roughShape: Double
    /// Multiplies spatial scales (ripple wavelength, rock size, background texture).
    public var textureScale: Double
    /// Exponent of the along-range intensity falloff (spreading and absorption).
    public var falloff: Double
    /// Tangent of the grazing angle at mid-swath; sets shadow lengths.
    public var grazingTan: Double
    /// Near-edge range of an image, as a multiple of the image size (drawn per image).
    public var rangeMin: Double
    public var rangeMax: Double
    /// Additive noise floor (in intensity units; ground backscatter is about 1).
    public var noiseFloor: Double

    public init(id: Int, gain: Double, looks: Int, roughShape: Double, textureScale: Double, falloff: Double,
                grazingTan: Double, rangeMin: Double, rangeMax: Double, noiseFloor: Double) {
        self.id = id; self.gain = gain; self.looks = max(looks, 1); self.roughShape = roughShape
        self.textureScale = textureScale; self.falloff = falloff; self.grazingTan = grazingTan
        self.rangeMin = rangeMin; self.rangeMax = rangeMax; self.noiseFloor = noiseFloor
    }
}

/// Renders one seafloor image: a height field and a material reflectivity per class, lit by a
/// side-looking sonar on the left (range grows with x): backscatter grows with the local
/// grazing angle (slopes facing the sonar are bright), points below the grazing ray from
/// earlier ranges are in acoustic shadow (cast away from the sonar, longer at far range), an
/// along-range falloff, then multiplicative speckle (intensity Gamma(L)/L, K-distributed by a
/// Gamma(ν) texture for rough ground); the stored value is the amplitude √I × 0.3, clamped
/// to [0, 1]. The evidence mask marks crater rims and interiors, rock footprints, ripple crests
/// and the shadows those features cast.
struct SeafloorScene {
    let size: Int
    var z: [Float]
    var material: [Float]
    var evidence: [UInt8]
    var params: [String: Double] = [:]

    init(size: Int) {
        self.size = size
        z = [Float](repeating: 0, count: size * size)
        material = [Float](repeating: 1, count: size * size)
        evidence = [UInt8](repeating: 0, count: size * size)
    }

    // MARK: features

    mutating func addBackground(scale ts: Double, rng: inout SeededGenerator) {
        let amp = Float(0.6 * (0.5 + rng.nextDouble()))
        let relief = RandomFields.smooth(width: size, height: size, cell: 24 * ts, octaves: 3, rng: &rng)
        let contrast = Float(0.12 * (0.5 + rng.nextDouble()))
        let mat = RandomFields.smooth(width: size, height: size, cell: 12 * ts, octaves: 2, rng: &rng)
        for i in z.indices {
            z[i] += amp * relief[i]
            material[i] *= 1 + contrast * mat[i]
        }
        params["backgroundRelief"] = Double(amp)
    }

    /// Quasi-periodic ripples: asymmetric crests (gentle stoss, steep lee) whose phase wanders.
    mutating func addRipples(amplitude: Double, wavelength: Double, orientation: Double, wander: Double,
                             asymmetry a: Double, patchy: Bool, evidence mark: Bool, rng: inout SeededGenerator) {
        let wf = RandomFields.smooth(width: size, height: size, cell: 3 * wavelength, octaves: 2, rng: &rng)
        var window: [Float]? = nil
        if patchy {
            let w = RandomFields.smooth(width: size, height: size, cell: Double(size) / 2, octaves: 1, rng: &rng)
            window = w.map { v in let t = min(max((v + 0.3) * 2.5, 0), 1); return t * t * (3 - 2 * t) }
        }
        let c = Float(cos(orientation) / wavelength), s = Float(sin(orientation) / wavelength)
        let wv = Float(wander / (2 * Double.pi)), A = Float(amplitude), af = Float(a)
        let phase0 = Float(rng.nextDouble())
        for y in 0..<size {
            for x in 0..<size {
                let i = y * size + x
                let ph = Float(x) * c + Float(y) * s + wv * wf[i] + phase0
                let p = ph - ph.rounded(.down)
                var h = p < af ? p / af : (1 - p) / (1 - af)
                h = h * h * (3 - 2 * h)
                let win = window?[i] ?? 1
                z[i] += A * win * h
                if mark && win > 0.5 && abs(p - af) < 0.15 { evidence[i] = 1 }
            }
        }
    }

    /// A hemispherical boulder with a bright (rough) surface.
    mutating func addRock(x cx: Double, y cy: Double, radius r: Double, height h: Double, brightness: Double, evidence mark: Bool) {
        let r2 = r * r
        let x0 = max(Int(cx - r), 0), x1 = min(Int(cx + r) + 1, size - 1)
        let y0 = max(Int(cy - r), 0), y1 = min(Int(cy + r) + 1, size - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let q = 1 - (dx * dx + dy * dy) / r2
                guard q > 0 else { continue }
                let i = y * size + x
                z[i] += Float(h * q.squareRoot())
                material[i] = max(material[i], Float(brightness))
                if mark { evidence[i] = 1 }
            }
        }
    }

    /// A circular depression with a raised, possibly broken rim.
    mutating func addCrater(x cx: Double, y cy: Double, radius R: Double, depth D: Double, rim Hr: Double,
                            rimBreak: Double, rng: inout SeededGenerator) {
        let k1 = Double(2 + rng.nextInt(below: 4)), k2 = Double(3 + rng.nextInt(below: 5))
        let p1 = rng.nextDouble() * 2 * Double.pi, p2 = rng.nextDouble() * 2 * Double.pi
        let reach = 1.6 * R
        let x0 = max(Int(cx - reach), 0), x1 = min(Int(cx + reach) + 1, size - 1)
        let y0 = max(Int(cy - reach), 0), y1 = min(Int(cy + reach) + 1, size - 1)
        guard x0 <= x1, y0 <= y1 else { return }
        for y in y0...y1 {
            for x in x0...x1 {
                let dx = Double(x) - cx, dy = Double(y) - cy
                let rho = (dx * dx + dy * dy).squareRoot() / R
                guard rho < 1.6 else { continue }
                let ang = atan2(dy, dx)
                let mod = max(0, 1 + rimBreak * sin(k1 * ang + p1) * sin(k2 * ang + p2) * 1.6)
                var dz = Hr * mod * exp(-((rho - 1) / (rho < 1 ? 0.18 : 0.3)) * ((rho - 1) / (rho < 1 ? 0.18 : 0.3)))
                if rho < 1 { dz -= D * (1 - rho * rho) }
                let i = y * size + x
                z[i] += Float(dz)
                if rho < 1 { material[i] *= 0.9 }  // finer sediment collects inside
                if rho < 1.15 { evidence[i] = 1 }
            }
        }
    }

    // MARK: imaging

    /// Sonar imaging: grazing-angle backscatter, shadows, falloff, speckle; returns amplitudes in [0, 1].
    func image(site: SonarSite, rangeOffset r0: Double, roughShape nu: Double, rng: inout SeededGenerator) -> (pixels: [Float], evidence: [UInt8]) {
        let n = size
        let mid = r0 + Double(n) / 2
        let altitude = site.grazingTan * mid
        var out = [Float](repeating: 0, count: n * n)
        var ev = evidence
        let shadowLevel: Float = 0.06
        var tanG = [Float](repeating: 0, count: n), psi0 = [Float](repeating: 0, count: n), fall = [Float](repeating: 0, count: n)
        for x in 0..<n {
            let r = r0 + Double(x)
            tanG[x] = Float(altitude / r)
            psi0[x] = Float(atan(altitude / r))
            fall[x] = Float(site.gain * Foundation.pow(mid / r, site.falloff))
        }
        let floor = Float(site.noiseFloor)
        z.withUnsafeBufferPointer { zb in
            for y in 0..<n {
                let row = y * n
                var ray = -Float.infinity
                var casterIsEvidence = false
                for x in 0..<n {
                    let i = row + x
                    let zl = zb[row + max(x - 1, 0)], zr = zb[row + min(x + 1, n - 1)]
                    let slope = (zr - zl) / Float(min(x + 1, n - 1) - max(x - 1, 0))
                    let psi = min(max(psi0[x] + atan(slope), 0), Float.pi / 2)
                    var I = material[i] * min(sin(psi) / sin(psi0[x]), 6)
                    ray -= tanG[x]
                    if zb[i] >= ray - 0.02 {
                        if zb[i] > ray { ray = zb[i]; casterIsEvidence = evidence[i] != 0 }
                    } else {
                        I *= shadowLevel
                        if casterIsEvidence { ev[i] = 1 }
                    }
                    out[i] = I * fall[x] + floor
                }
            }
        }
        for i in out.indices {
            var v = out[i] * RandomFields.speckle(looks: site.looks, rng: &rng)
            if nu < 1e6 { v *= RandomFields.unitMeanGamma(shape: nu, rng: &rng) }
            out[i] = min(v.squareRoot() * 0.3, 1)
        }
        return (out, ev)
    }
}
