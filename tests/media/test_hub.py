"""One upstream connection per camera, fanned out to bounded viewer slots.

Every test runs on a virtual clock (`tests.support.virtual_time`): the hub and
the fake camera do no real I/O, so backoff gaps, linger, frame timeouts and
frame rates come out exactly as the code asks, however loaded the machine.
"""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
from itertools import pairwise

import pytest

from custom_components.school_emergency_share.media import (
    CameraHub,
    CameraStatus,
    Frame,
    FrameSource,
    StreamClosed,
    Subscription,
)
from tests.support.virtual_time import virtual_time

from .conftest import eventually, other_tasks
from .fakes import FakeCamera

pytestmark = pytest.mark.timeout(20)


@virtual_time
async def test_twenty_subscribers_share_one_upstream_connection() -> None:
    camera = FakeCamera(fps=50)
    hub = CameraHub("gym", camera.factory)
    subs = [hub.subscribe() for _ in range(20)]
    first = await asyncio.gather(*(sub.next_frame(2) for sub in subs))
    await asyncio.sleep(0.2)
    later = await asyncio.gather(*(sub.next_frame(2) for sub in subs))

    assert all(isinstance(frame, Frame) for frame in first + later)
    assert camera.connections_opened == hub.connections_opened == 1
    assert hub.subscriber_count == 20
    assert hub.status is CameraStatus.LIVE
    await hub.stop()
    assert camera.open_connections == 0


@virtual_time
async def test_a_stalled_subscriber_does_not_slow_the_others() -> None:
    camera = FakeCamera(fps=50)
    hub = CameraHub("hall", camera.factory)
    stalled = hub.subscribe()  # never takes a frame
    readers = [hub.subscribe() for _ in range(5)]
    await readers[0].next_frame(2)
    start_seq = hub.last_frame.seq if hub.last_frame else 0

    async def read(sub: Subscription[Frame], seconds: float) -> int:
        taken = 0
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds
        while loop.time() < end:
            if await sub.next_frame(0.5) is not None:
                taken += 1
        return taken

    counts = await asyncio.gather(*(read(sub, 1.0) for sub in readers))
    assert hub.last_frame is not None
    published = hub.last_frame.seq - start_seq

    assert published >= 25  # the camera kept its pace
    assert all(count >= 0.9 * published for count in counts), (counts, published)
    # The stalled viewer holds one frame, the newest; the rest were skipped.
    newest = await stalled.next_frame(0)
    assert newest is not None
    assert newest.seq >= hub.last_frame.seq - 1
    assert stalled.frames_skipped >= published - 1
    assert stalled.frames_taken == 1
    await hub.stop()


@virtual_time
async def test_a_slow_viewer_skips_to_the_newest_frame_instead_of_queueing() -> None:
    camera = FakeCamera(fps=100)
    hub = CameraHub("lobby", camera.factory)
    sub = hub.subscribe()
    seqs = []
    for _ in range(5):
        await asyncio.sleep(0.1)
        frame = await sub.next_frame(1)
        assert frame is not None
        assert hub.last_frame is not None
        assert frame.seq == hub.last_frame.seq  # the newest, not the oldest
        seqs.append(frame.seq)

    gaps = [b - a for a, b in pairwise(seqs)]
    assert min(gaps) >= 5  # ~10 frames arrive per 0.1 s; all but one skipped
    assert sub.frames_taken == 5
    assert sub.frames_skipped >= sum(gaps) - len(gaps)
    await hub.stop()


@virtual_time
async def test_closing_a_subscription_wakes_a_waiting_viewer_within_100ms() -> None:
    camera = FakeCamera(hung=True)  # connected, but no frames to wake anyone
    hub = CameraHub("office", camera.factory)
    sub = hub.subscribe()
    waiting = asyncio.create_task(sub.next_frame(timeout=10))
    await asyncio.sleep(0.2)
    loop = asyncio.get_running_loop()

    closed_at = loop.time()
    sub.close("session_ended")
    with pytest.raises(StreamClosed) as closed:
        await waiting

    assert loop.time() - closed_at < 0.1
    assert closed.value.reason == "session_ended"
    assert sub.closed
    assert sub.close_reason == "session_ended"
    assert hub.subscriber_count == 0
    with pytest.raises(StreamClosed):
        await sub.next_frame(1)
    await hub.stop()


@virtual_time
async def test_close_all_ends_every_viewer_at_once() -> None:
    camera = FakeCamera(hung=True)
    hub = CameraHub("office", camera.factory)
    subs = [hub.subscribe() for _ in range(10)]
    waiting = [asyncio.create_task(sub.next_frame(10)) for sub in subs]
    await asyncio.sleep(0.05)
    loop = asyncio.get_running_loop()

    closed_at = loop.time()
    hub.close_all("link_revoked")
    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert loop.time() - closed_at < 0.1
    assert all(
        isinstance(r, StreamClosed) and r.reason == "link_revoked" for r in results
    )
    assert hub.subscriber_count == 0
    await hub.stop()


