"""JPEG frames from one camera to every viewer (`/mjpeg`, snapshots).

Each viewer has a one-frame slot: a slow viewer skips to the newest frame and
never holds the others up. A joining viewer is handed the latest frame at once
if it is fresh, so a warm camera shows a picture without waiting for the next.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Unpack

from .frames import Frame
from .hub import CameraStatus, Hub, HubOptions, Source, Subscription

WARM_FRAME_MAX_AGE: Final = 2.0
"""A joining viewer gets the latest frame at once if it is at most this old (s)."""


class FrameSubscription(Subscription[Frame]):
    """A slot holding the newest JPEG frame: a slow viewer skips to the newest."""

    __slots__ = ("_frame",)

    def __init__(
        self, on_close: Callable[[Subscription[Frame]], None] | None = None
    ) -> None:
        """An empty slot."""
        super().__init__(on_close)
        self._frame: Frame | None = None

    def offer(self, item: Frame) -> None:
        """Put `item` in the slot, replacing one not yet taken."""
        if self._close_reason is not None:
            return
        if self._frame is not None:
            self.frames_skipped += 1
        self._frame = item
        self._woken()

    def _take(self) -> Frame | None:
        frame, self._frame = self._frame, None
        return frame

    def _drop(self) -> None:
        self._frame = None


class CameraHub(Hub[bytes, Frame]):
    """JPEG frames, one slot per viewer; a joining viewer gets a fresh frame."""

    def __init__(
        self,
        name: str,
        source_factory: Callable[[], Source[bytes]],
        *,
        warm_frame_max_age: float = WARM_FRAME_MAX_AGE,
        **options: Unpack[HubOptions],
    ) -> None:
        """As `Hub`; `warm_frame_max_age`: a joining subscriber is handed the
        latest frame at once if it is at most this old (s).
        """  # noqa: D205 - the arguments are Hub's
        super().__init__(name, source_factory, **options)
        self._warm_frame_max_age = warm_frame_max_age

    @property
    def last_frame(self) -> Frame | None:
        """The newest frame while the producer runs; None once idle."""
        return self._latest

    def _new_subscription(
        self, on_close: Callable[[Subscription[Frame]], None]
    ) -> Subscription[Frame]:
        return FrameSubscription(on_close)

    def _item(self, raw: bytes, captured_at: float, seq: int) -> Frame:
        return Frame(jpeg=raw, captured_at=captured_at, seq=seq)

    def _welcome(self, sub: Subscription[Frame]) -> None:
        last = self._latest
        if (
            self._status is CameraStatus.LIVE
            and last is not None
            and self._clock() - last.captured_at <= self._warm_frame_max_age
        ):
            sub.offer(last)
