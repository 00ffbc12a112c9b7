import Foundation

/// sRGB → CIE L*a*b* conversion with `skimage.color.rgb2lab` semantics (D65, 2° observer).
///
/// Steps (as skimage): sRGB gamma expansion (`((c+0.055)/1.055)^2.4` above 0.04045, else
/// `c/12.92`), linear RGB → XYZ with skimage's `xyz_from_rgb` matrix, normalisation by the
/// D65 white (0.95047, 1, 1.08883), then `f(t) = t^(1/3)` above 0.008856 else
/// `7.787 t + 16/116`; L = 116 f(y) − 16, a = 500 (f(x) − f(y)), b = 200 (f(y) − f(z)).
public enum ColorSpace {
    static let xyzFromRGB: [Double] = [
        0.412453, 0.357580, 0.180423,
        0.212671, 0.715160, 0.072169,
        0.019334, 0.119193, 0.950227,
    ]
    static let whiteD65: (Double, Double, Double) = (0.95047, 1.0, 1.08883)

    @inline(__always) static func expandGamma(_ c: Double) -> Double {
        c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92
    }

    @inline(__always) static func labF(_ t: Double) -> Double {
        t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116.0
    }

    /// One colour: (L, a, b) for sRGB values in [0, 1].
    public static func lab(r: Double, g: Double, b: Double) -> (L: Double, a: Double, b: Double) {
        let lr = expandGamma(r), lg = expandGamma(g), lb = expandGamma(b)
        let m = xyzFromRGB
        let x = (m[0] * lr + m[1] * lg + m[2] * lb) / whiteD65.0
        let y = (m[3] * lr + m[4] * lg + m[5] * lb) / whiteD65.1
        let z = (m[6] * lr + m[7] * lg + m[8] * lb) / whiteD65.2
        let fx = labF(x), fy = labF(y), fz = labF(z)
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    /// The whole image as HWC Lab (Double, 3 channels).
    public static func lab(_ image: RGBImage) -> [Double] {
        var out = [Double](repeating: 0, count: image.pixels.count)
        // Gamma expansion dominates; an 8-bit-like image has few distinct values, but the
        // input is Float in general, so compute per pixel (cheap next to quickshift).
        image.pixels.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for i in 0..<image.pixelCount {
                    let v = lab(r: Double(p[3 * i]), g: Double(p[3 * i + 1]), b: Double(p[3 * i + 2]))
                    o[3 * i] = v.L; o[3 * i + 1] = v.a; o[3 * i + 2] = v.b
                }
            }
        }
        return out
    }
}
