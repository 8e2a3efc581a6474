"""Privacy masks: fractions of the frame, always covering what they name."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st
import pytest

from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.masks import (
    Mask,
    MaskStyle,
    masks_as_options,
    masks_from_options,
)

from .examples import AGREEMENT

fractions = st.floats(0, 1, allow_nan=False, exclude_max=True)


@st.composite
def masks(draw: st.DrawFn) -> Mask:
    """Any mask inside the frame."""
    x, y = draw(fractions), draw(fractions)
    width = draw(st.floats(1e-3, 1, allow_nan=False).filter(lambda w: w <= 1 - x))
    height = draw(st.floats(1e-3, 1, allow_nan=False).filter(lambda h: h <= 1 - y))
    return Mask(x, y, width, height, draw(st.sampled_from(MaskStyle)))


@given(mask=masks(), width=st.integers(16, 4096), height=st.integers(16, 2160))
def test_a_mask_covers_at_least_the_pixels_it_names(
    mask: Mask, width: int, height: int
) -> None:
    """Rounded outwards and inside the frame, at any resolution."""
    left, top, w, h = mask.pixels(width, height)

    assert left >= 0
    assert top >= 0
    assert left + w <= width
    assert top + h <= height
    assert left <= mask.x * width
    assert top <= mask.y * height
    assert left + w >= min(width, (mask.x + mask.width) * width) - 1e-6
    assert top + h >= min(height, (mask.y + mask.height) * height) - 1e-6


@given(mask=masks())
def test_masks_read_back_from_options(mask: Mask) -> None:
    """What the options flow stores is what the agreement applies."""
    options = masks_as_options({"camera.nurse_window": (mask,)})

    assert masks_from_options(options) == {"camera.nurse_window": (mask,)}


@pytest.mark.parametrize(
    "bad",
    [
        {"x": 0.5, "y": 0.5, "width": 0.6, "height": 0.1},
        {"x": -0.1, "y": 0, "width": 0.5, "height": 0.5},
        {"x": 0, "y": 0, "width": 0, "height": 0.5},
        {"x": "left", "y": 0, "width": 0.5, "height": 0.5},
        {"x": 0, "y": 0, "width": float("nan"), "height": 0.5},
        {"x": 0, "y": 0, "width": 0.5, "height": 0.5, "style": "pixelate"},
        {"y": 0, "width": 0.5, "height": 0.5},
    ],
)
def test_a_mask_outside_the_frame_or_without_area_is_refused(
    bad: dict[str, Any],
) -> None:
    """Nothing half-valid reaches the media side."""
    with pytest.raises(ValueError):
        masks_from_options({"camera.gym": [bad]})


def test_an_agreement_keeps_its_masks_by_camera() -> None:
    """Masks come with the rules; a camera without any has none."""
    options = {
        **AGREEMENT_OPTIONS,
        "masks": {"camera.hall_1": [{"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.4}]},
    }
    agreement = Agreement.from_options(options, AGREEMENT.tz)

    assert agreement.masks_of("camera.hall_1") == (Mask(0.1, 0.2, 0.3, 0.4),)
    assert agreement.masks_of("camera.hall_2") == ()
    assert agreement.as_dict()["masks"] == {
        "camera.hall_1": [
            {"x": 0.1, "y": 0.2, "width": 0.3, "height": 0.4, "style": "black"}
        ]
    }


AGREEMENT_OPTIONS: dict[str, Any] = {
    "school": "Lincoln High",
    "agency": "Metro Police",
    "valid_from": "2026-03-01",
    "valid_until": "2026-03-10",
    "cameras": ["camera.hall_1", "camera.hall_2"],
}
