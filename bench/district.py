"""The seed district measured (`scripts/bench --district`): 400 cameras, one agreement.

A real Home Assistant with 400 camera entities (core's `mjpeg` integration,
through its config flow) in 100 areas on 4 floors, standing for a district's
schools; behind them, a few synthetic cameras, each serving every entity its
own URL (`stream_url_for`) and counting connections per entity. Measured:

- how long Home Assistant takes to add the cameras (for scale, not ours);
- the agreement's config flow and options flow with 400 cameras: each step's
  answer time through the flow API and the size of the cameras step's form;
- the agreement's set-up (a reload) with 400 cameras;
- `cameras.json` at 400 cameras: latency, body size; and the size of each
  `/events` status push, which carries the same list;
- Home Assistant's memory per idle camera (the agreement and its 400 camera
  switches, before anyone watches);
- that only watched cameras are read: viewers on three cameras, and the
  connections every entity's URL saw;
- the viewer page with 400 cameras in Chromium at a phone's size: time until
  it is active and its first tile live, how many streams it opens, its DOM
  and script heap, and what scrolling through the floors opens.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
import json
import math
import os
from pathlib import Path
import re
import statistics
import sys
import time
from typing import Any, Final

import aiohttp
from playwright.async_api import Page, ViewportSize

from testbed.cameras import Picture
from testbed.cameras.standalone import CameraProcess
from testbed.deployment import START_TIMEOUT, Deployment, scratch_hass
from testbed.errors import SetupError
from testbed.net import free_port
from testbed.viewers import Viewer

CAMERAS: Final = 400
SOURCES: Final = 4
FLOORS: Final = ("Ground floor", "First floor", "Second floor", "Outside")
AREAS: Final = 100
WATCHED: Final = 3
JSON_SAMPLES: Final = 50
PHONE: Final[ViewportSize] = {"width": 390, "height": 844}
SEARCHED: Final = "School 7 camera 13"
"""A camera the officer looks for by name."""
PAGE_WATCH: Final = 12.0
"""Seconds the page is watched after it is active."""
MIB: Final = 1024 * 1024


@dataclass(slots=True)
class DistrictResults:
    """What the district run measured."""

    started: datetime
    cameras: int = CAMERAS
    add_cameras_s: float = math.nan
    flow_steps_s: dict[str, float] = field(default_factory=dict)
    cameras_form_bytes: int = 0
    options_steps_s: dict[str, float] = field(default_factory=dict)
    reload_s: float = math.nan
    switches: int = 0
    cameras_json_ms: list[float] = field(default_factory=list)
    cameras_json_bytes: int = 0
    events_push_bytes: int = 0
    rss_before: float = math.nan
    rss_after: float = math.nan
    watched_connections: dict[str, int] = field(default_factory=dict)
    unwatched_connections: int = 0
    page: dict[str, Any] = field(default_factory=dict)
    loadavg: list[float] = field(default_factory=list)
    duration_s: float = 0.0


def say(message: str) -> None:
    """Progress on stderr."""
    print(
        f"\033[1m==>\033[0m {message}  (load {os.getloadavg()[0]:.2f})", file=sys.stderr
    )


class District:
    """Runs the district measurements."""

    def __init__(self, workdir: Path) -> None:
        """Prepare (nothing runs yet)."""
        self.workdir = workdir
        self.results = DistrictResults(datetime.now(UTC))
        picture = Picture(size="640x360", fps=5)
        self.sources = [
            CameraProcess(free_port(), picture, log=workdir / f"camera-{i}.log")
            for i in range(SOURCES)
        ]
        self.hass = scratch_hass(workdir / "config", log_level="warning")
        self.deployment: Deployment | None = None
        self.names: dict[str, str] = {}
        """Entity id → the name its camera URL counts connections under."""

    @property
    def dep(self) -> Deployment:
        """The deployment (after set-up)."""
        if self.deployment is None:
            raise SetupError("Home Assistant is not set up")
        return self.deployment

    async def run(self) -> DistrictResults:
        """Everything, in order; Home Assistant and the cameras always stopped."""
        started = time.monotonic()
        try:
            await self.setup()
            await self.agreement()
            await self.catalog()
            await self.only_watched_cameras_are_read()
            await self.viewer_page()
        finally:
            if self.deployment is not None:
                await self.deployment.close()
            await self.hass.stop()
            for source in self.sources:
                await source.stop()
            self.results.duration_s = time.monotonic() - started
        return self.results

    async def setup(self) -> None:
        """The cameras, Home Assistant, 400 entities in areas on floors."""
        say(f"starting {SOURCES} synthetic cameras and Home Assistant")
        for source in self.sources:
            await source.start()
        await self.hass.boot(START_TIMEOUT)
        self.deployment = dep = await Deployment.create(self.hass)
        client = dep.client
        say(f"adding {CAMERAS} mjpeg cameras through core's config flow")
        begun = time.monotonic()
        for index in range(CAMERAS):
            source = self.sources[index % SOURCES]
            name = f"cam{index:03d}"
            entity = await dep.add_mjpeg_camera(
                f"School {index // 40 + 1} camera {index % 40 + 1:02d}",
                source.stream_url_for(name),
                source.still_url_for(name),
            )
            self.names[entity] = name
        self.results.add_cameras_s = time.monotonic() - begun
        say("placing them in areas on floors")
        floors = [
            (await client.ws("config/floor_registry/create", name=name, level=level))[
                "floor_id"
            ]
            for level, name in enumerate(FLOORS)
        ]
        areas = [
            (
                await client.ws(
                    "config/area_registry/create",
                    name=f"School {a // 10 + 1} area {a % 10 + 1}",
                    floor_id=floors[a % len(floors)],
                )
            )["area_id"]
            for a in range(AREAS)
        ]
        # Each camera is its device's one entity, named by the device: Home
        # Assistant places such an entity through its device.
        devices = {
            item["entity_id"]: item["device_id"]
            for item in await client.ws("config/entity_registry/list")
        }
        for index, entity in enumerate(self.names):
            await client.ws(
                "config/device_registry/update",
                device_id=devices[entity],
                area_id=areas[index * AREAS // CAMERAS],
            )

    async def agreement(self) -> None:
        """The config flow, the options flow and a reload, with 400 cameras."""
        dep, client, results = self.dep, self.dep.client, self.results
        results.rss_before = float(self.hass.rss())
        say(f"the agreement's config flow with {CAMERAS} cameras")
        today = datetime.now(UTC).date()
        cameras = sorted(self.names)
        steps: list[tuple[str, dict[str, Any]]] = [
            (
                "parties",
                {
                    "school": "Springfield School District",
                    "agency": "Springfield Police Department",
                    "valid_from": today.isoformat(),
                    "valid_until": today.replace(year=today.year + 1).isoformat(),
                },
            ),
            ("cameras", {"cameras": cameras, "private_cameras": []}),
            (
                "rules",
                {
                    "allowed_users": [dep.admin_id],
                    "max_session_minutes": 120,
                    "max_extension_minutes": 60,
                    "max_viewers": 100,
                    "notify_targets": [],
                    "retention_days": 365,
                    "failure_limit": 20,
                },
            ),
        ]
        begun = time.monotonic()
        result = await client.post(
            "/api/config/config_entries/flow", {"handler": "school_emergency_share"}
        )
        results.flow_steps_s["open"] = time.monotonic() - begun
        for step, user_input in steps:
            if result.get("step_id") == "cameras":
                results.cameras_form_bytes = len(json.dumps(result))
            begun = time.monotonic()
            result = await client.post(
                f"/api/config/config_entries/flow/{result['flow_id']}", user_input
            )
            results.flow_steps_s[step] = time.monotonic() - begun
            if result.get("errors"):
                raise SetupError(f"agreement flow, step {step}: {result['errors']}")
        if result.get("type") != "create_entry":
            raise SetupError(f"the agreement flow ended with {result.get('type')}")
        dep.entry_id = str(result["result"]["entry_id"])
        await dep.refresh_entities()
        results.switches = sum(1 for key in dep.entities if key.startswith("camera:"))
        await asyncio.sleep(2)
        results.rss_after = float(self.hass.rss())

        say("the options flow with the same cameras")
        begun = time.monotonic()
        result = await client.post(
            "/api/config/config_entries/options/flow", {"handler": dep.entry_id}
        )
        results.options_steps_s["open"] = time.monotonic() - begun
        for step in ("dates", "cameras", "rules"):
            user_input = _defaults(result)
            begun = time.monotonic()
            result = await client.post(
                f"/api/config/config_entries/options/flow/{result['flow_id']}",
                user_input,
            )
            results.options_steps_s[step] = time.monotonic() - begun
            if result.get("errors"):
                raise SetupError(f"options flow, step {step}: {result['errors']}")

        say("reloading the agreement (its set-up with 400 cameras)")
        begun = time.monotonic()
        await client.post(f"/api/config/config_entries/entry/{dep.entry_id}/reload")
        results.reload_s = time.monotonic() - begun

    async def catalog(self) -> None:
        """`cameras.json` and an `/events` push at 400 cameras."""
        dep, results = self.dep, self.results
        await dep.activate("District drill", duration_minutes=120)
        self.link = await dep.link("District dispatch", standing=True)
        say(f"cameras.json with {CAMERAS} cameras, {JSON_SAMPLES} times")
        url = f"{self.hass.url}{self.link.path}/cameras.json"
        async with aiohttp.ClientSession() as http:
            for _ in range(JSON_SAMPLES):
                begun = time.monotonic()
                async with http.get(url) as response:
                    body = await response.read()
                results.cameras_json_ms.append(1000 * (time.monotonic() - begun))
            results.cameras_json_bytes = len(body)
            if len(json.loads(body)["cameras"]) != CAMERAS:
                raise SetupError("cameras.json does not list every camera")
            async with http.get(
                f"{self.hass.url}{self.link.path}/events", read_bufsize=8 * MIB
            ) as events:
                line = b""
                while not line.startswith(b"data:"):
                    line = await events.content.readline()
                results.events_push_bytes = len(line)

    async def only_watched_cameras_are_read(self) -> None:
        """Viewers on three cameras: only their URLs see a connection."""
        say(f"viewers on {WATCHED} of {CAMERAS} cameras")
        before = await self._connections()
        watched = sorted(self.names)[:: CAMERAS // WATCHED][:WATCHED]
        async with aiohttp.ClientSession() as http:
            viewers = [
                Viewer(
                    http, f"{self.hass.url}{self.link.mjpeg(camera)}", sample_every=0
                )
                for camera in watched
                for _ in range(2)
            ]
            tasks = [asyncio.get_running_loop().create_task(v.run()) for v in viewers]
            try:
                async with asyncio.timeout(30):
                    for viewer in viewers:
                        await viewer.first_part.wait()
                await asyncio.sleep(3)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        after = await self._connections()
        opened = {name: after.get(name, 0) - before.get(name, 0) for name in after}
        names = {self.names[camera] for camera in watched}
        self.results.watched_connections = {name: opened.get(name, 0) for name in names}
        self.results.unwatched_connections = sum(
            count for name, count in opened.items() if name not in names
        )

    async def _connections(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for source in self.sources:
            for name, count in (await source.stats())["connections_by_name"].items():
                counts[name] = counts.get(name, 0) + count
        return counts

    async def viewer_page(self) -> None:
        """The page with 400 cameras in Chromium at a phone's size."""
        from playwright.async_api import async_playwright  # noqa: PLC0415

        say("the viewer page with 400 cameras in Chromium at a phone's size")
        page_url = f"{self.hass.url}{self.link.path}"
        found: dict[str, Any] = {}
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu"],
            )
            try:
                context = await browser.new_context(
                    viewport=PHONE,
                    device_scale_factor=2,
                    is_mobile=True,
                    has_touch=True,
                )
                page = await context.new_page()
                streams: list[tuple[float, str]] = []
                page.on(
                    "request",
                    lambda request: (
                        streams.append((time.monotonic(), request.url))
                        if "/mjpeg/" in request.url or "/mp4/" in request.url
                        else None
                    ),
                )
                begun = time.monotonic()
                await page.goto(page_url)
                await page.wait_for_selector(
                    'body[data-state="active"]', timeout=60_000
                )
                found["active_s"] = time.monotonic() - begun
                found["floors"] = await page.locator(".floor").count()
                found["floors_folded"] = await page.locator(
                    ".floor:not([open])"
                ).count()
                found["tiles"] = await page.locator(".tile").count()
                found["search_shown"] = await page.locator("#search").is_visible()
                # Folded floors stream nothing; the officer opens the first.
                opened = time.monotonic()
                await page.locator(".floor > summary").first.click()
                await page.wait_for_selector('.tile[data-state="live"]', timeout=60_000)
                found["first_live_s"] = time.monotonic() - opened
                await asyncio.sleep(PAGE_WATCH)
                found["streams_open"] = int(
                    await page.get_attribute("body", "data-streams") or 0
                )
                found["streams_asked"] = len(streams)
                found["live_tiles"] = await page.locator(
                    '.tile[data-state="live"]'
                ).count()
                await _search(page, found)
                cdp = await context.new_cdp_session(page)
                await cdp.send("Performance.enable")
                metrics = {
                    m["name"]: m["value"]
                    for m in (await cdp.send("Performance.getMetrics"))["metrics"]
                }
                found["dom_nodes"] = int(metrics.get("Nodes", 0))
                found["js_heap_mib"] = metrics.get("JSHeapUsedSize", 0) / MIB
                await _scroll(page, streams, found)
                await context.close()
            finally:
                await browser.close()
        self.results.page = found


