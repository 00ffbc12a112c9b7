#ifndef SEAFOLD_IMAGE_CODECS_H
#define SEAFOLD_IMAGE_CODECS_H
// TIFF and JPEG decoding for seafold, in C because libjpeg reports fatal errors by calling
// error_exit (exit() by default), which only C can turn into a setjmp/longjmp return; libtiff
// errors and warnings are captured per handle instead of printed to stderr.
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    SEAFOLD_SAMPLE_U8 = 1,
    SEAFOLD_SAMPLE_U16 = 2,
    SEAFOLD_SAMPLE_F32 = 3,
};

enum {
    SEAFOLD_DECODE_OK = 0,
    SEAFOLD_DECODE_UNREADABLE = 1,   // not a file of this format, truncated or corrupt
    SEAFOLD_DECODE_UNSUPPORTED = 2,  // a valid file whose layout seafold does not read
    SEAFOLD_DECODE_TOO_LARGE = 3,    // more samples than the caller's limit
};

/// A decoded image: `width * height * channels` samples (channels 1 or 3, alpha and other
/// extra samples dropped) of `sample_type`, row-major, channels last, in `data` (malloc'd).
typedef struct {
    int width;
    int height;
    int channels;
    int sample_type;
    int bits_per_sample;  // as stored in the file (8, 16 or 32)
    int had_alpha;
    int pages;            // TIFF: full-resolution pages in the file; JPEG: 1
    void *data;           // NULL after a header-only read or an error
    char message[320];    // why it failed (empty on success)
} seafold_decoded_image;

/// Reads a JPEG (grey or YCbCr/RGB, baseline or progressive). `header_only` skips the pixels.
int seafold_jpeg_read(const char *path, size_t max_samples, int header_only, seafold_decoded_image *out);

/// Reads the first page of a TIFF (8/16-bit unsigned or 32-bit float, grey or RGB, strips or
/// tiles, chunky layout, any compression libtiff decodes).
int seafold_tiff_read(const char *path, size_t max_samples, int header_only, seafold_decoded_image *out);

void seafold_decoded_image_free(seafold_decoded_image *img);

#ifdef __cplusplus
}
#endif
#endif
