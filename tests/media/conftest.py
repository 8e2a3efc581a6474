"""Helpers for the media tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
import os
import signal

import pytest

from testbed import procfs


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let tests open sockets; pytest-socket still allows only 127.0.0.1."""


def other_tasks() -> list[asyncio.Task[object]]:
    """Tasks still running besides the test's own."""
    me = asyncio.current_task()
    return [task for task in asyncio.all_tasks() if task is not me and not task.done()]


async def eventually(
    condition: Callable[[], bool], timeout: float = 5.0, step: float = 0.01
) -> float:
    """Wait until `condition()` holds; return how long it took (s)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(step)
    return loop.time() - start


@pytest.fixture(autouse=True)
def no_ffmpeg_left_behind() -> Iterator[None]:
    """Every ffmpeg a test started (sources and cameras) is gone at its end."""
    yield
    leftovers = procfs.own_children("ffmpeg")
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert leftovers == []
