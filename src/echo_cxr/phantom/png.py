"""A small, fast grayscale PNG encoder (8 or 16 bits): numpy "Up" filter + zlib.

Pillow's encoder tries five filters on every row, which costs more than drawing a phantom.
Noisy radiographs gain little from that search: one vectorised "Up" filter (each byte minus the
byte above, PNG filter type 2) with Huffman-only deflate is ~3x faster and about as small.
The output is a standard PNG that PIL, browsers and DICOM converters read.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"
COLOR_GRAY = 0
FILTER_UP = 2
FAST_LEVEL = 1  # compress level that selects Huffman-only deflate


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _filtered_rows(values: np.ndarray) -> bytes:
    """Rows as bytes, each prefixed by filter type 2 (Up) and holding byte - byte above."""
    raw = values.astype(">u2").view(np.uint8) if values.dtype == np.uint16 else values
    raw = np.ascontiguousarray(raw).reshape(values.shape[0], -1)
    out = np.empty((raw.shape[0], raw.shape[1] + 1), dtype=np.uint8)
    out[:, 0] = FILTER_UP
    out[0, 1:] = raw[0]
    np.subtract(raw[1:], raw[:-1], out=out[1:, 1:])  # uint8 arithmetic wraps mod 256
    return out.tobytes()


def encode_png(values: np.ndarray, compress_level: int = FAST_LEVEL) -> bytes:
    """PNG bytes of a 2-D uint8 or uint16 array.

    compress_level: 0 = stored, 1 = Huffman-only (fast default), 2-9 = zlib level.
    """
    if values.ndim != 2 or values.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"expected a 2-D uint8/uint16 array, got {values.dtype} {values.shape}")
    height, width = values.shape
    bits = 8 if values.dtype == np.uint8 else 16
    header = struct.pack(">IIBBBBB", width, height, bits, COLOR_GRAY, 0, 0, 0)
    strategy = zlib.Z_HUFFMAN_ONLY if compress_level == FAST_LEVEL else zlib.Z_DEFAULT_STRATEGY
    packer = zlib.compressobj(compress_level, zlib.DEFLATED, zlib.MAX_WBITS, 9, strategy)
    data = packer.compress(_filtered_rows(values)) + packer.flush()
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", data) + _chunk(b"IEND", b"")
