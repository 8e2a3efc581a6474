"""The open viewer connections of one agreement, so access can end mid-stream.

Every stream or event stream a viewer opens is registered here with the way
to close it. When a decision narrows access, the manager asks the registry to
close every connection the new state no longer allows; the viewer's stream
ends before its next write.

A viewer is a link used from one address that watches video: a camera
stream, or a snapshot in the last `SNAPSHOT_VIEWING` seconds (snapshots are
rate-limited per viewer). An events stream alone (a page waiting for a
session) is a connection, not a viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
import time
from typing import Any, Final

from homeassistant.util import dt as dt_util

from .core.links import Denial, ViewerLink

USER_AGENT_MAX: Final = 200
# A viewer who took a snapshot this recently is watching.
SNAPSHOT_VIEWING: Final = 30.0
# Snapshots per viewer: a burst of this many, then this many a second.
SNAPSHOT_BURST: Final = 5
SNAPSHOT_RATE: Final = 1.0

type Viewer = tuple[str, str]


@dataclass(slots=True, eq=False)
class ViewerConnection:
    """One open viewer connection: a camera stream or the events stream."""

    id: int
    link_id: str
    label: str
    camera: str | None
    address: str
    user_agent: str
    since: datetime
    close: Callable[[str], None] = field(repr=False)

    @property
    def viewer(self) -> Viewer:
        """A viewer is a link used from one address."""
        return (self.link_id, self.address)


class Connections:
    """The registry; `on_change` hears of every connection opened or closed."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        """Start empty."""
        self._open: dict[int, ViewerConnection] = {}
        self._ids = count(1)
        self._on_change = on_change
        # Snapshot takers: viewer -> (tokens left, when counted, label, since).
        self._snapshots: dict[Viewer, tuple[float, float, str, datetime]] = {}

    def __len__(self) -> int:
        """How many connections are open."""
        return len(self._open)

    def open(
        self,
        link: ViewerLink,
        camera: str | None,
        address: str,
        user_agent: str,
        close: Callable[[str], None],
    ) -> ViewerConnection:
        """Register a connection; `close(reason)` ends it from outside."""
        conn = ViewerConnection(
            id=next(self._ids),
            link_id=link.id,
            label=link.label,
            camera=camera,
            address=address,
            user_agent=user_agent[:USER_AGENT_MAX],
            since=dt_util.utcnow(),
            close=close,
        )
        self._open[conn.id] = conn
        self._on_change()
        return conn

    def forget(self, conn: ViewerConnection) -> None:
        """A connection has ended."""
        if self._open.pop(conn.id, None) is not None:
            self._on_change()

    def close_all(self, reason: str) -> None:
        """Close every connection (unload, shutdown)."""
        for conn in list(self._open.values()):
            conn.close(reason)

    def close_denied(self, check: Callable[[str, str | None], Denial | None]) -> None:
        """Close every connection `check(link_id, camera)` now refuses.

        A page waiting for a session (an events stream, no session) is left
        to wait: it ends itself once a session it saw has ended.
        """
        for conn in list(self._open.values()):
            denial = check(conn.link_id, conn.camera)
            if denial is None or (conn.camera is None and denial is Denial.NO_SESSION):
                continue
            conn.close(denial.value)

    def viewer_allowed(self, link_id: str, address: str, cap: int) -> bool:
        """Whether one more viewer fits under `cap` (one already watching does)."""
        viewers = self._viewers()
        return (link_id, address) in viewers or len(viewers) < cap

    def stream_allowed(self, link_id: str, address: str, cap: int) -> bool:
        """Whether this viewer may open one more stream under `cap`."""
        viewer = (link_id, address)
        return sum(conn.viewer == viewer for conn in self._open.values()) < cap

    def snapshot_allowed(self, link: ViewerLink, address: str) -> bool:
        """Take one snapshot from the viewer's allowance; False when spent."""
        viewer = (link.id, address)
        now = time.monotonic()
        tokens, counted, _label, since = self._snapshots.get(
            viewer, (float(SNAPSHOT_BURST), now, link.label, dt_util.utcnow())
        )
        tokens = min(SNAPSHOT_BURST, tokens + (now - counted) * SNAPSHOT_RATE)
        if tokens < 1:
            return False
        first = viewer not in self._viewers()
        self._snapshots[viewer] = (tokens - 1, now, link.label, since)
        if first:
            self._on_change()
        return True

    def _viewers(self) -> set[Viewer]:
        horizon = time.monotonic() - SNAPSHOT_VIEWING
        for viewer, (_, counted, _, _) in list(self._snapshots.items()):
            if counted < horizon:
                del self._snapshots[viewer]
        watching = {conn.viewer for conn in self._open.values() if conn.camera}
        return watching | set(self._snapshots)

    def viewers(self, *, private: bool = False) -> list[dict[str, Any]]:
        """Who is watching what, since when (oldest first).

        Where they watch from (address, browser) only with `private`: for the
        audit log's and the diagnostics' side, never for entity attributes.
        """
        self._viewers()  # forget snapshot takers gone quiet
        viewers: dict[Viewer, dict[str, Any]] = {}
        for conn in sorted(self._open.values(), key=lambda c: c.since):
            if conn.camera is None:
                continue
            entry = viewers.setdefault(
                conn.viewer, _viewer_entry(conn.link_id, conn.label, conn.since)
            )
            if private:
                entry.update(address=conn.address, user_agent=conn.user_agent)
            if conn.camera not in entry["cameras"]:
                entry["cameras"].append(conn.camera)
        for viewer, (_, _, label, since) in self._snapshots.items():
            entry = viewers.setdefault(viewer, _viewer_entry(viewer[0], label, since))
            if private:
                entry.setdefault("address", viewer[1])
        return list(viewers.values())


def _viewer_entry(link_id: str, label: str, since: datetime) -> dict[str, Any]:
    return {
        "label": label,
        "link_id": link_id,
        "since": since.isoformat(),
        "cameras": [],
    }
