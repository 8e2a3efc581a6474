"""A frame's send time, written into its pixels and read back.

Part headers and JPEG comments do not survive the integration's proxy (ffmpeg
decodes, scales to at most 960 px wide and re-encodes), so the camera paints
the time into the picture: a band across the top of 32 black or white blocks,
one per bit of the send time in milliseconds (modulo 2**32), and below it the
same blocks inverted. Reading compares each block with its inverse, so a
frame that lost the band (or a damaged one) reads as None rather than as a
wrong time. Everything is relative to the picture's size, so any scale that
keeps the aspect ratio reads back, and the blocks, far larger than a
macroblock, survive H.264 too (`tests/testbed`): an RTSP camera can carry it.

Reading is cheap on purpose: turbojpeg decodes the luminance only, at a quarter
of the size, and only the block centres are looked at.
"""

from __future__ import annotations

import functools
import time
from typing import Final

import numpy as np
import numpy.typing as npt
from turbojpeg import TJPF_GRAY, TurboJPEG  # type: ignore[import-untyped]

BITS: Final = 32
MODULUS: Final = 1 << BITS
BAND: Final = 1 / 18
"""Height of one row of blocks, as a fraction of the picture's height."""
MIN_CONTRAST: Final = 64
"""A block and its inverse must differ by at least this much (0-255)."""

_WEIGHTS: Final = 1 << np.arange(BITS - 1, -1, -1, dtype=np.uint64)


@functools.cache
def _turbojpeg() -> TurboJPEG:
    """libturbojpeg, loaded on first use (importing this module needs no codec)."""
    return TurboJPEG()


def now_ms() -> int:
    """The wall clock in milliseconds, as stamped."""
    return int(time.time() * 1000) % MODULUS


def paint(frame: npt.NDArray[np.uint8], ms: int) -> None:
    """Write `ms` (modulo 2**32) into the top of an RGB frame, in place."""
    height, width = frame.shape[:2]
    band = round(height * BAND)
    bits = (ms % MODULUS >> np.arange(BITS - 1, -1, -1)) & 1
    # Each bit spans an equal share of the width (the last block takes the rest).
    columns = np.minimum(np.arange(width) * BITS // width, BITS - 1)
    row = (bits[columns] * 255).astype(np.uint8)
    frame[:band] = row[np.newaxis, :, np.newaxis]
    frame[band : 2 * band] = (255 - row)[np.newaxis, :, np.newaxis]


def read(jpeg: bytes) -> int | None:
    """The stamp in a JPEG, or None if it cannot be read with confidence."""
    try:
        gray = _turbojpeg().decode(jpeg, pixel_format=TJPF_GRAY, scaling_factor=(1, 4))
    except (OSError, ValueError):
        return None
    return read_gray(gray[:, :, 0])


def read_gray(gray: npt.NDArray[np.uint8]) -> int | None:
    """The stamp in a picture's luminance (height x width), or None.

    For pictures decoded otherwise than from JPEG (H.264, by a test client).
    """
    height, width = gray.shape[:2]
    xs = ((np.arange(BITS) + 0.5) * width / BITS).astype(int)
    top = gray[int(height * BAND * 0.5), xs].astype(int)
    bottom = gray[int(height * BAND * 1.5), xs].astype(int)
    if np.any(np.abs(top - bottom) < MIN_CONTRAST):
        return None
    return int(np.sum((top > bottom).astype(np.uint64) * _WEIGHTS))


def age_ms(stamp: int, at_ms: int | None = None) -> int:
    """Milliseconds from `stamp` to `at_ms` (default now), modulo 2**32."""
    age = ((now_ms() if at_ms is None else at_ms) - stamp) % MODULUS
    return age if age < MODULUS // 2 else age - MODULUS
