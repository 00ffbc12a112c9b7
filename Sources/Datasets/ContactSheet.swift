import Foundation

/// A grid of examples per class as an RGB8 image (like the paper's Figure 1): one row per
/// class with its name drawn in a built-in 5×7 bitmap font, the first `perClass` images of the
/// class as tiles; with `overlayMasks`, a second row shows the same tiles with the evidence
/// mask tinted red. RGB tiles are shown as their channel mean.
public enum ContactSheet {
    public struct Rendered: Sendable {
        public var width: Int
        public var height: Int
        public var rgb: [UInt8]
    }

    public static func render(samples: [SyntheticSample], classes: [String], perClass: Int = 6, tile: Int = 96,
                              overlayMasks: Bool = true) -> Rendered {
        let scale = 2, gap = 4
        let labelWidth = (classes.map(\.count).max() ?? 1) * 6 * scale + 2 * gap
        let rowsPerClass = overlayMasks ? 2 : 1
        let width = labelWidth + perClass * (tile + gap) + gap
        let height = classes.count * rowsPerClass * (tile + gap) + gap
        var canvas = [UInt8](repeating: 24, count: width * height * 3)
        for (c, name) in classes.enumerated() {
            let top = gap + c * rowsPerClass * (tile + gap)
            BitmapFont.draw(name.uppercased().replacingOccurrences(of: "_", with: " "), into: &canvas, width: width, height: height,
                            x: gap, y: top + tile / 2 - 7, scale: scale, color: (235, 235, 235))
            let members = samples.filter { $0.label == c }.prefix(perClass)
            for (j, s) in members.enumerated() {
                let grey = s.image.channels == 1 ? s.image.pixels : (0..<(s.image.width * s.image.height)).map { i in (s.image.pixels[3 * i] + s.image.pixels[3 * i + 1] + s.image.pixels[3 * i + 2]) / 3 }
                let small = Resampler.resize(grey, width: s.image.width, height: s.image.height, channels: 1, stride: 1, offset: 0, toWidth: tile, toHeight: tile)
                let maskSmall = Resampler.resize(s.mask.map(Float.init), width: s.image.width, height: s.image.height, channels: 1, stride: 1, offset: 0, toWidth: tile, toHeight: tile)
                let left = labelWidth + j * (tile + gap)
                for r in 0..<rowsPerClass {
                    let y0 = top + r * (tile + gap)
                    for y in 0..<tile {
                        for x in 0..<tile {
                            let v = min(max(small[y * tile + x], 0), 1)
                            var rgb = (v, v, v)
                            if r == 1 && maskSmall[y * tile + x] >= 0.5 { rgb = (0.45 + 0.55 * v, 0.55 * v, 0.55 * v) }
                            let o = ((y0 + y) * width + left + x) * 3
                            canvas[o] = UInt8(rgb.0 * 255); canvas[o + 1] = UInt8(rgb.1 * 255); canvas[o + 2] = UInt8(rgb.2 * 255)
                        }
                    }
                }
            }
        }
        return Rendered(width: width, height: height, rgb: canvas)
    }

    public static func write(samples: [SyntheticSample], classes: [String], to url: URL, perClass: Int = 6, tile: Int = 96) throws {
        let r = render(samples: samples, classes: classes, perClass: perClass, tile: tile)
        try PNGWriter.writeRGB8(width: r.width, height: r.height, rgb: r.rgb, to: url)
    }
}

/// A tiny 5×7 bitmap font (upper-case letters, digits, a few signs) for labels on figures.
public enum BitmapFont {
    static let glyphs: [Character: [UInt8]] = [
        "A": [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11], "B": [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        "C": [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E], "D": [0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E],
        "E": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F], "F": [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        "G": [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F], "H": [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        "I": [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E], "J": [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        "K": [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11], "L": [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        "M": [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11], "N": [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        "O": [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "P": [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        "Q": [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D], "R": [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        "S": [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E], "T": [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        "U": [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E], "V": [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        "W": [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A], "X": [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        "Y": [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04], "Z": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        "0": [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E], "1": [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        "2": [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F], "3": [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        "4": [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02], "5": [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        "6": [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E], "7": [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        "8": [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E], "9": [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        "_": [0, 0, 0, 0, 0, 0, 0x1F], "-": [0, 0, 0, 0x1F, 0, 0, 0], ".": [0, 0, 0, 0, 0, 0x0C, 0x0C],
        ":": [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0], " ": [0, 0, 0, 0, 0, 0, 0],
    ]

    /// Draws `text` (unknown characters as blanks) with its top-left at (x, y), each font pixel
    /// a `scale`×`scale` block, clipped to the canvas.
    public static func draw(_ text: String, into rgb: inout [UInt8], width: Int, height: Int, x: Int, y: Int,
                            scale: Int = 1, color: (UInt8, UInt8, UInt8)) {
        for (k, ch) in text.uppercased().enumerated() {
            guard let rows = glyphs[ch] else { continue }
            for (ry, bits) in rows.enumerated() {
                for rx in 0..<5 where bits & (0x10 >> UInt8(rx)) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = x + (k * 6 + rx) * scale + dx, py = y + ry * scale + dy
                            guard px >= 0, py >= 0, px < width, py < height else { continue }
                            let o = (py * width + px) * 3
                            rgb[o] = color.0; rgb[o + 1] = color.1; rgb[o + 2] = color.2
                        }
                    }
                }
            }
        }
    }
}
