// TIFF decoding through libtiff: errors and warnings go to per-handle handlers (never stderr),
// the layout is checked before any pixel is read, and every buffer size is overflow-checked.
#include "seafold_image_codecs.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tiffio.h>

struct tiff_messages {
    char error[256];
    int errors;
};

static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif; (void)module;
    struct tiff_messages *m = user;
    if (m && m->errors++ == 0) vsnprintf(m->error, sizeof(m->error), fmt, ap);
    return 1;  // handled: libtiff does not call the global handler
}

static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif; (void)user; (void)module; (void)fmt; (void)ap;
    return 1;  // unknown tags and the like: ignored, never printed
}

static pthread_once_t silence_once = PTHREAD_ONCE_INIT;
static void silence_global_handlers(void) {
    // Messages not tied to a handle (e.g. before the file is opened) go to the global
    // handlers, which print to stderr by default.
    TIFFSetErrorHandler(NULL);
    TIFFSetWarningHandler(NULL);
}

static int fail(seafold_decoded_image *out, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof(out->message), fmt, ap);
    va_end(ap);
    free(out->data);
    out->data = NULL;
    return status;
}

static const char *photometric_name(uint16_t p) {
    switch (p) {
    case PHOTOMETRIC_MINISWHITE: return "min-is-white grey";
    case PHOTOMETRIC_MINISBLACK: return "min-is-black grey";
    case PHOTOMETRIC_RGB: return "RGB";
    case PHOTOMETRIC_PALETTE: return "palette";
    case PHOTOMETRIC_MASK: return "transparency mask";
    case PHOTOMETRIC_SEPARATED: return "separated (CMYK)";
    case PHOTOMETRIC_YCBCR: return "YCbCr";
    case PHOTOMETRIC_CIELAB: return "CIE L*a*b*";
    default: return "unusual";
    }
}

static const char *format_name(uint16_t f) {
    switch (f) {
    case SAMPLEFORMAT_UINT: return "unsigned integer";
    case SAMPLEFORMAT_INT: return "signed integer";
    case SAMPLEFORMAT_IEEEFP: return "floating-point";
    default: return "unusual";
    }
}

// Copies `n` pixels of `spp` interleaved samples (each `bytes` wide) keeping the first `keep`.
static void copy_pixels(unsigned char *dst, const unsigned char *src, size_t n, int spp, int keep, int bytes) {
    size_t in = (size_t)spp * (size_t)bytes, outp = (size_t)keep * (size_t)bytes;
    for (size_t i = 0; i < n; i++) memcpy(dst + i * outp, src + i * in, outp);
}

static int count_full_pages(TIFF *tif) {
    int pages = 1;
    while (TIFFReadDirectory(tif)) {
        uint32_t subfile = 0;
        TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile);
        if (!(subfile & FILETYPE_REDUCEDIMAGE)) pages++;
        if (pages > 65535) break;
    }
    return pages;
}

