// JPEG decoding through libjpeg(-turbo) with an error manager that longjmps back here instead
// of calling exit(), and that keeps warnings (corrupt or truncated data) as errors.
#include "seafold_image_codecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

struct seafold_jpeg_error {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char first_warning[JMSG_LENGTH_MAX];
};

static void on_error_exit(j_common_ptr cinfo) {
    struct seafold_jpeg_error *err = (struct seafold_jpeg_error *)cinfo->err;
    longjmp(err->jump, 1);
}

// libjpeg calls this for warnings (level -1) and trace messages (level >= 0); the default
// prints to stderr. Keep the first warning: libjpeg reports corrupt or truncated data as a
// warning and fills the missing part with grey, which must not pass for a good image.
static void on_emit_message(j_common_ptr cinfo, int level) {
    struct seafold_jpeg_error *err = (struct seafold_jpeg_error *)cinfo->err;
    if (level >= 0) return;
    if (err->pub.num_warnings == 0) (*err->pub.format_message)(cinfo, err->first_warning);
    err->pub.num_warnings++;
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

int seafold_jpeg_read(const char *path, size_t max_samples, int header_only, seafold_decoded_image *out) {
    memset(out, 0, sizeof(*out));
    FILE *file = fopen(path, "rb");
    if (!file) {
        snprintf(out->message, sizeof(out->message), "cannot open the file");
        return SEAFOLD_DECODE_UNREADABLE;
    }
    struct jpeg_decompress_struct cinfo;
    struct seafold_jpeg_error err;
    memset(&cinfo, 0, sizeof(cinfo));  // so jpeg_destroy_decompress is safe at any point
    memset(&err, 0, sizeof(err));
    // Volatile: read after a longjmp.
    unsigned char *volatile pixels = NULL;
    volatile int status = SEAFOLD_DECODE_UNREADABLE;
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error_exit;
    err.pub.emit_message = on_emit_message;
    err.pub.output_message = on_output_message;
    if (setjmp(err.jump)) {
        char text[JMSG_LENGTH_MAX];
        (*cinfo.err->format_message)((j_common_ptr)&cinfo, text);
        snprintf(out->message, sizeof(out->message), "%s", text);
        goto fail;
    }
    jpeg_create_decompress(&cinfo);
    // Refuse to realise whole-image buffers beyond 1 GiB (progressive files claiming huge
    // sizes); libjpeg then fails with "backing store not supported" instead of exhausting memory.
    cinfo.mem->max_memory_to_use = 1L << 30;
    jpeg_stdio_src(&cinfo, file);
    jpeg_read_header(&cinfo, TRUE);
    out->width = (int)cinfo.image_width;
    out->height = (int)cinfo.image_height;
    out->bits_per_sample = cinfo.data_precision;
    out->pages = 1;
    switch (cinfo.jpeg_color_space) {
    case JCS_GRAYSCALE: out->channels = 1; cinfo.out_color_space = JCS_GRAYSCALE; break;
    case JCS_YCbCr: case JCS_RGB: out->channels = 3; cinfo.out_color_space = JCS_RGB; break;
    default:
        snprintf(out->message, sizeof(out->message),
                 "colour space %d with %d components (CMYK/YCCK?) is not supported; save the image as grey or RGB",
                 (int)cinfo.jpeg_color_space, cinfo.num_components);
        status = SEAFOLD_DECODE_UNSUPPORTED;
        goto fail;
    }
    if (cinfo.data_precision != 8) {
        snprintf(out->message, sizeof(out->message), "%d-bit JPEG is not supported; only 8-bit", cinfo.data_precision);
        status = SEAFOLD_DECODE_UNSUPPORTED;
        goto fail;
    }
    size_t samples = (size_t)out->width * (size_t)out->height * (size_t)out->channels;
    if (out->width <= 0 || out->height <= 0 || samples > max_samples) {
        snprintf(out->message, sizeof(out->message), "header claims %d×%d×%d samples; too large to load",
                 out->width, out->height, out->channels);
        status = SEAFOLD_DECODE_TOO_LARGE;
        goto fail;
    }
    out->sample_type = SEAFOLD_SAMPLE_U8;
    if (header_only) {
        jpeg_destroy_decompress(&cinfo);
        fclose(file);
        return SEAFOLD_DECODE_OK;
    }
    pixels = malloc(samples);
    if (!pixels) {
        snprintf(out->message, sizeof(out->message), "out of memory for %zu samples", samples);
        goto fail;
    }
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_width != out->width || (int)cinfo.output_height != out->height ||
        cinfo.output_components != out->channels) {
        snprintf(out->message, sizeof(out->message), "decoder output %u×%u×%d differs from the header",
                 cinfo.output_width, cinfo.output_height, cinfo.output_components);
        goto fail;
    }
    size_t stride = (size_t)out->width * (size_t)out->channels;
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = pixels + (size_t)cinfo.output_scanline * stride;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) {
            snprintf(out->message, sizeof(out->message), "decoder stopped at row %u of %u",
                     cinfo.output_scanline, cinfo.output_height);
            goto fail;
        }
    }
    jpeg_finish_decompress(&cinfo);
    if (err.pub.num_warnings > 0) {
        snprintf(out->message, sizeof(out->message), "corrupt or truncated data: %s", err.first_warning);
        goto fail;
    }
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    out->data = pixels;
    return SEAFOLD_DECODE_OK;

fail:
    jpeg_destroy_decompress(&cinfo);
    fclose(file);
    free(pixels);
    out->data = NULL;
    return status;
}

void seafold_decoded_image_free(seafold_decoded_image *img) {
    if (!img) return;
    free(img->data);
    img->data = NULL;
}
