// libFuzzer harness for the C shim alone (CImageCodecs: tiff.c, jpeg.c), built with clang
// directly so that the shim itself is coverage-instrumented (the Swift targets fuzz-tiff and
// fuzz-jpeg instrument only Swift). Checks: a decode either fails with a message and no
// pixels, or succeeds with a consistent shape that a header-only read agrees with; ASan and
// LeakSanitizer watch every path. From the repository root:
//
//   I=Sources/CImageCodecs; for k in tiff jpeg; do
//     clang -g -O1 -fsanitize=fuzzer,address -DIS_JPEG=$([ $k = jpeg ] && echo 1 || echo 0) \
//       -DFMT="\"$([ $k = jpeg ] && echo jpg || echo tif)\"" -I$I/include Fuzz/codecs/fuzz_codecs.c $I/*.c \
//       -ltiff -ljpeg -o .build-fuzz/codecs-$k; done
//   .build-fuzz/codecs-tiff -max_total_time=60 -rss_limit_mb=2048 -max_len=8192 Fuzz/corpus/tiff
//
// The sample limit is 2^24 here (2^28 in seafold) to keep each execution fast.
#include "seafold_image_codecs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static char path[256];
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!path[0]) snprintf(path, sizeof path, "/dev/shm/datain-fuzz-%d.%s", getpid(), FMT);
  FILE *f = fopen(path, "wb"); fwrite(data, 1, size, f); fclose(f);
  seafold_decoded_image d, h;
  int rc = IS_JPEG ? seafold_jpeg_read(path, 1u << 24, 0, &d) : seafold_tiff_read(path, 1u << 24, 0, &d);
  int rh = IS_JPEG ? seafold_jpeg_read(path, 1u << 24, 1, &h) : seafold_tiff_read(path, 1u << 24, 1, &h);
  if (rc == 0) {
    if (!d.data || d.width <= 0 || d.height <= 0 || (d.channels != 1 && d.channels != 3)) abort();
    if (rh != 0 || h.width != d.width || h.height != d.height || h.channels != d.channels || h.pages != d.pages) abort();
    size_t n = (size_t)d.width * d.height * d.channels * (d.sample_type == 1 ? 1 : d.sample_type == 2 ? 2 : 4);
    volatile unsigned s = 0; for (size_t i = 0; i < n; i++) s += ((unsigned char *)d.data)[i];
  } else if (d.data || !d.message[0]) abort();
  seafold_decoded_image_free(&d); seafold_decoded_image_free(&h);
  return 0;
}
