"""Take the README's screenshots from a running demo (`scripts/develop`).

    $(env_dir current)/bin/python scripts/screenshots.py

Reads the demo's state in config/.ses-demo.json, trips the fire alarm, and
photographs the viewer page (phone) and the administrators' dashboard.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import aiohttp
from playwright.async_api import async_playwright

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "images"
BASE = os.environ.get("SES_DEMO_URL", "http://localhost:8123")
USER = os.environ.get("SES_DEMO_USER", "admin")
PASSWORD = os.environ.get("SES_DEMO_PASSWORD", "school-demo")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


async def main() -> None:
    """Trip the alarm, then photograph the viewer and the dashboard."""
    state = json.loads((REPO / "config" / ".ses-demo.json").read_text())
    headers = {"Authorization": f"Bearer {state['token']}"}
    async with (
        aiohttp.ClientSession(headers=headers) as session,
        session.post(
            f"{BASE}/api/services/input_boolean/turn_on",
            json={"entity_id": "input_boolean.fire_alarm"},
        ) as response,
    ):
        response.raise_for_status()
    await asyncio.sleep(3)
    OUT.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        phone = await browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = await phone.new_page()
        await page.goto(BASE + state["link_path"])
        await page.wait_for_timeout(4000)
        await page.screenshot(path=str(OUT / "viewer-phone.png"))
        desk = await browser.new_context(viewport={"width": 1280, "height": 1000})
        page = await desk.new_page()
        await page.goto(BASE + "/emergency-sharing/emergency")
        await page.locator("input[name=username]").fill(USER)
        await page.locator("input[name=password]").fill(PASSWORD)
        await page.keyboard.press("Enter")
        await page.wait_for_load_state("networkidle")
        await page.goto(BASE + "/emergency-sharing/emergency")
        await page.wait_for_timeout(6000)
        await page.screenshot(path=str(OUT / "dashboard.png"))
        await browser.close()


if __name__ == "__main__":
    asyncio.run(main())
