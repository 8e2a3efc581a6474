"""Starting and ending sharing again and again leaves nothing behind."""

from __future__ import annotations

import asyncio

import pytest

from bench import procs

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(240),
]

CYCLES = 100
FD_SLACK = 8
"""Descriptors that come and go with Home Assistant's own work (keep-alive
connections of the test's API client, the recorder-less state machine's
writes); a leak of one per cycle would be 100."""


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
        async with asyncio.timeout(5):
            await task
        assert viewer.stats.end == "eof", viewer.stats.end
    finally:
        task.cancel()


async def _settled_fds(site: Site, limit: int, timeout: float = 15) -> int:
    """Home Assistant's descriptors once they are at most `limit` (or the last)."""
    fds = site.hass.open_fds()
    async with asyncio.timeout(timeout):
        while fds > limit:
            await asyncio.sleep(0.2)
            fds = site.hass.open_fds()
    return fds


async def test_a_hundred_sessions_with_a_viewer_leave_no_reader_and_no_descriptor(
    site: Site,
) -> None:
    """No ffmpeg left (not even a zombie); descriptors back to where they were."""
    await _one_cycle(site, 0)  # the first reader, imports, caches
    await site.deployment.wait_readers(0)
    baseline = site.hass.open_fds()

    for number in range(1, CYCLES + 1):
        await _one_cycle(site, number)

    # The reader lingers 3 s after its last viewer, then stops.
    await site.deployment.wait_readers(0)
    leftovers = [p for p in procs.descendants(site.hass.pid) if p.comm == "ffmpeg"]
    assert leftovers == []  # not even a zombie
    fds = await _settled_fds(site, baseline + FD_SLACK)
    assert fds <= baseline + FD_SLACK, (baseline, fds)
