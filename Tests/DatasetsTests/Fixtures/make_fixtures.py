#!/usr/bin/env python3
"""Writes the TIFF/JPEG fixtures of TIFFJPEGTests (run from anywhere; rewrites this folder).

    pip install numpy pillow tifffile && python3 Tests/DatasetsTests/Fixtures/make_fixtures.py

Lossless files hold the arrays of pattern8/pattern16/pattern_float below, which the Swift test
recomputes and compares exactly. For each JPEG, Pillow's decode (libjpeg-turbo) is stored
beside it as NAME.pillow.npy (uint8, [H, W] or [H, W, 3]).
"""
import os

import numpy as np
import tifffile
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def pattern8(h, w, c):
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((x * 37 + y * 101 + ch * 53 + 7) % 256).astype(np.uint8)


def pattern16(h, w, c):
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((x * 7919 + y * 104729 + ch * 15485863 + 12345) % 65536).astype(np.uint16)


def pattern_float(h, w):
    y, x = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    return (x * 0.37 - y * 1.13 + 0.5).astype(np.float32)


def tif(name, data, **kw):
    tifffile.imwrite(os.path.join(HERE, name), data, **kw)


def main():
    h, w = 7, 13
    tif("grey8.tif", pattern8(h, w, 1)[:, :, 0], photometric="minisblack", rowsperstrip=3)
    tif("grey16_deflate.tif", pattern16(h, w, 1)[:, :, 0], photometric="minisblack", compression="zlib", predictor=True)
    Image.fromarray(pattern8(h, w, 1)[:, :, 0], "L").save(os.path.join(HERE, "grey8_lzw.tif"), compression="tiff_lzw")
    tif("rgb8_deflate.tif", pattern8(h, w, 3), photometric="rgb", compression="zlib")
    tif("rgb16_bigendian.tif", pattern16(h, w, 3), photometric="rgb", byteorder=">")
    tif("rgba8.tif", pattern8(h, w, 4), photometric="rgb", extrasamples=["unassalpha"])
    tif("float32.tif", pattern_float(h, w), photometric="minisblack")
    tif("float32_tiled.tif", pattern_float(21, 37), photometric="minisblack", tile=(16, 16), compression="zlib")
    tif("rgb8_tiled.tif", pattern8(21, 37, 3), photometric="rgb", tile=(16, 16))
    tif("miniswhite8.tif", pattern8(h, w, 1)[:, :, 0], photometric="miniswhite")
    # Unsupported layouts and multi-page files: clear errors.
    tif("int16.tif", pattern16(h, w, 1)[:, :, 0].astype(np.int16), photometric="minisblack")
    tif("planar_rgb8.tif", np.moveaxis(pattern8(h, w, 3), 2, 0), photometric="rgb", planarconfig="separate")
    tif("float64.tif", pattern_float(h, w).astype(np.float64), photometric="minisblack")
    with tifffile.TiffWriter(os.path.join(HERE, "two_pages.tif")) as t:
        t.write(pattern8(h, w, 1)[:, :, 0], photometric="minisblack")
        t.write(pattern8(h, w, 1)[:, :, 0], photometric="minisblack")

    for name, img, kw in [
        ("grey.jpg", Image.fromarray(pattern8(16, 24, 1)[:, :, 0], "L"), dict(quality=90)),
        ("rgb420.jpg", Image.fromarray(pattern8(19, 27, 3), "RGB"), dict(quality=85, subsampling=2)),
        ("rgb444_progressive.jpg", Image.fromarray(pattern8(19, 27, 3), "RGB"), dict(quality=95, subsampling=0, progressive=True)),
        ("cmyk.jpg", Image.fromarray(pattern8(8, 8, 4), "CMYK"), dict(quality=90)),
    ]:
        path = os.path.join(HERE, name)
        img.save(path, "JPEG", **kw)
        if img.mode != "CMYK":
            np.save(os.path.join(HERE, name.replace(".jpg", ".pillow.npy")), np.asarray(Image.open(path)))


if __name__ == "__main__":
    main()
