"""Cameras and readers fail; viewers see it, and keep watching once it is over."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
import os
import signal
import time

import pytest

from testbed.viewers import Viewer

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(120),
]
# Wider than the 960 px a camera's JPEGs may pass through at: an ffmpeg reader.
CAMERA_SIZE = "1024x576"


async def _status_becomes(site: Site, wanted: str, timeout: float = 30) -> float:
    """Poll cameras.json until the camera's status is `wanted`; seconds taken."""
    started = time.monotonic()
    seen = []
    try:
        async with asyncio.timeout(timeout):
            while (status := await site.camera_status(site.standing)) != wanted:
                seen.append(status)
                await asyncio.sleep(0.2)
    except TimeoutError:
        pytest.fail(f"status never became {wanted!r}; saw {sorted(set(seen))}")
    return time.monotonic() - started


async def _parts_after(viewer: Viewer, moment: float, count: int) -> None:
    """Wait until the viewer has `count` parts that arrived after `moment`."""
    async with asyncio.timeout(30):
        while sum(1 for t in viewer.stats.part_times if t > moment) < count:
            assert viewer.stats.end is None, viewer.stats.end
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def _watching(site: Site) -> AsyncIterator[Viewer]:
    """An active session and one viewer of the camera, for the block's length."""
    dep = site.deployment
    await dep.ensure_idle()
    await dep.activate("Fault drill")
    viewer = site.viewer(site.standing)
    task = asyncio.get_running_loop().create_task(viewer.run())
    try:
        async with asyncio.timeout(20):
            await viewer.first_part.wait()
        yield viewer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await dep.deactivate()


async def test_a_camera_that_dies_mid_stream_shows_offline_then_live_again(
    site: Site,
) -> None:
    """Offline while the camera is dark, live again after, on the same stream."""
    async with _watching(site) as viewer:
        assert await site.camera_status(site.standing) == "live"

        await site.kill_camera()
        await _status_becomes(site, "offline")

        await site.revive_camera()
        revived = time.monotonic()
        await _status_becomes(site, "live")
        # The same stream carries on: the viewer never had to reconnect.
        await _parts_after(viewer, revived, 3)
        assert viewer.stats.end is None


async def test_an_ffmpeg_reader_killed_from_outside_is_replaced(site: Site) -> None:
    """A new reader takes over and the viewer keeps getting frames."""
    async with _watching(site) as viewer:
        (reader,) = await site.deployment.wait_readers(1)

        os.kill(reader, signal.SIGKILL)
        killed = time.monotonic()

        async with asyncio.timeout(20):
            while (readers := site.hass.ffmpeg_readers()) in ([], [reader]):
                await asyncio.sleep(0.05)
        assert len(readers) == 1
        await _parts_after(viewer, killed, 5)
        assert viewer.stats.end is None
        assert await site.camera_status(site.standing) == "live"