int seafold_tiff_read(const char *path, size_t max_samples, int header_only, seafold_decoded_image *out) {
    memset(out, 0, sizeof(*out));
    pthread_once(&silence_once, silence_global_handlers);
    struct tiff_messages msgs;
    memset(&msgs, 0, sizeof(msgs));
    TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
    if (!opts) return fail(out, SEAFOLD_DECODE_UNREADABLE, "out of memory");
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &msgs);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &msgs);
    // One allocation inside libtiff (a strip, a tile, a tag array) may not exceed 1 GiB.
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, (tmsize_t)1 << 30);
    // "rm": read only, no memory mapping (a file truncated while mapped would fault).
    TIFF *tif = TIFFOpenExt(path, "rm", opts);
    TIFFOpenOptionsFree(opts);
    if (!tif) return fail(out, SEAFOLD_DECODE_UNREADABLE, "%s", msgs.errors ? msgs.error : "cannot open the file");

    uint32_t w = 0, h = 0;
    uint16_t spp = 1, bps = 1, fmt = SAMPLEFORMAT_UINT, planar = PLANARCONFIG_CONTIG, photo = 0xffff, compression = 1;
    int status = SEAFOLD_DECODE_UNREADABLE;
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h)) {
        fail(out, status, "the first page has no image width or length");
        goto done;
    }
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo)) photo = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
    if (photo == PHOTOMETRIC_YCBCR && compression == COMPRESSION_JPEG) {
        // JPEG-in-TIFF stored as YCbCr: let libtiff's JPEG codec convert to RGB.
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        photo = PHOTOMETRIC_RGB;
    }
    int colour = photo == PHOTOMETRIC_RGB ? 3 : 1;
    int grey_ok = photo == PHOTOMETRIC_MINISBLACK || photo == PHOTOMETRIC_MINISWHITE;
    int layout_ok = (grey_ok || photo == PHOTOMETRIC_RGB) && spp >= colour && spp - colour <= 1 &&
                    planar == PLANARCONFIG_CONTIG &&
                    ((fmt == SAMPLEFORMAT_UINT && (bps == 8 || bps == 16)) || (fmt == SAMPLEFORMAT_IEEEFP && bps == 32)) &&
                    !(photo == PHOTOMETRIC_MINISWHITE && fmt == SAMPLEFORMAT_IEEEFP);
    out->width = (int)w;
    out->height = (int)h;
    out->channels = colour;
    out->bits_per_sample = bps;
    out->had_alpha = spp > colour;
    if (!layout_ok) {
        status = SEAFOLD_DECODE_UNSUPPORTED;
        fail(out, status,
             "layout not supported: %u-bit %s samples, %u per pixel, %s%s; seafold reads 8/16-bit unsigned or "
             "32-bit float grey or RGB (one optional alpha), interleaved (chunky)",
             bps, format_name(fmt), spp, photometric_name(photo),
             planar == PLANARCONFIG_CONTIG ? "" : ", planar (separate) layout");
        goto done;
    }
    if (w == 0 || h == 0 || w > 0x7fffffffu || h > 0x7fffffffu ||
        (size_t)w * (size_t)h > max_samples / (size_t)spp) {
        status = SEAFOLD_DECODE_TOO_LARGE;
        fail(out, status, "header claims %u×%u×%u samples; too large to load", w, h, spp);
        goto done;
    }
    int bytes = bps / 8;
    out->sample_type = fmt == SAMPLEFORMAT_IEEEFP ? SEAFOLD_SAMPLE_F32 : (bps == 16 ? SEAFOLD_SAMPLE_U16 : SEAFOLD_SAMPLE_U8);
    if (header_only) {
        out->pages = count_full_pages(tif);
        status = SEAFOLD_DECODE_OK;
        goto done;
    }

    size_t pixels = (size_t)w * (size_t)h;
    out->data = malloc(pixels * (size_t)colour * (size_t)bytes);
    if (!out->data) { fail(out, status, "out of memory for %u×%u×%d samples", w, h, colour); goto done; }
    unsigned char *dst = out->data;
    size_t row_out = (size_t)w * (size_t)colour * (size_t)bytes;
    if (TIFFIsTiled(tif)) {
        uint32_t tw = 0, th = 0;
        TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
        TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
        tmsize_t tile_bytes = TIFFTileSize(tif);
        if (tw == 0 || th == 0 || tile_bytes <= 0 || (size_t)tw * th * spp * bytes > (size_t)tile_bytes) {
            fail(out, status, "bad tile size %u×%u", tw, th);
            goto done;
        }
        // The tile size comes from the file: a tiny image may not claim gigabyte tiles. A tile
        // never needs more than the whole image's bytes, or 16 MiB for images smaller than a tile.
        size_t image_bytes = pixels * (size_t)spp * (size_t)bytes;
        if ((size_t)tile_bytes > (image_bytes > ((size_t)16 << 20) ? image_bytes : ((size_t)16 << 20))) {
            fail(out, SEAFOLD_DECODE_TOO_LARGE, "tile size %u×%u is out of proportion to the %u×%u image", tw, th, w, h);
            status = SEAFOLD_DECODE_TOO_LARGE;
            goto done;
        }
        unsigned char *buf = malloc((size_t)tile_bytes);
        if (!buf) { fail(out, status, "out of memory for a %u×%u tile", tw, th); goto done; }
        for (uint32_t y = 0; y < h; y += th) {
            for (uint32_t x = 0; x < w; x += tw) {
                if (TIFFReadTile(tif, buf, x, y, 0, 0) < 0) {
                    free(buf);
                    fail(out, status, "cannot decode the tile at (%u, %u): %s", x, y, msgs.errors ? msgs.error : "read error");
                    goto done;
                }
                uint32_t rows = h - y < th ? h - y : th, cols = w - x < tw ? w - x : tw;
                for (uint32_t r = 0; r < rows; r++) {
                    copy_pixels(dst + (size_t)(y + r) * row_out + (size_t)x * colour * bytes,
                                buf + (size_t)r * tw * spp * bytes, cols, spp, colour, bytes);
                }
            }
        }
        free(buf);
    } else {
        uint32_t rows_per_strip = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
        if (rows_per_strip == 0 || rows_per_strip > h) rows_per_strip = h;
        size_t row_in = (size_t)w * spp * bytes;
        unsigned char *buf = malloc(row_in * rows_per_strip);
        if (!buf) { fail(out, status, "out of memory for a strip of %u rows", rows_per_strip); goto done; }
        for (uint32_t y = 0; y < h; y += rows_per_strip) {
            uint32_t rows = h - y < rows_per_strip ? h - y : rows_per_strip;
            tmsize_t want = (tmsize_t)(row_in * rows);
            tmsize_t got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, y, 0), buf, want);
            if (got != want || msgs.errors) {
                free(buf);
                fail(out, status, "cannot decode the strip at row %u (truncated or corrupt?): %s", y,
                     msgs.errors ? msgs.error : "short read");
                goto done;
            }
            for (uint32_t r = 0; r < rows; r++)
                copy_pixels(dst + (size_t)(y + r) * row_out, buf + (size_t)r * row_in, w, spp, colour, bytes);
        }
        free(buf);
    }
    if (msgs.errors) { fail(out, status, "%s", msgs.error); goto done; }
    if (photo == PHOTOMETRIC_MINISWHITE) {
        // 0 is white: flip so that larger values are brighter, as for min-is-black.
        if (bytes == 1) { for (size_t i = 0; i < pixels; i++) dst[i] = (unsigned char)(255 - dst[i]); }
        else { uint16_t *s = out->data; for (size_t i = 0; i < pixels; i++) s[i] = (uint16_t)(65535 - s[i]); }
    }
    out->pages = count_full_pages(tif);
    status = SEAFOLD_DECODE_OK;

done:
    TIFFClose(tif);
    return status;
}