async def _search(page: Page, found: dict[str, Any]) -> None:
    """Looking for one camera by name: its floor opens, it plays."""
    wanted = SEARCHED
    searched = time.monotonic()
    await page.fill("#search", wanted)
    await page.locator(
        '.tile[data-state="live"]',
        has=page.locator(".name", has_text=re.compile(f"^{wanted}$")),
    ).wait_for(timeout=60_000)
    found["search_live_s"] = time.monotonic() - searched
    found["search_matches"] = await page.locator(".tile:not([hidden])").count()
    await page.fill("#search", "")


async def _scroll(
    page: Page, streams: list[tuple[float, str]], found: dict[str, Any]
) -> None:
    """Every floor opened, then scrolled through a screen at a time."""
    folded = page.locator(".floor:not([open]) > summary")
    while await folded.count():
        await folded.first.click()
    found["page_height_px"] = await page.evaluate(
        "document.documentElement.scrollHeight"
    )
    asked_before = len(streams)
    most = 0
    height = found["page_height_px"]
    for y in range(0, int(height), PHONE["height"]):
        await page.evaluate(f"window.scrollTo(0, {y})")
        await asyncio.sleep(0.25)
        most = max(most, int(await page.get_attribute("body", "data-streams") or 0))
    found["scroll_screens"] = math.ceil(height / PHONE["height"])
    found["scroll_streams_asked"] = len(streams) - asked_before
    found["scroll_most_open"] = most


