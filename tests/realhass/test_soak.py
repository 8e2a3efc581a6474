"""Forty viewers for ten minutes: descriptors and memory stay flat.

Runs with `--soak` (`SES_SOAK_MINUTES` changes its length); `-s` shows the
samples.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time

import pytest

from testbed.deployment import Link

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.soak,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(1200),
]

AGREEMENT = {"max_viewers": 100, "max_session_minutes": 60}
VIEWERS = 40
MINUTES = float(os.environ.get("SES_SOAK_MINUTES", "10"))
INTERVAL = 30.0
WARM_UP = 2
"""Samples left out at the start: imports, caches and buffers settle."""
FD_SLACK = 4
RSS_SLACK = 8 * 1024 * 1024


async def test_forty_viewers_for_ten_minutes_keep_descriptors_and_memory_flat(
    site: Site,
) -> None:
    """Sampled every 30 s after a warm-up: no growth in descriptors or RSS."""
    dep = site.deployment
    await dep.activate("Soak", duration_minutes=int(MINUTES) + 5)
    links: list[Link] = [await dep.link(f"Officer {n}") for n in range(VIEWERS)]
    viewers = [site.viewer(link) for link in links]
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(viewer.run()) for viewer in viewers]
    samples: list[tuple[float, int, int, int, int]] = []
    try:
        async with asyncio.timeout(30):
            await asyncio.gather(*(viewer.first_part.wait() for viewer in viewers))
        started = time.monotonic()
        while (elapsed := time.monotonic() - started) <= MINUTES * 60:
            parts = sum(viewer.stats.parts for viewer in viewers)
            readers = len(site.hass.ffmpeg_readers())
            samples.append(
                (elapsed, site.hass.open_fds(), site.hass.rss(), readers, parts)
            )
            assert not [task for task in tasks if task.done()], "a viewer stopped"
            await asyncio.sleep(INTERVAL)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dep.deactivate()
        _report(samples)

    settled = samples[WARM_UP:]
    assert len(settled) >= 2, "too short to tell (SES_SOAK_MINUTES)"
    fds = [fd for _, fd, _, _, _ in settled]
    rss = [r for _, _, r, _, _ in settled]
    assert max(fds) - min(fds) <= FD_SLACK, fds
    assert max(rss) - rss[0] <= RSS_SLACK, [r // 1024 for r in rss]
    assert {readers for _, _, _, readers, _ in samples} == {1}
    # Every interval delivered frames to every viewer (at least 1 fps each).
    for before, after in itertools.pairwise(samples):
        assert after[4] - before[4] >= VIEWERS * (after[0] - before[0])


def _report(samples: list[tuple[float, int, int, int, int]]) -> None:
    """What the soak saw, for the log (-s) and the README."""
    lines = ["soak: elapsed s, HA fds, HA RSS MiB, ffmpeg readers, parts delivered"]
    lines += [
        f"  {t:6.0f} {fd:5d} {r / 1048576:8.1f} {readers:3d} {parts:8d}"
        for t, fd, r, readers, parts in samples
    ]
    print("\n".join(lines))  # noqa: T201 - the soak's record