@virtual_time
async def test_camera_failure_goes_offline_then_live_again_with_backoff() -> None:
    loop = asyncio.get_running_loop()
    camera = FakeCamera(fps=50)
    statuses: list[CameraStatus] = []
    offline_at: list[float] = []

    def on_status(status: CameraStatus) -> None:
        statuses.append(status)
        if status is CameraStatus.OFFLINE:
            offline_at.append(loop.time())

    hub = CameraHub(
        "entrance",
        camera.factory,
        backoff_initial=0.05,
        backoff_max=0.4,
        on_status=on_status,
    )
    sub = hub.subscribe()
    assert await sub.next_frame(2) is not None

    camera.alive = False
    before = len(camera.attempts)
    await eventually(lambda: len(camera.attempts) >= before + 6)
    retries = camera.attempts[before : before + 6]
    gaps = [b - a for a, b in pairwise([offline_at[0], *retries])]
    assert gaps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.4, 0.4])  # doubling, capped
    assert hub.status is CameraStatus.OFFLINE

    camera.alive = True
    await eventually(lambda: hub.status is CameraStatus.LIVE)
    assert await sub.next_frame(1) is not None
    assert statuses == [
        CameraStatus.CONNECTING,
        CameraStatus.LIVE,
        CameraStatus.OFFLINE,
        CameraStatus.LIVE,
    ]

    # A good frame reset the backoff: the next outage retries quickly again.
    camera.alive = False
    before = len(camera.attempts)
    await eventually(lambda: len(camera.attempts) > before)
    assert camera.attempts[before] - offline_at[1] == pytest.approx(0.05)
    await hub.stop()
    assert statuses[-1] is CameraStatus.IDLE


@virtual_time
async def test_a_camera_that_goes_silent_fails_after_frame_timeout() -> None:
    camera = FakeCamera(fps=50)
    hub = CameraHub("yard", camera.factory, frame_timeout=0.3, backoff_initial=0.05)
    sub = hub.subscribe()
    assert await sub.next_frame(2) is not None

    camera.hung = True
    took = await eventually(lambda: hub.status is CameraStatus.OFFLINE, timeout=2)

    assert took == pytest.approx(0.3, abs=0.011)  # the frame timeout, to the poll
    assert camera.sources[0].closed  # the silent connection was released
    await eventually(lambda: hub.connections_opened >= 2, timeout=1)
    camera.hung = False
    await eventually(lambda: hub.status is CameraStatus.LIVE, timeout=2)
    await hub.stop()
    assert camera.open_connections == 0


@virtual_time
async def test_producer_stops_after_linger_once_the_last_viewer_leaves() -> None:
    camera = FakeCamera(fps=50)
    hub = CameraHub("library", camera.factory, linger=0.3)
    sub = hub.subscribe()
    await sub.next_frame(2)

    hub.unsubscribe(sub)
    assert sub.closed
    assert sub.close_reason == "unsubscribed"
    await asyncio.sleep(0.15)
    assert camera.open_connections == 1  # lingering, still warm
    assert hub.status is CameraStatus.LIVE
    await eventually(lambda: hub.status is CameraStatus.IDLE, timeout=1)

    assert camera.open_connections == 0
    assert all(source.closed for source in camera.sources)
    assert hub.last_frame is None
    assert other_tasks() == []


@virtual_time
async def test_a_viewer_arriving_while_the_camera_closes_gets_a_new_connection() -> (
    None
):
    camera = FakeCamera(fps=50, close_delay=0.2)  # like ffmpeg taking time to exit
    hub = CameraHub("library", camera.factory, linger=0)
    first = hub.subscribe()
    assert await first.next_frame(2) is not None
    hub.unsubscribe(first)
    await eventually(lambda: camera.sources[0].closed, timeout=1)  # closing now

    again = hub.subscribe()
    frames = [await again.next_frame(2) for _ in range(3)]  # a warm one, then new

    assert all(frame is not None for frame in frames)
    assert hub.status is CameraStatus.LIVE
    assert camera.connections_opened == 2
    assert camera.most_unclosed == 1  # the old one was closed before the new one
    await hub.stop()
    assert camera.unclosed == 0
    assert other_tasks() == []


@virtual_time
async def test_a_viewer_returning_within_linger_gets_a_frame_at_once() -> None:
    camera = FakeCamera(fps=2)  # the next camera frame is up to 0.5 s away
    hub = CameraHub("library", camera.factory, linger=2)
    first = hub.subscribe()
    await first.next_frame(2)
    hub.unsubscribe(first)
    await asyncio.sleep(0.05)

    again = hub.subscribe()
    frame = await again.next_frame(0.05)

    assert frame is not None
    assert camera.connections_opened == 1
    await hub.stop()


