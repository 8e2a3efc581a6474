"""An event loop whose clock jumps instead of waiting, for in-process tests.

A camera hub's backoff, linger and frame timeout, and a fake camera's frame
rate, are all `asyncio.sleep` and `loop.call_later`. On a real loop a test of
them is a race against the wall clock: on a loaded two-core machine a 50 ms
sleep can take 300 ms, and gaps, rates and counts come out wrong. On this loop
nothing waits in real time: whenever no callback is ready, the clock jumps to
the next timer. The order of events is exactly the code's, and every duration
is the one the code asked for, however busy the machine. A test can then
assert exact gaps instead of margins.

Only for code that does no real I/O (no sockets, no processes, no threads):
the clock would jump past them. Use as a decorator on an async test:

    @virtual_time
    async def test_backoff_doubles() -> None: ...
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
import functools
import selectors
from typing import Any


class _JumpingSelector(selectors.DefaultSelector):
    """Real readiness when there is some; otherwise the clock moves on."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self._loop = loop

    def select(
        self, timeout: float | None = None
    ) -> list[tuple[selectors.SelectorKey, int]]:
        """What is ready now; nothing ready, the clock jumps by `timeout`."""
        ready = super().select(0)
        if ready or timeout is None:  # None: nothing scheduled, wait for real
            return ready or super().select(timeout)
        self._loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop on a virtual clock that starts at 0."""

    def __init__(self) -> None:
        """Make the loop (nothing runs yet)."""
        self._virtual_now = 0.0
        super().__init__(selector=_JumpingSelector(self))

    def time(self) -> float:
        """The virtual clock, in seconds."""
        return self._virtual_now

    def advance(self, seconds: float) -> None:
        """Move the clock on (the selector does, when nothing is ready)."""
        self._virtual_now += max(0.0, seconds)


def run_virtual[T](coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a fresh `VirtualTimeLoop`, as `asyncio.run`."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                loop.run_until_complete(asyncio.wait(leftovers))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def virtual_time[**P](
    test: Callable[P, Coroutine[Any, Any, None]],
) -> Callable[P, None]:
    """Run an async test on a virtual clock (a plain test to pytest)."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        run_virtual(test(*args, **kwargs))

    return run
