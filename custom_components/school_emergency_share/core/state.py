"""What one agreement holds and keeps across restarts, and what it allows.

`ShareState` is the session, the viewer links and the cameras switched off.
It is immutable: a decision makes a new state, which is saved and applied
whole. Whether a link may see a camera is asked of the state, the agreement
and an explicit `now`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Self

from .agreement import Agreement
from .links import Denial, ViewerLink, digests_match
from .requests import AccessRequest
from .session import Session, shared_cameras


@dataclass(frozen=True, slots=True)
class ShareState:
    """An agreement's session, links, switched-off cameras and police request."""

    session: Session | None = None
    # By link id. Never changed in place: `with_links` makes a new mapping.
    links: Mapping[str, ViewerLink] = field(default_factory=dict)
    disabled_cameras: frozenset[str] = frozenset()
    # The last request for sharing made from a standing link (pending or not).
    request: AccessRequest | None = None

    # ------------------------------------------------------------ queries

    def session_open(self, now: datetime) -> bool:
        """Whether the session lets anyone see anything at `now`."""
        return self.session is not None and self.session.is_open(now)

    def shared_cameras(self, agreement: Agreement) -> frozenset[str]:
        """The cameras the session shows (empty once it has ended, or when idle)."""
        if self.session is None or self.session.ended_at is not None:
            return frozenset()
        return shared_cameras(agreement, self.session, self.disabled_cameras)

    def link_for_hash(self, token_hash: str) -> ViewerLink | None:
        """The link whose token hashes to `token_hash`, compared in constant time.

        Every link is compared, found or not, so the time taken does not tell
        which link matched.
        """
        found = None
        for link in self.links.values():
            if digests_match(token_hash, link.token_hash):
                found = link
        return found

    def link_expiry(self, agreement: Agreement, link: ViewerLink) -> datetime:
        """When `link` stops working, as far as is known now."""
        return link.expiry(agreement, self.session)

    def check_access(
        self, agreement: Agreement, link_id: str, camera: str | None, now: datetime
    ) -> Denial | None:
        """Whether the link may see `camera` (or the session, for None) at `now`."""
        link = self.links.get(link_id)
        if link is None:
            return Denial.UNKNOWN
        if denial := link.check(agreement, self.session, now):
            return denial
        if camera is not None:
            if camera not in agreement.cameras:
                return Denial.UNKNOWN_CAMERA
            if camera not in link.scope(self.shared_cameras(agreement)):
                return Denial.OUT_OF_SCOPE
        return None

    def spent_at(
        self, agreement: Agreement, link: ViewerLink, now: datetime
    ) -> datetime | None:
        """When `link` stopped working for good, or None while it still may work."""
        if link.revoked_at is not None:
            return link.revoked_at
        expiry = self.link_expiry(agreement, link)
        return expiry if expiry <= now else None

    def spent_links(
        self, agreement: Agreement, now: datetime, kept: timedelta
    ) -> list[str]:
        """Links that stopped working at least `kept` ago: safe to forget."""
        horizon = now - kept
        return [
            link.id
            for link in self.links.values()
            if (spent := self.spent_at(agreement, link, now)) is not None
            and spent <= horizon
        ]

    # ------------------------------------------------------------ changes

    def with_session(self, session: Session | None) -> Self:
        """The same state with `session`."""
        return replace(self, session=session)

    def with_request(self, request: AccessRequest | None) -> Self:
        """The same state with `request`."""
        return replace(self, request=request)

    def with_links(self, links: Iterable[ViewerLink]) -> Self:
        """The same state with `links` added or replaced by id."""
        merged = dict(self.links)
        merged.update((link.id, link) for link in links)
        return replace(self, links=merged)

    def without_links(self, link_ids: Iterable[str]) -> Self:
        """The same state without the links `link_ids`."""
        gone = set(link_ids)
        return replace(
            self, links={k: v for k, v in self.links.items() if k not in gone}
        )

    def with_camera_shared(self, camera: str, *, shared: bool) -> Self:
        """The same state with `camera` switched on or off."""
        if shared:
            return replace(self, disabled_cameras=self.disabled_cameras - {camera})
        return replace(self, disabled_cameras=self.disabled_cameras | {camera})

    # ------------------------------------------------------------ storage

    def as_dict(self) -> dict[str, Any]:
        """Serialise for the store."""
        return {
            "session": self.session.as_dict() if self.session else None,
            "links": [link.as_dict() for link in self.links.values()],
            "disabled_cameras": sorted(self.disabled_cameras),
            "request": self.request.as_dict() if self.request else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote; raises on anything malformed."""
        session = data.get("session")
        request = data.get("request")
        links = [ViewerLink.from_dict(item) for item in data.get("links", [])]
        return cls(
            session=Session.from_dict(session) if session is not None else None,
            links={link.id: link for link in links},
            disabled_cameras=frozenset(
                str(c) for c in data.get("disabled_cameras", [])
            ),
            request=AccessRequest.from_dict(request) if request is not None else None,
        )
