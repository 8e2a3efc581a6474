"""Fragmented MP4 out of one remuxer, fanned out to viewers from keyframes.

A `FragmentHub` is a `Hub` whose source yields `MediaSegment`s (one video
frame each, as the remuxer cuts them); each becomes a `Fragment`, stamped with
the time it came off the camera and with its bytes for the wire built once:
a `prft` box carrying that time, then the `moof` and `mdat` as ffmpeg wrote
them. The same bytes go to every viewer.

A viewer's `FragmentSubscription` is a short queue. It starts at the next
keyframe (a decoder cannot start elsewhere) and, when the viewer falls
`depth` fragments behind, drops what it holds and waits for the next
keyframe: a slow viewer loses whole pictures, never gets a broken stream, and
never holds more than `depth` fragments. Each fragment names its init
segment, so a viewer is sent the init segment first and again whenever the
camera's stream starts over.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Unpack

from .fmp4 import InitSegment, MediaSegment, producer_time
from .hub import Hub, HubOptions, Source, Subscription

FRAGMENT_QUEUE: Final = 12
"""Fragments a viewer may fall behind (about a second at 12 fps) before it
skips to the next keyframe."""


@dataclass(frozen=True, slots=True)
class Fragment:
    """One media fragment as viewers get it."""

    segment: MediaSegment
    captured_at: float
    """Wall-clock epoch seconds when the fragment came off the remuxer."""
    seq: int
    wire: bytes = field(init=False, repr=False, compare=False)
    """`prft` (the capture time) + `moof` + `mdat`: built once, sent to all."""

    def __post_init__(self) -> None:
        """Build the bytes every viewer is sent."""
        segment = self.segment
        prft = producer_time(
            segment.init.track_id, self.captured_at, segment.decode_time
        )
        object.__setattr__(self, "wire", prft + segment.data)

    @property
    def init(self) -> InitSegment:
        """The init segment a player needs before this fragment."""
        return self.segment.init

    @property
    def keyframe(self) -> bool:
        """Whether a decoder can start here."""
        return self.segment.keyframe


class FragmentSubscription(Subscription[Fragment]):
    """A queue of fragments that always starts, and restarts, at a keyframe."""

    __slots__ = ("_depth", "_queue", "_synced")

    def __init__(
        self,
        on_close: Callable[[Subscription[Fragment]], None] | None = None,
        depth: int = FRAGMENT_QUEUE,
    ) -> None:
        """An empty queue of at most `depth` fragments, waiting for a keyframe."""
        super().__init__(on_close)
        self._depth = depth
        self._queue: deque[Fragment] = deque()
        self._synced = False

    @property
    def queued(self) -> int:
        """Fragments waiting for the viewer."""
        return len(self._queue)

    def offer(self, item: Fragment) -> None:
        """Queue `item`, or drop it while waiting for a keyframe."""
        if self._close_reason is not None:
            return
        if self._synced and len(self._queue) >= self._depth:
            # Too far behind: what waits is dropped whole, and the viewer
            # resumes at the next keyframe rather than with a broken picture.
            self.frames_skipped += len(self._queue)
            self._queue.clear()
            self._synced = False
        if not self._synced:
            if not item.keyframe:
                self.frames_skipped += 1
                return
            self._synced = True
        self._queue.append(item)
        self._woken()

    def _take(self) -> Fragment | None:
        return self._queue.popleft() if self._queue else None

    def _drop(self) -> None:
        self._queue.clear()
        self._synced = False


class FragmentHub(Hub[MediaSegment, Fragment]):
    """Fragments of one camera's passed-through H.264, from one remuxer."""

    def __init__(
        self,
        name: str,
        source_factory: Callable[[], Source[MediaSegment]],
        *,
        depth: int = FRAGMENT_QUEUE,
        **options: Unpack[HubOptions],
    ) -> None:
        """As `Hub`; `depth`: how far a viewer may fall behind (fragments)."""
        super().__init__(name, source_factory, **options)
        self._depth = depth

    @property
    def init(self) -> InitSegment | None:
        """The init segment of what is being read now, once known."""
        latest = self._latest
        return latest.init if latest is not None else None

    def _new_subscription(
        self, on_close: Callable[[Subscription[Fragment]], None]
    ) -> Subscription[Fragment]:
        return FragmentSubscription(on_close, self._depth)

    def _item(self, raw: MediaSegment, captured_at: float, seq: int) -> Fragment:
        return Fragment(segment=raw, captured_at=captured_at, seq=seq)
