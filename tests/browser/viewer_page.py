"""What a test reads off the viewer page, and where its screenshots go."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.async_api import Locator, Page, Response

from tests.ha.viewing import Client

ARTIFACTS = Path(__file__).parents[2] / "artifacts" / "browser"


async def open_viewer(page: Page, client: Client, path: str) -> Response:
    """Open a viewer link the way an officer does: the whole URL in the browser."""
    response = await page.goto(str(client.make_url(path)))
    assert response is not None
    return response


def tile(page: Page, camera: str) -> Locator:
    """A camera's tile in the grid."""
    return page.locator(f'.tile[data-camera="{camera}"]')


@dataclass(frozen=True)
class Picture:
    """What one tile shows at one moment."""

    state: str
    frames: int
    age_ms: int | None
    age_text: str
    pixels: str

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Picture:
        """Build from what the page reported."""
        return cls(
            state=raw["state"],
            frames=int(raw["frames"] or 0),
            age_ms=int(raw["age"]) if raw["age"] else None,
            age_text=raw["ageText"],
            pixels=raw["pixels"],
        )


async def picture(page: Page, camera: str) -> Picture:
    """The tile's state, frame count, the age it displays and its pixels."""
    raw = await tile(page, camera).evaluate(
        """(tile) => ({
            state: tile.dataset.state,
            frames: tile.dataset.frames,
            age: tile.dataset.age,
            ageText: tile.querySelector(".age").textContent,
            pixels: tile.querySelector("canvas").toDataURL("image/jpeg", 0.5),
        })"""
    )
    return Picture.of(raw)


async def snap(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot as a test artifact: artifacts/browser/<name>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=path, full_page=full_page)
    return path
