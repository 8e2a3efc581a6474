"""One upstream reader per camera output, fanned out to any number of viewers.

The go2rtc model: one producer per source, many consumers, each with a small
bounded buffer of its own. A slow consumer loses what it could not take,
never stalls the producer or its peers, and costs a bounded amount of memory.
The producer starts with the first subscriber, reconnects with backoff when
the camera fails, and stops a little after the last subscriber leaves.

`Hub` is that machinery, whatever it carries; each output has its own kind:

- `jpegs.CameraHub` carries JPEG `Frame`s; each viewer's `FrameSubscription`
  is a slot holding only the newest frame (`/mjpeg`, snapshots);
- `fragments.FragmentHub` carries fragmented-MP4 `Fragment`s; each viewer's
  `FragmentSubscription` is a short queue that starts at a keyframe and, when
  it overflows, skips to the next one (`/mp4`).

Everything here runs on the event loop; none of it is thread-safe.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
import contextlib
from enum import StrEnum
import logging
import time
from typing import Protocol, TypedDict

_LOGGER = logging.getLogger(__name__)


class CameraStatus(StrEnum):
    """What a camera hub is doing, as viewers and dashboards see it."""

    IDLE = "idle"
    """Nobody is watching; no upstream connection."""
    CONNECTING = "connecting"
    """Opening the upstream connection; no frame yet."""
    LIVE = "live"
    """Frames are arriving."""
    OFFLINE = "offline"
    """The camera failed; retrying with backoff."""


class Source[R](Protocol):
    """One upstream connection to a camera, giving items of type `R`."""

    def frames(self) -> AsyncIterator[R]:
        """Yield items as they arrive; raising or ending means the camera failed."""
        ...

    async def aclose(self) -> None:
        """Release the connection (and any process); safe to call twice."""
        ...


class FrameSource(Source[bytes], Protocol):
    """A source of JPEGs."""


class StreamClosed(Exception):  # noqa: N818 - it is an event, not an error
    """The subscription was closed; `reason` says why."""

    def __init__(self, reason: str) -> None:
        """Carry the reason the subscription was closed."""
        super().__init__(reason)
        self.reason = reason


class Subscription[T]:
    """One viewer's view of a hub's output: a bounded buffer and a way to close.

    Subclasses decide what the buffer holds (`offer`, `_take`, `_drop`).
    """

    __slots__ = (
        "_close_reason",
        "_on_close",
        "_wake",
        "frames_skipped",
        "frames_taken",
    )

    def __init__(
        self, on_close: Callable[[Subscription[T]], None] | None = None
    ) -> None:
        """Create an open subscription; `on_close` runs once when it closes."""
        self._wake = asyncio.Event()
        self._close_reason: str | None = None
        self._on_close = on_close
        self.frames_taken = 0
        """Items handed to the viewer."""
        self.frames_skipped = 0
        """Items the viewer never got: replaced, or dropped to catch up."""

    @property
    def closed(self) -> bool:
        """Whether the subscription was closed."""
        return self._close_reason is not None

    @property
    def close_reason(self) -> str | None:
        """Why it was closed, or None while open."""
        return self._close_reason

    def offer(self, item: T) -> None:
        """Hand `item` to the viewer's buffer. Never blocks."""
        raise NotImplementedError

    def _take(self) -> T | None:
        """The next item for the viewer, or None if there is none."""
        raise NotImplementedError

    def _drop(self) -> None:
        """Forget whatever the buffer holds."""
        raise NotImplementedError

    def discard(self) -> None:
        """Drop what the buffer holds (the source started over)."""
        self._drop()

    async def next_frame(self, timeout: float) -> T | None:  # noqa: ASYNC109
        """The next item not yet taken, waiting up to `timeout` seconds.

        Returns:
            The item, or None if none arrived in time.

        Raises:
            StreamClosed: the subscription is closed (also while waiting).

        """
        if self._close_reason is None and (item := self._take()) is not None:
            self.frames_taken += 1
            return item
        if self._close_reason is None:
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
        if self._close_reason is not None:
            raise StreamClosed(self._close_reason)
        item = self._take()
        if item is not None:
            self.frames_taken += 1
        return item

    def _woken(self) -> None:
        self._wake.set()

    def close(self, reason: str) -> None:
        """Close with `reason`, waking a waiting viewer at once. Idempotent."""
        if self._close_reason is not None:
            return
        self._close_reason = reason
        self._drop()
        self._wake.set()
        if self._on_close is not None:
            on_close, self._on_close = self._on_close, None
            on_close(self)


