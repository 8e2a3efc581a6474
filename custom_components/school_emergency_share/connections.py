"""The open viewer connections of one agreement, so access can end mid-stream.

Every stream or event stream a viewer opens is registered here with the way
to close it. When a decision narrows access, the manager asks the registry to
close every connection the new state no longer allows; the viewer's stream
ends before its next write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

from homeassistant.util import dt as dt_util

from .core.links import Denial, ViewerLink

USER_AGENT_MAX = 200


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
    def viewer(self) -> tuple[str, str]:
        """A viewer is a link used from one address."""
        return (self.link_id, self.address)


class Connections:
    """The registry; `on_change` hears of every connection opened or closed."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        """Start empty."""
        self._open: dict[int, ViewerConnection] = {}
        self._ids = count(1)
        self._on_change = on_change

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
        """Close every connection `check(link_id, camera)` now refuses."""
        for conn in list(self._open.values()):
            if denial := check(conn.link_id, conn.camera):
                conn.close(denial.value)

    def viewer_allowed(self, link_id: str, address: str, cap: int) -> bool:
        """Whether one more viewer fits under `cap` (one already watching does)."""
        viewers = {conn.viewer for conn in self._open.values()}
        return (link_id, address) in viewers or len(viewers) < cap

    def viewers(self) -> list[dict[str, Any]]:
        """Who is watching what, from where, since when (oldest first)."""
        viewers: dict[tuple[str, str], dict[str, Any]] = {}
        for conn in sorted(self._open.values(), key=lambda c: c.since):
            entry = viewers.setdefault(
                conn.viewer,
                {
                    "label": conn.label,
                    "link_id": conn.link_id,
                    "address": conn.address,
                    "user_agent": conn.user_agent,
                    "since": conn.since.isoformat(),
                    "cameras": [],
                },
            )
            if conn.camera and conn.camera not in entry["cameras"]:
                entry["cameras"].append(conn.camera)
        return list(viewers.values())