def _defaults(form: dict[str, Any]) -> dict[str, Any]:
    """A form's suggested or default values: submitting it unchanged."""
    values: dict[str, Any] = {}
    for item in form.get("data_schema", []):
        name = item["name"]
        if item.get("default") is not None:
            values[name] = item["default"]
        description = item.get("description")
        if isinstance(description, dict) and "suggested_value" in description:
            values[name] = description["suggested_value"]
    return values


def report(results: DistrictResults) -> str:
    """The district run, as printed."""
    ms = results.cameras_json_ms
    page = results.page
    per_camera = (results.rss_after - results.rss_before) / results.cameras
    watched = ", ".join(
        f"{n}: {c}" for n, c in sorted(results.watched_connections.items())
    )
    flow = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in results.flow_steps_s.items())
    options = ", ".join(
        f"{k} {v * 1000:.0f} ms" for k, v in results.options_steps_s.items()
    )
    json_p50 = statistics.median(ms) if ms else math.nan
    json_p95 = sorted(ms)[int(0.95 * (len(ms) - 1))] if ms else math.nan
    others = results.cameras - WATCHED
    lines = [
        (
            f"The seed district: one agreement over {results.cameras} cameras"
            f" ({SOURCES} synthetic sources, {AREAS} areas on {len(FLOORS)} floors)"
        ),
        (
            f"  Home Assistant adds {results.cameras} mjpeg cameras through their"
            f" config flow: {results.add_cameras_s:.0f} s (core's, for scale)"
        ),
        (
            f"  agreement config flow (flow API): {flow}; the cameras form is"
            f" {results.cameras_form_bytes / 1024:.1f} KiB of JSON"
        ),
        f"  options flow: {options}",
        (
            f"  reload (set-up) of the agreement: {results.reload_s:.2f} s;"
            f" {results.switches} camera switches"
        ),
        (
            f"  Home Assistant RSS {results.rss_before / MIB:.0f} MiB before the"
            f" agreement, {results.rss_after / MIB:.0f} MiB after:"
            f" {per_camera / 1024:.1f} KiB per idle camera"
        ),
        (
            f"  cameras.json: p50 {json_p50:.1f} ms, p95 {json_p95:.1f} ms"
            f" ({len(ms)} requests, loopback),"
            f" {results.cameras_json_bytes / 1024:.0f} KiB; one /events status push"
            f" {results.events_push_bytes / 1024:.0f} KiB"
        ),
        (
            f"  viewers on {WATCHED} cameras (2 each): new connections per watched"
            f" camera {watched}; to the other {others}: {results.unwatched_connections}"
        ),
        (
            f"  viewer page, Chromium at {PHONE['width']}x{PHONE['height']}: active"
            f" after {page.get('active_s', math.nan):.2f} s with {page.get('tiles')}"
            f" tiles on {page.get('floors')} floors, {page.get('floors_folded')} of"
            f" them folded, search {'shown' if page.get('search_shown') else 'MISSING'}"
        ),
        (
            f"    first floor opened: a tile live after"
            f" {page.get('first_live_s', math.nan):.2f} s; {PAGE_WATCH:g} s later"
            f" {page.get('streams_open')} streams open,"
            f" {page.get('streams_asked')} asked for, {page.get('live_tiles')} tiles"
            f" live; {page.get('dom_nodes')} DOM nodes, JS heap"
            f" {page.get('js_heap_mib', math.nan):.1f} MiB"
        ),
        (
            f"    search for '{SEARCHED}': {page.get('search_matches')} tiles shown,"
            f" that camera live after {page.get('search_live_s', math.nan):.2f} s"
        ),
        (
            f"    every floor open, {page.get('page_height_px')} px"
            f" ({page.get('scroll_screens')} screens), scrolled a screen per 0.25 s:"
            f" {page.get('scroll_streams_asked')} streams asked for, at most"
            f" {page.get('scroll_most_open')} open at once"
        ),
        "",
        "targets:",
        (
            f"  cameras.json < 50 ms at {results.cameras} cameras       "
            f" {'met' if json_p50 < 50 else 'MISSED':<6} p50 {json_p50:.1f} ms"
        ),
        (
            "  only watched cameras are read                   "
            f" {'met' if results.unwatched_connections == 0 else 'MISSED':<6}"
            f" {results.unwatched_connections} connections to unwatched cameras"
        ),
        "",
        f"{results.started:%Y-%m-%d %H:%M} UTC; run took {results.duration_s:.0f} s",
    ]
    return "\n".join(lines)
