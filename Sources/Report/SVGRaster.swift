import CRSVG
import Foundation
import SeafoldCore

/// Rasterises an SVG document to PNG with librsvg and cairo. Text is laid out by pango with the
/// system's fonts (fontconfig; the figures ask for DejaVu Sans), so a PNG figure carries the same
/// real, anti-aliased text as its SVG.
public enum SVGRaster {
    /// Writes `svg` as a PNG of its intrinsic size × `scale` (2 gives about 192 dpi for print),
    /// on a white background.
    public static func writePNG(svg: String, scale: Double = 2, to url: URL) throws {
        func failure(_ what: String, _ err: UnsafeMutablePointer<GError>?) -> SeafoldError {
            let detail = err.flatMap { $0.pointee.message.map { String(cString: $0) } } ?? "no detail"
            if let err { g_error_free(err) }
            return SeafoldError.io(path: url.path, reason: "cannot rasterise the figure (\(what)): \(detail)")
        }
        var err: UnsafeMutablePointer<GError>?
        let bytes = Array(svg.utf8)
        guard let handle = bytes.withUnsafeBufferPointer({ rsvg_handle_new_from_data($0.baseAddress, gsize($0.count), &err) }) else {
            throw failure("librsvg could not parse the SVG", err)
        }
        defer { g_object_unref(UnsafeMutableRawPointer(handle)) }
        var w = 0.0, h = 0.0
        guard rsvg_handle_get_intrinsic_size_in_pixels(handle, &w, &h) != 0, w > 0, h > 0 else {
            throw failure("the SVG has no width and height in pixels", nil)
        }
        let pw = Int32((w * scale).rounded(.up)), ph = Int32((h * scale).rounded(.up))
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, pw, ph) else { throw failure("no cairo surface", nil) }
        defer { cairo_surface_destroy(surface) }
        guard let cr = cairo_create(surface) else { throw failure("no cairo context", nil) }
        defer { cairo_destroy(cr) }
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        var viewport = RsvgRectangle(x: 0, y: 0, width: Double(pw), height: Double(ph))
        guard rsvg_handle_render_document(handle, cr, &viewport, &err) != 0 else { throw failure("librsvg could not render it", err) }
        cairo_surface_flush(surface)
        let status = cairo_surface_write_to_png(surface, url.path)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw failure("cairo could not write the PNG: \(String(cString: cairo_status_to_string(status)))", nil)
        }
    }
}
