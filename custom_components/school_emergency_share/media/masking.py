"""Privacy masks painted where frames are made, before anything reaches a viewer.

The agreement's masks (`core.masks.Mask`: rectangles in fractions of the
frame, black or blurred) are applied in one of two places, depending on who
makes the camera's JPEGs:

- `ffmpeg_masked`: in ffmpeg's filter graph, for every camera read through
  ffmpeg (its size is not known in advance, so the rectangles are
  expressions of the input's width and height): `drawbox` filled black, or
  the region cropped, box-blurred and laid back (`crop`, `boxblur`,
  `overlay`);
- `mask_jpeg`: with Pillow, for the JPEGs nobody decodes otherwise (polled
  stills): decode, paint, encode again.

Either way a rectangle is rounded outwards (never a sliver of what it covers
shows); ffmpeg's edges are also rounded outwards to even pixels, because
4:2:0 video is cropped and overlaid on even positions.
"""

from __future__ import annotations

from collections.abc import Sequence
import io
from typing import TYPE_CHECKING, Any, Final

from PIL import Image, ImageDraw, ImageFilter

from ..core.masks import Mask, MaskStyle

if TYPE_CHECKING:
    import ffmpeg

JPEG_QUALITY: Final = 85
BLUR_DIVISOR: Final = 4
"""A blurred region is averaged over a quarter of its smaller side: faces,
text and shapes inside become unrecognisable, its mean colour stays."""
BLUR_POWER: Final = 3
"""Times ffmpeg's box blur is applied (three box blurs: close to Gaussian)."""


def _edges(start: float, length: float, size: str) -> tuple[str, str]:
    """The expressions (for ffmpeg) of a rectangle's first pixel and extent."""
    low = f"2*floor({start!r}*{size}/2)"
    high = f"min({size},2*ceil({start + length!r}*{size}/2))"
    return low, f"{high}-{low}"


def ffmpeg_masked(video: ffmpeg.nodes.FilterableStream, masks: Sequence[Mask]) -> Any:
    """`video` with every mask painted in (returned as is without masks)."""
    for mask in masks:
        x, w = _edges(mask.x, mask.width, "iw")
        y, h = _edges(mask.y, mask.height, "ih")
        if mask.style is MaskStyle.BLACK:
            video = video.filter("drawbox", x=x, y=y, w=w, h=h, color="black", t="fill")
            continue
        split = video.split()
        base, region = split[0], split[1]
        blurred = region.filter("crop", w=w, h=h, x=x, y=y, exact=1).filter(
            "boxblur",
            luma_radius=f"min(w,h)/{BLUR_DIVISOR}",
            luma_power=BLUR_POWER,
            chroma_radius=f"min(cw,ch)/{BLUR_DIVISOR}",
            chroma_power=BLUR_POWER,
        )
        overlay_x, _ = _edges(mask.x, mask.width, "W")
        overlay_y, _ = _edges(mask.y, mask.height, "H")
        video = base.overlay(blurred, x=overlay_x, y=overlay_y)
    return video


def mask_jpeg(jpeg: bytes, masks: Sequence[Mask], quality: int = JPEG_QUALITY) -> bytes:
    """`jpeg` decoded, masked and encoded again (CPU work: run it off the loop).

    Raises:
        ValueError: not a JPEG Pillow can decode (a camera's broken frame).

    """
    try:
        with Image.open(io.BytesIO(jpeg)) as opened:
            image = opened.convert("RGB")
    except (OSError, Image.DecompressionBombError) as err:
        raise ValueError(f"not a decodable image: {err}") from err
    draw = ImageDraw.Draw(image)
    for mask in masks:
        left, top, width, height = mask.pixels(image.width, image.height)
        box = (left, top, left + width, top + height)
        if mask.style is MaskStyle.BLACK:
            draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=(0, 0, 0))
            continue
        radius = max(1, min(width, height) // BLUR_DIVISOR)
        region = image.crop(box)
        for _ in range(BLUR_POWER):
            region = region.filter(ImageFilter.BoxBlur(radius))
        image.paste(region, box)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()
