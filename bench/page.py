"""The officer's page in Chromium: fire alarm → first picture drawn.

The page is open on a standing link before anything is shared, as an officer
would have it; the bench trips the alarm (the blueprint's automation starts
sharing) and times, on the page itself, until it turns active and until a
tile has drawn its first picture. Both clocks are this machine's wall clock:
the bench notes the alarm with `time.time()`, the page its moments with
`Date.now()`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
import time
from typing import Final

from playwright.async_api import Page, ViewportSize, async_playwright

CHROMIUM: Final = "/usr/bin/chromium"
CHROMIUM_ARGS: Final = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
)
PHONE: Final = ViewportSize(width=390, height=844)
WAIT_MS: Final = 20_000

# Notes, on the page's clock, when it turns active and when a tile first draws.
MARKS: Final = """
(() => {
  window.__marks = { active: null, frame: null, camera: null, player: null };
  const look = () => {
    const marks = window.__marks;
    if (marks.active === null && document.body?.dataset.state === "active") {
      marks.active = Date.now();
    }
    if (marks.frame === null) {
      const tile = document.querySelector('.tile[data-frames]:not([data-frames="0"])');
      if (tile) {
        marks.frame = Date.now();
        marks.camera = tile.dataset.camera;
        marks.player = tile.dataset.player || null;
      }
    }
  };
  new MutationObserver(look).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ["data-state", "data-frames"],
  });
})();
"""


@dataclass(frozen=True, slots=True)
class AlarmTrial:
    """One trip of the alarm, seen on the page."""

    active_s: float
    """Alarm → the page says sharing is active."""
    frame_s: float
    """Alarm → a tile has drawn its first picture."""
    camera: str
    player: str
    """`mjpeg` or `mp4`: how that tile played."""
    requests: int
    """Requests the page made between the alarm and that picture."""


async def fire_alarm_on_page(
    page_url: str,
    trials: int,
    *,
    trip: Callable[[], Awaitable[None]],
    reset: Callable[[], Awaitable[None]],
) -> list[AlarmTrial]:
    """Open the page idle, `trip` the alarm, time the first picture; `reset`.

    Each trial loads the page afresh and waits until it is idle (a standing
    link with nothing shared) before the alarm.
    """
    found: list[AlarmTrial] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
        )
        try:
            context = await browser.new_context(
                viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True
            )
            await context.add_init_script(MARKS)
            page = await context.new_page()
            requests: list[float] = []
            page.on("request", lambda _request: requests.append(time.time()))
            for _ in range(trials):
                await reset()
                await page.goto(page_url)
                await page.wait_for_selector('body[data-state="idle"]', timeout=WAIT_MS)
                # The page holds its events stream before the alarm.
                await page.wait_for_timeout(300)
                alarm = time.time()
                await trip()
                # Polled from here (the page's CSP forbids Playwright's
                # in-page predicate); the page noted the moment itself.
                async with asyncio.timeout(WAIT_MS / 1000):
                    while await page.evaluate("window.__marks.frame") is None:
                        await asyncio.sleep(0.1)
                found.append(await _trial(page, alarm, requests))
        finally:
            await browser.close()
    return found


async def _trial(page: Page, alarm: float, requests: list[float]) -> AlarmTrial:
    marks = await page.evaluate("window.__marks")
    frame_at = marks["frame"] / 1000
    return AlarmTrial(
        active_s=marks["active"] / 1000 - alarm,
        frame_s=frame_at - alarm,
        camera=str(marks["camera"]),
        player=str(marks["player"] or "mjpeg"),
        requests=sum(1 for at in requests if alarm <= at <= frame_at),
    )
