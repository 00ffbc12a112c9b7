import SeafoldCore

/// Figures like the paper's Figure 3: panels side by side (typically the image, Base's
/// explanation and FT's explanation), each explanation drawn on the image with its top-5
/// positive segments outlined in yellow (skimage `mark_boundaries` 'outer' mode on lime's
/// `get_image_and_mask` mask: background pixels 4-adjacent to the mask), selected positive
/// segments tinted green and selected negative ones red. Returns an RGB8 buffer; the caller
/// writes the PNG.
public enum ExplanationFigure {
    /// One panel of a figure.
    public struct Panel {
        public enum Overlay {
            /// The plain image.
            case none
            /// An explanation of `label`: top `numFeatures` positive segments outlined and
            /// tinted green, top `numFeatures` negative segments tinted red.
            case explanation(Explanation, label: Int, numFeatures: Int)
            /// A per-pixel mask: > 0 green and outlined, < 0 red.
            case mask([Int32])
        }

        public var title: String
        public var overlay: Overlay

        public init(title: String, overlay: Overlay) {
            self.title = title
            self.overlay = overlay
        }

        public static func image(_ title: String = "Image") -> Panel { Panel(title: title, overlay: .none) }

        public static func explanation(_ title: String, _ e: Explanation, label: Int, numFeatures: Int = 5) -> Panel {
            Panel(title: title, overlay: .explanation(e, label: label, numFeatures: numFeatures))
        }
    }

    /// Opacity of the green/red tint.
    public static let tintAlpha: Float = 0.35
    public static let boundaryColour: (Float, Float, Float) = (1, 1, 0)

    /// Renders `panels` left to right with a `gap`-pixel white margin; titles (5×7 font,
    /// scaled to the image) above each panel when `titles` is true.
    public static func render(image: RGBImage, panels: [Panel], titles: Bool = true, gap: Int = 4)
        throws -> (width: Int, height: Int, rgb: [UInt8]) {
        guard !panels.isEmpty else { throw SeafoldError.config(key: "figure.panels", reason: "at least one panel is needed") }
        let w = image.width, h = image.height
        let scale = max(1, w / 112)
        let band = titles ? BitmapFont.glyphHeight * scale + 2 * gap : 0
        let outW = panels.count * w + (panels.count + 1) * gap
        let outH = h + band + gap
        var rgb = [UInt8](repeating: 255, count: outW * outH * 3)
        for (p, panel) in panels.enumerated() {
            let drawn = try overlay(image, panel.overlay)
            let x0 = gap + p * (w + gap), y0 = band
            for r in 0..<h {
                for c in 0..<w {
                    let s = 3 * (r * w + c), o = 3 * ((y0 + r) * outW + x0 + c)
                    for k in 0..<3 { rgb[o + k] = UInt8((min(max(drawn[s + k], 0), 1) * 255).rounded()) }
                }
            }
            if titles {
                let tw = BitmapFont.width(panel.title, scale: scale)
                BitmapFont.draw(panel.title, x: x0 + max(0, (w - tw) / 2), y: gap, scale: scale, colour: (0, 0, 0),
                                into: &rgb, width: outW, height: outH)
            }
        }
        return (outW, outH, rgb)
    }

    /// The paper's Figure 3 row: image | Base | FT for one explained label.
    public static func comparison(image: RGBImage, base: Explanation, fineTuned: Explanation, label: Int,
                                  numFeatures: Int = 5, titles: Bool = true) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        try comparison(image: image, base: base, baseLabel: label, fineTuned: fineTuned, fineTunedLabel: label,
                       numFeatures: numFeatures, titles: titles)
    }

    /// The same with each model's own explained class (e.g. each model's top prediction).
    public static func comparison(image: RGBImage, base: Explanation, baseLabel: Int, fineTuned: Explanation, fineTunedLabel: Int,
                                  numFeatures: Int = 5, titles: Bool = true) throws -> (width: Int, height: Int, rgb: [UInt8]) {
        try render(image: image, panels: [.image(), .explanation("Base", base, label: baseLabel, numFeatures: numFeatures),
                                          .explanation("FT", fineTuned, label: fineTunedLabel, numFeatures: numFeatures)], titles: titles)
    }

    /// The image with the overlay applied, as HWC floats.
    static func overlay(_ image: RGBImage, _ overlay: Panel.Overlay) throws -> [Float] {
        let mask: [Int32]
        switch overlay {
        case .none: return image.pixels
        case let .mask(m):
            guard m.count == image.pixelCount else {
                throw SeafoldError.mismatch(what: "figure mask pixels", expected: "\(image.pixelCount)", found: "\(m.count)")
            }
            mask = m
        case let .explanation(e, label, k):
            guard e.segmentation.width == image.width, e.segmentation.height == image.height else {
                throw SeafoldError.mismatch(what: "explanation size for the figure", expected: "\(image.width)x\(image.height)",
                                            found: "\(e.segmentation.width)x\(e.segmentation.height)")
            }
            let pos = try e.mask(label: label, numFeatures: k)
            let neg = try e.mask(label: label, positiveOnly: false, negativeOnly: true, numFeatures: k)
            mask = zip(pos, neg).map { $0 > 0 ? 1 : ($1 > 0 ? -1 : 0) }
        }
        var out = image.pixels
        for i in 0..<mask.count where mask[i] != 0 {
            let tint: (Float, Float, Float) = mask[i] > 0 ? (0, 1, 0) : (1, 0, 0)
            out[3 * i] = (1 - tintAlpha) * out[3 * i] + tintAlpha * tint.0
            out[3 * i + 1] = (1 - tintAlpha) * out[3 * i + 1] + tintAlpha * tint.1
            out[3 * i + 2] = (1 - tintAlpha) * out[3 * i + 2] + tintAlpha * tint.2
        }
        let boundary = outerBoundary(mask.map { $0 > 0 }, width: image.width, height: image.height)
        for i in 0..<boundary.count where boundary[i] {
            out[3 * i] = boundaryColour.0; out[3 * i + 1] = boundaryColour.1; out[3 * i + 2] = boundaryColour.2
        }
        return out
    }

    /// skimage `find_boundaries(mode='outer')` for a binary mask: pixels outside the mask
    /// with a 4-neighbour inside it.
    public static func outerBoundary(_ inside: [Bool], width w: Int, height h: Int) -> [Bool] {
        var b = [Bool](repeating: false, count: inside.count)
        for r in 0..<h {
            for c in 0..<w where !inside[r * w + c] {
                if (c > 0 && inside[r * w + c - 1]) || (c + 1 < w && inside[r * w + c + 1]) ||
                    (r > 0 && inside[(r - 1) * w + c]) || (r + 1 < h && inside[(r + 1) * w + c]) {
                    b[r * w + c] = true
                }
            }
        }
        return b
    }
}
