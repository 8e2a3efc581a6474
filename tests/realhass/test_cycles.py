"""Starting and ending sharing again and again leaves nothing behind."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from testbed import procfs

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(240),
]
# Wider than a camera's JPEGs may pass through at: an ffmpeg reader per run.
CAMERA_SIZE = "1024x576"

CYCLES = 100
COLD_EVERY = 10
"""Every tenth cycle waits for the reader to stop, so ffmpeg itself is started
and stopped ten times (its pipes are what a leak would most likely be)."""
FD_SLACK = 8
"""Descriptors that come and go with Home Assistant's own work (the test's API
client's keep-alive connections, executor and storage work); a leak of one per
cycle would be 100, one per reader 10."""


async def _one_cycle(site: Site, number: int) -> None:
    """Activate, watch until a frame arrives, deactivate while watching."""
    dep = site.deployment
    await dep.activate(f"Drill {number}")
    viewer = site.viewer(site.standing)
    task = asyncio.get_running_loop().create_task(viewer.run())
    try:
        async with asyncio.timeout(20):
            await viewer.first_part.wait()
        await dep.deactivate(f"Drill {number} over")
        async with asyncio.timeout(20):  # it must end; how fast: the benchmark
            await task
        assert viewer.stats.end == "eof", viewer.stats.end
    finally:
        task.cancel()


async def _settled_fds(site: Site, limit: int, timeout: float = 15) -> int:
    """Home Assistant's descriptors once at most `limit`, or after `timeout` s."""
    fds = site.hass.open_fds()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while fds > limit:
                await asyncio.sleep(0.2)
                fds = site.hass.open_fds()
    return fds


async def test_a_hundred_sessions_with_a_viewer_leave_no_reader_and_no_descriptor(
    site: Site,
) -> None:
    """No ffmpeg left (not even a zombie); descriptors back to where they were.

    Within a tenth of the cycles the reader lingers between sessions (3 s), so
    the same ffmpeg serves them; then it is left to stop.
    """
    await _one_cycle(site, 0)  # the first reader, imports, caches
    await site.deployment.wait_readers(0)
    baseline = site.hass.open_fds()

    readers: set[int] = set()
    for number in range(1, CYCLES + 1):
        await _one_cycle(site, number)
        readers.update(site.hass.ffmpeg_readers())
        if number % COLD_EVERY == 0:
            await site.deployment.wait_readers(0)

    # The reader lingers 3 s after its last viewer, then stops.
    await site.deployment.wait_readers(0)
    leftovers = [p for p in procfs.descendants(site.hass.pid) if p.comm == "ffmpeg"]
    assert leftovers == []  # not even a zombie
    assert len(readers) >= CYCLES // COLD_EVERY  # ffmpeg really came and went
    fds = await _settled_fds(site, baseline + FD_SLACK)
    assert fds <= baseline + FD_SLACK, (baseline, fds)