@virtual_time
async def test_stale_last_frame_is_not_handed_to_a_joining_viewer() -> None:
    now = [1000.0]
    camera = FakeCamera(fps=50)
    hub = CameraHub("library", camera.factory, clock=lambda: now[0])
    first = hub.subscribe()
    frame = await first.next_frame(2)
    assert frame is not None
    assert frame.captured_at == 1000.0
    camera.hung = True
    await asyncio.sleep(0.05)
    now[0] += 5  # the latest frame is now 5 s old

    late = hub.subscribe()

    assert await late.next_frame(0.05) is None
    await hub.stop()


@virtual_time
async def test_frames_carry_capture_time_and_increasing_sequence() -> None:
    ticks = iter(range(1_000_000))
    camera = FakeCamera(fps=100)
    hub = CameraHub("gym", camera.factory, clock=lambda: 1_700_000_000.0 + next(ticks))
    sub = hub.subscribe()
    frames = [await sub.next_frame(1) for _ in range(3)]
    assert all(frame is not None for frame in frames)
    seqs = [frame.seq for frame in frames if frame]
    assert seqs == sorted(seqs)
    assert seqs[0] >= 1
    assert all(frame.captured_at >= 1_700_000_000.0 for frame in frames if frame)
    await hub.stop()


@virtual_time
async def test_stop_closes_viewers_releases_the_camera_and_is_idempotent() -> None:
    camera = FakeCamera(fps=50)
    statuses: list[CameraStatus] = []
    hub = CameraHub("gym", camera.factory, on_status=statuses.append)
    sub = hub.subscribe()
    await sub.next_frame(2)
    waiting = asyncio.create_task(sub.next_frame(10))
    await asyncio.sleep(0)

    await hub.stop()
    await hub.stop()

    with pytest.raises(StreamClosed, match="hub_stopped"):
        await waiting
    assert hub.status is CameraStatus.IDLE
    assert statuses[-1] is CameraStatus.IDLE
    assert camera.open_connections == 0
    assert all(source.closed for source in camera.sources)
    late = hub.subscribe()
    assert late.closed  # an unloading hub refuses politely
    assert camera.connections_opened == 1
    assert other_tasks() == []


@virtual_time
async def test_a_failing_status_listener_does_not_stop_the_camera() -> None:
    def broken(_status: CameraStatus) -> None:
        raise RuntimeError("listener bug")

    camera = FakeCamera(fps=50)
    hub = CameraHub("gym", camera.factory, on_status=broken)
    sub = hub.subscribe()
    assert await sub.next_frame(2) is not None
    assert await sub.next_frame(2) is not None
    await hub.stop()


@virtual_time
async def test_a_source_factory_that_raises_is_retried() -> None:
    camera = FakeCamera(fps=50)
    calls = 0

    def flaky() -> FrameSource:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise OSError("no route to camera")
        return camera.factory()

    hub = CameraHub("gym", flaky, backoff_initial=0.02)
    sub = hub.subscribe()
    assert await sub.next_frame(2) is not None
    assert calls == 3
    await hub.stop()


@virtual_time
async def test_fifty_subscribe_cycles_leave_no_task_and_no_connection() -> None:
    camera = FakeCamera(fps=100)
    hub = CameraHub("gym", camera.factory, linger=0)
    for cycle in range(50):
        sub = hub.subscribe()
        if cycle % 3 == 0:
            await sub.next_frame(1)
        elif cycle % 3 == 1:
            await asyncio.sleep(0)
        hub.unsubscribe(sub)
        if cycle % 5 == 0:
            await asyncio.sleep(0.01)

    await eventually(lambda: hub.status is CameraStatus.IDLE, timeout=2)
    assert camera.open_connections == 0
    assert other_tasks() == []
    await hub.stop()


@virtual_time
async def test_an_outage_is_one_warning_however_many_retries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    camera = FakeCamera(alive=False)
    hub = CameraHub("gym", camera.factory, backoff_initial=0.01, backoff_max=0.02)
    hub.subscribe()
    await eventually(lambda: len(camera.attempts) >= 10, timeout=2)
    await hub.stop()

    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "Camera gym is offline: camera is down" in warnings[0].getMessage()


@virtual_time
async def test_idle_is_reported_only_once_every_connection_is_closed() -> None:
    """IDLE means no upstream connection, even one still closing."""
    camera = FakeCamera(fps=50, close_delay=0.5)  # like an ffmpeg slow to exit
    open_at_idle: list[int] = []

    def on_status(status: CameraStatus) -> None:
        if status is CameraStatus.IDLE:
            open_at_idle.append(camera.unclosed)

    hub = CameraHub("gym", camera.factory, linger=0, on_status=on_status)
    first = hub.subscribe()
    assert await first.next_frame(2) is not None
    hub.unsubscribe(first)  # its reader retires and takes 0.5 s to close
    await eventually(lambda: camera.sources[0].closed)
    again = hub.subscribe()  # a new reader waits for the old one to close…
    await asyncio.sleep(0.1)
    hub.unsubscribe(again)  # …and is told to stop before it connected

    await eventually(lambda: camera.unclosed == 0)
    await eventually(lambda: hub.status is CameraStatus.IDLE)
    assert open_at_idle
    assert not any(open_at_idle), open_at_idle
    await hub.stop()
