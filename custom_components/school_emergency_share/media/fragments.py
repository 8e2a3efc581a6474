"""Fragmented MP4 out of one remuxer, fanned out to viewers from keyframes.

A `FragmentHub` is a `Hub` whose source yields `MediaSegment`s (one video
frame each, as the remuxer cuts them); each becomes a `Fragment`, stamped with
the time it came off the camera and with its bytes for the wire built once:
a `prft` box carrying that time, then the `moof` and `mdat` as ffmpeg wrote
them. The same bytes go to every viewer.

A viewer's `FragmentSubscription` is a short queue. It starts at a keyframe
(a decoder cannot start elsewhere) and, when the viewer falls `depth`
fragments behind, drops what it holds and waits for the next keyframe: a slow
viewer loses whole pictures, never gets a broken stream, and never holds more
than `depth` fragments beyond what it joined with. Each fragment names its
init segment, so a viewer is sent the init segment first and again whenever
the camera's stream starts over.

The hub keeps the fragments since the last keyframe (at most `GOP_KEPT`), and
a viewer joining a camera already being read starts with them: its player
decodes from that keyframe and shows the newest picture at once, instead of
waiting up to a keyframe interval for the next one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final, Unpack

from .fmp4 import InitSegment, MediaSegment, producer_time
from .hub import CameraStatus, Hub, HubOptions, Source, Subscription

FRAGMENT_QUEUE: Final = 12
"""Fragments a viewer may fall behind (about a second at 12 fps) before it
skips to the next keyframe."""
GOP_KEPT: Final = 120
"""Fragments kept since the last keyframe for joining viewers (10 s at 12 fps);
a camera with keyframes further apart makes its viewers wait for the next."""


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

    __slots__ = ("_backlog", "_depth", "_queue", "_synced")

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
        self._backlog = 0  # fragments joined with, not yet taken

    @property
    def queued(self) -> int:
        """Fragments waiting for the viewer."""
        return len(self._queue)

    def offer(self, item: Fragment) -> None:
        """Queue `item`, or drop it while waiting for a keyframe."""
        if self._close_reason is not None:
            return
        if self._synced and len(self._queue) >= self._depth + self._backlog:
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

    def join_with(self, fragments: list[Fragment]) -> None:
        """Start with `fragments` (from a keyframe on), beyond the usual depth."""
        if self._close_reason is not None or self._synced or not fragments:
            return
        if not fragments[0].keyframe:
            return
        self._queue.extend(fragments)
        self._backlog = len(fragments)
        self._synced = True
        self._woken()

    def _take(self) -> Fragment | None:
        if not self._queue:
            return None
        self._backlog = max(0, self._backlog - 1)
        return self._queue.popleft()

    def _drop(self) -> None:
        self._queue.clear()
        self._synced = False
        self._backlog = 0


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
        self._gop: list[Fragment] = []
        """The fragments since the last keyframe, while the camera is read."""

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

    def _published(self, item: Fragment) -> None:
        gop = self._gop
        if item.keyframe:
            self._gop = [item]
        elif gop and gop[0].init is item.init and len(gop) < GOP_KEPT:
            gop.append(item)
        else:
            self._gop = []  # no keyframe to start from (or too far back)

    def _set_status(self, status: CameraStatus) -> None:
        if status is not CameraStatus.LIVE:
            self._gop = []  # offline or idle: what was kept is history
        super()._set_status(status)

    def _welcome(self, sub: Subscription[Fragment]) -> None:
        # Only what the connection being read now made: `_latest` is reset
        # whenever the hub starts over or goes idle.
        gop = self._gop
        if (
            self._status is CameraStatus.LIVE
            and gop
            and gop[-1] is self._latest
            and isinstance(sub, FragmentSubscription)
        ):
            sub.join_with(list(gop))
