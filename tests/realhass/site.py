"""A real Home Assistant with one camera and one agreement, for these tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from testbed.cameras import MjpegCamera, Picture
from testbed.deployment import START_TIMEOUT, Deployment, Link, scratch_hass
from testbed.hass import HassProcess
from testbed.viewers import Viewer, ViewerStats

CAMERA_NAME = "Gym"


@dataclass(slots=True)
class Site:
    """A running Home Assistant with one camera, one agreement, a standing link."""

    deployment: Deployment
    camera: MjpegCamera
    camera_entity: str
    standing: Link
    http: aiohttp.ClientSession

    @property
    def hass(self) -> HassProcess:
        """The process."""
        return self.deployment.hass

    def url(self, path: str) -> str:
        """An absolute URL on the Home Assistant under test."""
        return f"{self.hass.url}{path}"

    def mjpeg(self, link: Link) -> str:
        """The camera's stream under `link`."""
        return self.url(link.mjpeg(self.camera_entity))

    async def kill_camera(self) -> None:
        """The camera loses power: connections drop, none are accepted."""
        await self.camera.kill()

    async def revive_camera(self) -> None:
        """The camera comes back on the same address."""
        await self.camera.revive()

    async def camera_status(self, link: Link) -> str:
        """The camera's `status` in `cameras.json` under `link`."""
        async with self.http.get(self.url(f"{link.path}/cameras.json")) as response:
            assert response.status == 200, await response.text()
            body: dict[str, Any] = await response.json()
        return str(body["cameras"][0]["status"])

    def viewer(self, link: Link) -> Viewer:
        """A viewer of the camera under `link` (run it as a task)."""
        return Viewer(self.http, self.mjpeg(link), sample_every=0)


@contextlib.asynccontextmanager
async def running_site(
    workdir: Path,
    http_settings: dict[str, object] | None = None,
    camera_size: str = "320x180",
    **agreement: Any,
) -> AsyncIterator[Site]:
    """Camera, Home Assistant, onboarding, the agreement and a standing link.

    `http_settings` adds to Home Assistant's `http:` (ip_ban_enabled, ...).
    The camera is small (what is measured is Home Assistant, not the camera),
    so its JPEGs pass through; one wider than 960 px is read by ffmpeg.
    """
    camera = MjpegCamera(Picture(size=camera_size, fps=6), name=CAMERA_NAME)
    await camera.start()
    hass = scratch_hass(workdir / "config", http=http_settings)
    deployment: Deployment | None = None
    http = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, force_close=True),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=10),
    )
    try:
        await hass.boot(START_TIMEOUT)
        deployment = await Deployment.create(hass)
        entity = await deployment.add_mjpeg_camera(
            CAMERA_NAME, camera.stream_url, camera.still_url
        )
        await deployment.add_agreement(**agreement)
        standing = await deployment.link("Dispatch", standing=True)
        yield Site(deployment, camera, entity, standing, http)
    finally:
        await http.close()
        if deployment is not None:
            await deployment.close()
        await hass.stop()
        await camera.stop()


async def read_parts(
    site: Site, link: Link, count: int, timeout: float = 20
) -> ViewerStats:
    """Open the camera under `link` and read `count` parts; returns what was seen."""
    viewer = site.viewer(link)
    task = asyncio.get_running_loop().create_task(viewer.run())
    try:
        async with asyncio.timeout(timeout):
            while viewer.stats.parts < count and not task.done():
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return viewer.stats