class HubOptions(TypedDict, total=False):
    """How a hub reads and retries; every kind of hub takes these (see `Hub`)."""

    linger: float
    backoff_initial: float
    backoff_max: float
    frame_timeout: float
    on_status: Callable[[CameraStatus], None] | None
    clock: Callable[[], float]


class Hub[R, T]:
    """Reads one source once and hands every item to all its subscribers.

    `R` is what the source yields, `T` what subscribers get: the hub stamps
    each with its capture time and sequence number (`_item`).
    """

    def __init__(
        self,
        name: str,
        source_factory: Callable[[], Source[R]],
        *,
        linger: float = 3.0,
        backoff_initial: float = 0.5,
        backoff_max: float = 15.0,
        frame_timeout: float = 10.0,
        on_status: Callable[[CameraStatus], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Set up the hub; nothing connects until the first subscriber.

        Args:
            name: names the camera in logs and task names.
            source_factory: opens one upstream connection per call.
            linger: seconds the producer keeps reading after the last
                subscriber leaves, so a quick return is warm.
            backoff_initial: first wait before reconnecting (s), doubled per
                failure up to `backoff_max`, reset by a good item.
            backoff_max: longest wait between reconnections (s).
            frame_timeout: a source silent this long (s) has failed.
            on_status: told every status change.
            clock: wall clock stamping items (epoch seconds).

        """
        self.name = name
        self._source_factory = source_factory
        self._linger = linger
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._frame_timeout = frame_timeout
        self._on_status = on_status
        self._clock = clock
        self._subs: dict[Subscription[T], None] = {}  # insertion-ordered set
        self._status = CameraStatus.IDLE
        self._latest: T | None = None
        self._seq = 0
        self.last_item_at: float | None = None
        """When the last item came off the camera (epoch seconds), kept when idle."""
        self._producer: asyncio.Task[None] | None = None
        # Producers told to stop whose source may still be closing.
        self._retiring: set[asyncio.Task[None]] = set()
        self._linger_timer: asyncio.TimerHandle | None = None
        self._stopped = False
        self.connections_opened = 0
        """How many times the source factory was called (connection attempts)."""

    # ----------------------------------------------------------- per output

    def _new_subscription(
        self, on_close: Callable[[Subscription[T]], None]
    ) -> Subscription[T]:
        raise NotImplementedError

    def _item(self, raw: R, captured_at: float, seq: int) -> T:
        raise NotImplementedError

    def _welcome(self, sub: Subscription[T]) -> None:
        """Give a joining subscriber what it may start with (nothing here)."""

    def _published(self, item: T) -> None:
        """Note an item just made, before subscribers get it (nothing here)."""

    # ----------------------------------------------------------- shared

    @property
    def status(self) -> CameraStatus:
        """What the hub is doing now."""
        return self._status

    @property
    def latest(self) -> T | None:
        """The newest item while the producer runs; None once idle."""
        return self._latest

    @property
    def subscriber_count(self) -> int:
        """Open subscriptions."""
        return len(self._subs)

    @property
    def running(self) -> bool:
        """Whether a producer is reading (or about to read) the source."""
        return self._producer is not None

    def subscribe(self) -> Subscription[T]:
        """Add a subscriber, starting the producer if it is not running.

        After `stop()` the subscription comes back already closed, so a viewer
        racing an unload ends cleanly instead of failing.
        """
        sub = self._new_subscription(self._forget)
        if self._stopped:
            sub.close("hub_stopped")
            return sub
        self._subs[sub] = None
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        self._welcome(sub)
        if self._producer is None:
            self._start_producer()
        return sub

    def _start_producer(self) -> None:
        # A retiring producer may still be closing its connection; the new
        # one waits for that, so a one-connection camera is never asked for
        # two.
        self._producer = asyncio.get_running_loop().create_task(
            self._produce(set(self._retiring)),
            name=f"camera hub producer: {self.name}",
        )

    def unsubscribe(self, sub: Subscription[T]) -> None:
        """Remove a subscriber (closing it); the producer lingers, then stops."""
        sub.close("unsubscribed")

    def close_all(self, reason: str) -> None:
        """Close every subscription with `reason`."""
        for sub in list(self._subs):
            sub.close(reason)

    def restart(self) -> None:
        """Start over on a new connection, dropping all the old one made.

        For a change to how items are made (a privacy mask added): nothing
        made before this call reaches a subscriber after it, and subscribers
        stay subscribed. Without subscribers the producer just stops.
        """
        self._latest = None
        for sub in self._subs:
            sub.discard()
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        self._retire()
        if self._subs and not self._stopped:
            self._start_producer()

    async def stop(self, reason: str = "hub_stopped") -> None:
        """Close every subscription, stop the producer and wait for the source.

        Idempotent; the hub stays stopped.
        """
        self._stopped = True
        self.close_all(reason)
        if self._linger_timer is not None:
            self._linger_timer.cancel()
            self._linger_timer = None
        producers = set(self._retiring)
        if self._producer is not None:
            producers.add(self._producer)
            self._producer.cancel()
        if producers:
            await asyncio.wait(producers)
        self._set_status(CameraStatus.IDLE)

    def _forget(self, sub: Subscription[T]) -> None:
        """Drop a closed subscription; the last one out starts the linger timer."""
        self._subs.pop(sub, None)
        if self._subs or self._producer is None:
            return
        if self._linger_timer is None:
            self._linger_timer = asyncio.get_running_loop().call_later(
                self._linger, self._linger_expired
            )

    def _linger_expired(self) -> None:
        self._linger_timer = None
        if not self._subs:
            self._retire()

    def _retire(self) -> None:
        """Stop the producer; its source closes in the background."""
        if (producer := self._producer) is not None:
            self._producer = None
            self._retiring.add(producer)
            producer.add_done_callback(self._retiring.discard)
            producer.cancel()

    def _set_status(self, status: CameraStatus) -> None:
        if status is self._status:
            return
        self._status = status
        _LOGGER.debug("Camera %s is %s", self.name, status)
        if self._on_status is not None:
            try:
                self._on_status(status)
            except Exception:
                _LOGGER.exception("Status listener failed for camera %s", self.name)

    async def _produce(self, retiring: set[asyncio.Task[None]]) -> None:
        """Connect, read, fan out; on failure back off and reconnect."""
        backoff = self._backoff_initial
        self._set_status(CameraStatus.CONNECTING)
        try:
            if retiring:
                await asyncio.wait(retiring)
            while True:
                delivered, why = await self._read_once()
                if delivered:
                    backoff = self._backoff_initial
                # One warning per outage; the retries go to the debug log.
                level = (
                    logging.DEBUG
                    if self._status is CameraStatus.OFFLINE
                    else logging.WARNING
                )
                _LOGGER.log(level, "Camera %s is offline: %s", self.name, why)
                self._set_status(CameraStatus.OFFLINE)
                if not self._subs:
                    break  # failed while lingering: nobody to retry for
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._backoff_max)
        finally:
            # Unless a successor took over, the hub is idle now, or will be
            # once a retiring producer has closed its connection: the last of
            # them to finish says so.
            me = asyncio.current_task()
            if self._producer in (None, me):
                self._producer = None
                self._latest = None
                if self._linger_timer is not None:
                    self._linger_timer.cancel()
                    self._linger_timer = None
                if not any(t is not me and not t.done() for t in self._retiring):
                    self._set_status(CameraStatus.IDLE)

    async def _read_once(self) -> tuple[int, str]:
        """Read one upstream connection until it fails.

        Returns:
            How many items it gave, and why it ended.

        """
        delivered = 0
        self.connections_opened += 1
        try:
            source = self._source_factory()
        except Exception as err:
            _LOGGER.debug("Camera %s: no source", self.name, exc_info=True)
            return delivered, f"could not create its source: {err!r}"
        deadline: asyncio.Timeout | None = None
        try:
            frames = source.frames()
            try:
                while True:
                    async with asyncio.timeout(self._frame_timeout) as deadline:
                        raw = await anext(frames)
                    if not delivered and self._status is CameraStatus.OFFLINE:
                        _LOGGER.info("Camera %s is live again", self.name)
                    self._publish(raw)
                    delivered += 1
            finally:
                if isinstance(frames, AsyncGenerator):
                    await frames.aclose()
        except StopAsyncIteration:
            why = "the stream ended"
        except TimeoutError as err:
            if deadline is not None and deadline.expired():
                why = f"no frame for {self._frame_timeout:g} seconds"
            else:
                why = repr(err)
        except Exception as err:  # noqa: BLE001 - whatever the source raises
            why = str(err) or repr(err)
        finally:
            await source.aclose()
        return delivered, why

    def _publish(self, raw: R) -> None:
        if asyncio.current_task() is not self._producer:
            return  # a retired producer's last item: made the old way
        self._seq += 1
        self.last_item_at = self._clock()
        item = self._item(raw, self.last_item_at, self._seq)
        self._latest = item
        self._published(item)
        self._set_status(CameraStatus.LIVE)
        for sub in self._subs:
            sub.offer(item)
