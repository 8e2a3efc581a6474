"""Known pictures and cameras for the media tests: what a mask must hide.

`scene()` is a JPEG whose left half is a fine black-and-white checkerboard
(all detail: a blur flattens it, black hides it) and whose right half is flat
grey (what a mask must leave alone). `UrlCamera` is a camera reached by URL,
as `media.camera.CameraFeeds` reaches a Home Assistant camera entity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
import functools
import io

import numpy as np
import numpy.typing as npt
from PIL import Image

from custom_components.school_emergency_share.core.masks import Mask, MaskStyle

WIDTH, HEIGHT = 640, 360
SQUARE = 8
GREY = 128
LEFT_HALF_BLACK = (Mask(0.0, 0.0, 0.5, 1.0, MaskStyle.BLACK),)
LEFT_HALF_BLURRED = (Mask(0.0, 0.0, 0.5, 1.0, MaskStyle.BLUR),)


@functools.cache
def scene(width: int = WIDTH, height: int = HEIGHT) -> bytes:
    """The checkerboard-and-grey picture as a JPEG."""
    ys, xs = np.mgrid[0:height, 0:width]
    board = ((xs // SQUARE + ys // SQUARE) % 2 * 255).astype(np.uint8)
    board[:, width // 2 :] = GREY
    out = io.BytesIO()
    Image.fromarray(np.dstack([board] * 3)).save(out, format="JPEG", quality=95)
    return out.getvalue()


def luma(jpeg: bytes) -> npt.NDArray[np.float64]:
    """The picture's luminance, 0-255."""
    with Image.open(io.BytesIO(jpeg)) as image:
        return np.asarray(image.convert("L"), dtype=np.float64)


def masked_half(jpeg: bytes) -> npt.NDArray[np.float64]:
    """The inside of the left half (away from the mask's edge)."""
    pixels = luma(jpeg)
    height, width = pixels.shape
    return pixels[height // 8 : -height // 8, width // 16 : width // 2 - width // 16]


def open_half(jpeg: bytes) -> npt.NDArray[np.float64]:
    """The inside of the right half."""
    pixels = luma(jpeg)
    height, width = pixels.shape
    return pixels[height // 8 : -height // 8, width // 2 + width // 16 : -width // 16]


def is_black(jpeg: bytes) -> bool:
    """The left half is black (JPEG noise aside)."""
    return float(masked_half(jpeg).max()) < 24


def is_blurred(jpeg: bytes) -> bool:
    """The left half's checkerboard is flattened: its variance fell 20-fold."""
    original = float(masked_half(scene()).var())
    return float(masked_half(jpeg).var()) < original / 20


def is_open_grey(jpeg: bytes) -> bool:
    """The right half is the grey it was."""
    return abs(float(open_half(jpeg).mean()) - GREY) < 6


@dataclass(slots=True)
class UrlCamera:
    """A camera reached by its stream URL (and a still, if given)."""

    url: str | None
    stills: list[bytes] = field(default_factory=list)
    streams_video: bool = False
    input_args: Mapping[str, str] = field(default_factory=dict)

    async def stream_source(self) -> str | None:
        """The stream URL."""
        return self.url

    async def still(self) -> bytes | None:
        """The next still, round and round (None without any)."""
        if not self.stills:
            return None
        self.stills.append(self.stills.pop(0))
        return self.stills[-1]
