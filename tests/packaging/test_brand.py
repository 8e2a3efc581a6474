"""The integration's own brand images are what Home Assistant 2026.3+ serves.

Home Assistant 2026.3 and later serve a custom integration's icon and logo from
its `brand/` folder (core's `brands` integration, set up by default:
`homeassistant/components/brands/__init__.py`, `BrandsIntegrationView` at
`/api/brands/integration/{domain}/{image}`). The loader sees the folder as
`Integration.has_branding` (a top-level `brand` entry; no manifest key). Only the
names in `brands/const.py` `ALLOWED_IMAGES` are served, all as `image/png`, and
a missing one falls back along `IMAGE_FALLBACKS` (a logo to the icon, `@2x` to
the plain one, dark to light). Core does not check sizes; the sizes are
home-assistant/brands' rules, which the frontend's layout assumes.
Older Home Assistant versions ignore the folder and show a placeholder.
"""

from __future__ import annotations

from http import HTTPStatus
from pathlib import Path
from typing import Final

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from PIL import Image
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from tests.support.in_hass import (  # noqa: F401 - fixtures
    auto_enable_custom_integrations,
)

DOMAIN: Final = "school_emergency_share"
BRAND: Final = (
    Path(__file__).resolve().parents[2] / "custom_components" / DOMAIN / "brand"
)
# homeassistant/components/brands/const.py ALLOWED_IMAGES in 2026.10.4.
SERVED_NAMES: Final = frozenset(
    {
        "icon.png",
        "icon@2x.png",
        "dark_icon.png",
        "dark_icon@2x.png",
        "logo.png",
        "logo@2x.png",
        "dark_logo.png",
        "dark_logo@2x.png",
    }
)
# home-assistant/brands: icons square, 256 px (512 px at @2x); logos with their
# shortest side 128-256 px (256-512 px at @2x). Both trimmed, transparent.
ICON_SIDE: Final = {"": 256, "@2x": 512}
LOGO_SHORT_SIDE: Final = {"": (128, 256), "@2x": (256, 512)}


def _images() -> list[Path]:
    return sorted(BRAND.iterdir())


def test_the_brand_folder_holds_only_images_home_assistant_serves() -> None:
    """Any other name would never be served: a typo is a missing icon."""
    names = {path.name for path in _images()}
    assert {"icon.png", "icon@2x.png"} <= names
    assert names <= SERVED_NAMES


def test_the_served_names_are_this_home_assistants() -> None:
    """The list above is the installed Home Assistant's, where it has one."""
    const = pytest.importorskip(
        "homeassistant.components.brands.const",
        reason="Home Assistant before 2026.3 does not serve brand/ images",
    )
    assert set(const.ALLOWED_IMAGES) == SERVED_NAMES


@pytest.mark.parametrize("path", _images(), ids=lambda path: path.name)
def test_each_brand_image_has_the_size_home_assistant_brands_asks_for(
    path: Path,
) -> None:
    """PNG (served as image/png whatever it is), transparent, trimmed, sized."""
    stem = path.name.removesuffix(".png").removeprefix("dark_")
    kind, _, scale = stem.partition("@")
    scale = f"@{scale}" if scale else ""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.mode == "RGBA"
        alpha = image.getchannel("A")
        assert alpha.getpixel((0, 0)) == 0  # transparent background
        box = alpha.getbbox()
        assert box is not None
        width, height = image.size
        if kind == "icon":
            assert image.size == (ICON_SIDE[scale],) * 2
            # Trimmed: the shield touches the top and bottom edges.
            assert (box[1], box[3]) == (0, height)
        else:
            low, high = LOGO_SHORT_SIDE[scale]
            assert low <= min(width, height) <= high
            # Trimmed on every side.
            assert box == (0, 0, width, height)


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("icon.png", "icon.png"),
        ("icon@2x.png", "icon@2x.png"),
        ("logo.png", "icon.png"),  # no logo: the icon stands in
        ("dark_icon.png", "icon.png"),
    ],
)
async def test_home_assistant_serves_our_own_brand_images(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    requested: str,
    served: str,
) -> None:
    """What the integrations page fetches, answered from brand/, not the CDN."""
    pytest.importorskip(
        "homeassistant.components.brands",
        reason="Home Assistant before 2026.3 does not serve brand/ images",
    )
    assert await async_setup_component(hass, "brands", {})
    client = await hass_client()
    response = await client.get(f"/api/brands/integration/{DOMAIN}/{requested}")
    assert response.status == HTTPStatus.OK
    assert response.content_type == "image/png"
    assert await response.read() == (BRAND / served).read_bytes()
