"""fMP4 fragments fanned out from one remuxer: from a keyframe, never broken.

On a virtual clock (`tests.support.virtual_time`), like the JPEG hub's tests:
the fake camera yields a fragment every 0.1 s, a keyframe every tenth.
"""

# ruff: noqa: D103 - a test's name says what it proves

from __future__ import annotations

import asyncio
import itertools

import pytest

from custom_components.school_emergency_share.media import (
    CameraStatus,
    Fragment,
    FragmentHub,
    FragmentSubscription,
    MediaSegment,
    StreamClosed,
    Subscription,
)
from custom_components.school_emergency_share.media.fmp4 import read_producer_time
from tests.support.virtual_time import virtual_time

from .fakes import FakeH264Camera, fake_init

pytestmark = pytest.mark.timeout(20)


def fragment(n: int, *, keyframe: bool, connection: int = 1) -> Fragment:
    segment = MediaSegment(fake_init(connection), b"f%d" % n, keyframe, n)
    return Fragment(segment=segment, captured_at=1_700_000_000.0 + n, seq=n)


async def take(sub: Subscription[Fragment], count: int) -> list[Fragment]:
    taken: list[Fragment] = []
    while len(taken) < count:
        item = await sub.next_frame(5)
        assert item is not None, "no fragment in 5 s"
        taken.append(item)
    return taken


def test_a_new_viewer_starts_at_the_next_keyframe() -> None:
    sub = FragmentSubscription()
    for n in range(1, 4):
        sub.offer(fragment(n, keyframe=False))
    assert sub.queued == 0
    sub.offer(fragment(4, keyframe=True))
    sub.offer(fragment(5, keyframe=False))
    assert sub.queued == 2
    assert sub.frames_skipped == 3


def test_a_viewer_that_falls_behind_skips_whole_fragments_to_a_keyframe() -> None:
    sub = FragmentSubscription(depth=4)
    sub.offer(fragment(0, keyframe=True))
    for n in range(1, 4):
        sub.offer(fragment(n, keyframe=False))
    assert sub.queued == 4
    # One more: too far behind. What waited is dropped; the next pictures
    # until a keyframe too, since they could not be decoded.
    sub.offer(fragment(4, keyframe=False))
    sub.offer(fragment(5, keyframe=False))
    assert sub.queued == 0
    sub.offer(fragment(6, keyframe=True))
    sub.offer(fragment(7, keyframe=False))
    assert sub.queued == 2
    assert sub.frames_skipped == 6


@virtual_time
async def test_what_a_slow_viewer_gets_always_decodes() -> None:
    """Each run of fragments it takes starts with a keyframe and has no hole."""
    camera = FakeH264Camera(fps=10, gop=10)
    hub = FragmentHub("hall", camera.factory, depth=5)
    sub = hub.subscribe()
    taken: list[Fragment] = []
    for _ in range(40):
        await asyncio.sleep(0.25)  # reads at 4 fps: falls behind again and again
        item = await sub.next_frame(1)
        assert item is not None
        taken.append(item)
    assert sub.frames_skipped > 0
    assert taken[0].keyframe
    for before, after in itertools.pairwise(taken):
        # Either the next fragment, or a jump that lands on a keyframe.
        assert after.seq == before.seq + 1 or after.keyframe, (before.seq, after.seq)
    await hub.stop()


@virtual_time
async def test_twenty_viewers_share_one_remuxer_and_the_same_bytes() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory)
    subs = [hub.subscribe() for _ in range(20)]
    runs = await asyncio.gather(*(take(sub, 12) for sub in subs))
    assert camera.connections_opened == hub.connections_opened == 1
    assert all(run[0].keyframe for run in runs)
    # Built once: every viewer writes the very same bytes object.
    assert len({id(run[0].wire) for run in runs}) == 1
    assert hub.status is CameraStatus.LIVE
    await hub.stop()
    assert camera.open_connections == 0


@virtual_time
async def test_each_fragment_carries_its_capture_time_before_the_moof() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory, clock=lambda: 1_767_225_600.25)
    [first] = await take(hub.subscribe(), 1)
    assert first.wire[4:8] == b"prft"
    assert read_producer_time(first.wire[:32]) == pytest.approx(1_767_225_600.25)
    assert first.wire[32:] == first.segment.data
    await hub.stop()


@virtual_time
async def test_a_reconnected_camera_brings_its_new_init_segment() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory, backoff_initial=0.1)
    sub = hub.subscribe()
    [before] = await take(sub, 1)
    camera.alive = False
    await asyncio.sleep(0.3)
    camera.alive = True
    after = (await take(sub, 30))[-1]
    assert before.init is not after.init
    assert after.init.data == b"init-2"
    await hub.stop()


@virtual_time
async def test_restart_drops_what_the_old_connection_made() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory)
    sub = hub.subscribe()
    await take(sub, 3)
    await asyncio.sleep(0.5)  # more fragments wait in the queue
    hub.restart()
    [first] = await take(sub, 1)
    assert first.init.data == b"init-2"  # nothing of the first connection
    assert first.keyframe
    assert camera.connections_opened == 2
    await hub.stop()


@virtual_time
async def test_closing_every_viewer_wakes_them_with_the_reason() -> None:
    camera = FakeH264Camera()
    hub = FragmentHub("gym", camera.factory)
    subs = [hub.subscribe() for _ in range(3)]
    await asyncio.gather(*(take(sub, 1) for sub in subs))
    waiting = [asyncio.create_task(sub.next_frame(10)) for sub in subs]
    hub.close_all("masked")
    for task in waiting:
        with pytest.raises(StreamClosed, match="masked"):
            await task
    await hub.stop()


@virtual_time
async def test_a_viewer_joining_a_read_camera_starts_at_its_last_keyframe() -> None:
    """No wait for the next keyframe: the fragments since the last one, at once."""
    camera = FakeH264Camera(fps=10, gop=10)
    hub = FragmentHub("hall", camera.factory, depth=4)
    first = hub.subscribe()
    seen = await take(first, 15)  # the camera is read; mid-way through a GOP
    joined = hub.subscribe()
    assert isinstance(joined, FragmentSubscription)
    backlog = joined.queued
    assert backlog == 5, backlog  # more than `depth`: the joining run is allowed
    run = await take(joined, backlog)
    assert run[0].keyframe
    assert run[-1].seq == seen[-1].seq
    assert [f.seq for f in run] == list(range(run[0].seq, run[0].seq + backlog))
    # Then on with the camera, nothing dropped.
    [following] = await take(joined, 1)
    assert following.seq == run[-1].seq + 1
    assert joined.frames_skipped == 0
    await hub.stop()


@virtual_time
async def test_a_camera_that_went_offline_leaves_no_old_keyframe_to_join() -> None:
    camera = FakeH264Camera(fps=10, gop=10)
    hub = FragmentHub("hall", camera.factory, backoff_initial=5)
    await take(hub.subscribe(), 5)
    camera.alive = False
    while hub.status is not CameraStatus.OFFLINE:
        await asyncio.sleep(0.1)
    late = hub.subscribe()
    assert isinstance(late, FragmentSubscription)
    assert late.queued == 0  # it waits for what the camera sends next
    await hub.stop()
