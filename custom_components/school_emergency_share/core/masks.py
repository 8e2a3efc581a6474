"""Privacy masks: regions of a camera's picture no viewer may see.

A mask is a rectangle given as fractions of the frame (so it holds at any
resolution), blurred or blacked out on the server before any frame, snapshot
or stream reaches a viewer. A masked camera is always decoded and encoded
again: its picture can never be passed through as the camera sent it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
import math
from typing import Any, Self


class MaskStyle(StrEnum):
    """How a masked region looks."""

    BLACK = "black"
    BLUR = "blur"


@dataclass(frozen=True, slots=True)
class Mask:
    """One rectangle, as fractions of the frame's width and height (0..1)."""

    x: float
    y: float
    width: float
    height: float
    style: MaskStyle = MaskStyle.BLACK

    def __post_init__(self) -> None:
        """Refuse a rectangle that is not inside the frame or has no area."""
        values = (self.x, self.y, self.width, self.height)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError("a mask's position and size are numbers")
        if not (0 <= self.x < 1 and 0 <= self.y < 1):
            raise ValueError("a mask starts inside the frame")
        if not (0 < self.width <= 1 - self.x and 0 < self.height <= 1 - self.y):
            raise ValueError("a mask has an area and ends inside the frame")

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """The rectangle on a `width` x `height` frame: x, y, w, h (at least 1).

        Rounded outwards: a mask never shows a sliver of what it covers.
        """
        left = math.floor(self.x * width)
        top = math.floor(self.y * height)
        right = min(width, math.ceil((self.x + self.width) * width))
        bottom = min(height, math.ceil((self.y + self.height) * height))
        return left, top, max(1, right - left), max(1, bottom - top)

    def as_dict(self) -> dict[str, Any]:
        """The form options and storage hold."""
        return {
            "x": self.x,
            "y": self.y,
            "width": self.width,
            "height": self.height,
            "style": self.style.value,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read `as_dict`'s form; raises ValueError on anything else."""
        try:
            return cls(
                float(data["x"]),
                float(data["y"]),
                float(data["width"]),
                float(data["height"]),
                MaskStyle(data.get("style", MaskStyle.BLACK)),
            )
        except (KeyError, TypeError) as err:
            raise ValueError(f"not a mask: {err}") from err


type Masks = Mapping[str, tuple[Mask, ...]]


def masks_from_options(value: Any) -> dict[str, tuple[Mask, ...]]:
    """`{camera: [mask, ...]}` from options; raises ValueError or TypeError."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TypeError("masks are given per camera")
    return {
        str(camera): tuple(Mask.from_dict(item) for item in _items(regions))
        for camera, regions in value.items()
        if regions
    }


def masks_as_options(masks: Masks) -> dict[str, list[dict[str, Any]]]:
    """The options form of `masks`."""
    return {
        camera: [mask.as_dict() for mask in regions]
        for camera, regions in sorted(masks.items())
        if regions
    }


def _items(regions: Any) -> Iterable[Mapping[str, Any]]:
    if isinstance(regions, Mapping) or not isinstance(regions, Iterable):
        raise TypeError("a camera's masks are a list")
    for item in regions:
        if not isinstance(item, Mapping):
            raise TypeError("a mask is an object")
        yield item
