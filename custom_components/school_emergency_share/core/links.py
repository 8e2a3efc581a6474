"""Viewer links: the credential a police viewer holds instead of an account.

A token is 192 random bits from `secrets`. Only its SHA-256 is kept; lookups
hash the presented token and compare digests in constant time. Whether a link
opens anything is decided afresh on every request from the link, the session,
the agreement and the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
import hashlib
import hmac
import re
import secrets
from typing import Any, Final, Self

from .actor import Actor
from .agreement import Agreement
from .errors import Refusal, RefusalCode
from .session import (
    Session,
    agreement_not_in_force,
    as_utc,
    check_cameras,
    check_permission,
    require_open,
)

TOKEN_BYTES: Final = 24
TOKEN_LENGTH: Final = 32  # base64url of 24 bytes, no padding
_TOKEN_RE: Final = re.compile(r"[A-Za-z0-9_-]{32}")
_DIGEST_RE: Final = re.compile(r"[0-9a-f]{64}")
LABEL_MAX: Final = 80
DIGEST_LENGTH: Final = 64


def new_token() -> str:
    """A fresh link token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_link_id() -> str:
    """A public identifier for a link (not a credential)."""
    return secrets.token_hex(6)


def is_well_formed(token: str) -> bool:
    """Tokens have one shape; anything else is refused before hashing."""
    return _TOKEN_RE.fullmatch(token) is not None


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def digests_match(presented: str, stored: str) -> bool:
    """Constant-time comparison of two token digests.

    Total over every string: a stored digest that is not ASCII (a damaged
    store) must compare unequal, not raise in every viewer request.
    """
    return hmac.compare_digest(
        presented.encode("utf-8", "surrogatepass"),
        stored.encode("utf-8", "surrogatepass"),
    )


class Denial(StrEnum):
    """Why a viewer request is refused; views map these to status codes."""

    MALFORMED = "malformed_link"
    UNKNOWN = "unknown_link"
    REVOKED = "revoked_link"
    EXPIRED = "expired_link"
    NO_SESSION = "no_active_session"
    OUT_OF_SCOPE = "camera_out_of_scope"
    UNKNOWN_CAMERA = "unknown_camera"
    LOCKED_OUT = "locked_out"
    VIEWER_CAP = "viewer_cap"
    STREAM_CAP = "stream_cap"
    CAMERA_UNAVAILABLE = "camera_unavailable"
    AUDIT_UNAVAILABLE = "audit_unavailable"


@dataclass(frozen=True, slots=True)
class ViewerLink:
    """One link. `cameras` None means every camera the session shares."""

    id: str
    token_hash: str
    label: str
    created_at: datetime
    created_by: Actor
    standing: bool
    # Session links belong to one session and die with it.
    session_id: str | None
    # Explicit cap on top of the session's or the agreement's end.
    expires_at: datetime | None
    cameras: frozenset[str] | None = None
    revoked_at: datetime | None = None

    def __post_init__(self) -> None:
        """Hold instants in UTC (see `as_utc`); a naive time is refused."""
        for name in ("created_at", "expires_at", "revoked_at"):
            if (moment := getattr(self, name)) is not None:
                object.__setattr__(self, name, as_utc(moment))

    def expiry(self, agreement: Agreement, session: Session | None) -> datetime:
        """When this link stops working, as far as is known now."""
        limits = [agreement.ends_at]
        if self.expires_at is not None:
            limits.append(self.expires_at)
        if not self.standing:
            if session is not None and session.id == self.session_id:
                limits.append(session.ended_at or session.expires_at)
            else:
                limits.append(self.created_at)
        return min(limits)

    def check(
        self, agreement: Agreement, session: Session | None, now: datetime
    ) -> Denial | None:
        """None when the link opens the session now, else why not."""
        if self.revoked_at is not None:
            return Denial.REVOKED
        if not self.standing and (session is None or session.id != self.session_id):
            # Its session is gone. Said outright, not left to `expiry`: on a
            # clock set back before the link was made, that would not have
            # passed yet and the link would open whichever session is open.
            return Denial.EXPIRED
        if now >= self.expiry(agreement, session):
            return Denial.EXPIRED
        if session is None or not session.is_open(now):
            # Only standing links reach this: a session link expired above.
            return Denial.NO_SESSION
        return None

    def scope(self, shared: frozenset[str]) -> frozenset[str]:
        """The cameras this link shows out of what the session shares now."""
        return shared if self.cameras is None else shared & self.cameras

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage (the token itself is never stored)."""
        return {
            "id": self.id,
            "token_hash": self.token_hash,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by.as_dict(),
            "standing": self.standing,
            "session_id": self.session_id,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "cameras": sorted(self.cameras) if self.cameras is not None else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote; raises on anything malformed."""
        token_hash = str(data["token_hash"])
        if len(token_hash) != DIGEST_LENGTH or not _DIGEST_RE.fullmatch(token_hash):
            raise ValueError("token hash is not a SHA-256 hex digest")
        cameras = data.get("cameras")
        return cls(
            id=str(data["id"]),
            token_hash=token_hash,
            label=str(data["label"]),
            created_at=datetime.fromisoformat(data["created_at"]),
            created_by=Actor.from_dict(data["created_by"]),
            standing=bool(data["standing"]),
            session_id=data.get("session_id"),
            expires_at=(
                datetime.fromisoformat(data["expires_at"])
                if data.get("expires_at")
                else None
            ),
            # As Session reads them: mixed types would break sorting on save.
            cameras=frozenset(str(c) for c in cameras) if cameras is not None else None,
            revoked_at=(
                datetime.fromisoformat(data["revoked_at"])
                if data.get("revoked_at")
                else None
            ),
        )


@dataclass(frozen=True, slots=True)
class LinkRequest:
    """What `create_viewer_link` asks for."""

    label: str
    minutes: int | None = None
    cameras: frozenset[str] | None = None
    standing: bool = False


def issue(
    agreement: Agreement,
    session: Session | None,
    actor: Actor,
    request: LinkRequest,
    *,
    now: datetime,
    link_id: str,
    token_hash: str,
) -> ViewerLink:
    """Make a link, or raise the Refusal that says why not."""
    check_permission(agreement, actor)
    label = " ".join(request.label.split())[:LABEL_MAX]
    if not label:
        raise Refusal(RefusalCode.LABEL_REQUIRED)
    if request.minutes is not None and request.minutes <= 0:
        raise Refusal(RefusalCode.DURATION_INVALID)
    if now >= agreement.ends_at:
        raise agreement_not_in_force(agreement)
    cameras = None
    if request.cameras is not None:
        cameras = check_cameras(agreement, request.cameras)
        if not cameras:
            raise Refusal(RefusalCode.NO_CAMERAS)
    session_id = None
    if not request.standing:
        session_id = _session_for_link(agreement, session, cameras, now).id
    expires_at = None
    if request.minutes is not None:
        try:
            expires_at = as_utc(now) + timedelta(minutes=request.minutes)
        except OverflowError:  # past any date: the agreement's end is the cap
            expires_at = None
    return ViewerLink(
        id=link_id,
        token_hash=token_hash,
        label=label,
        created_at=now,
        created_by=actor,
        standing=request.standing,
        session_id=session_id,
        expires_at=expires_at,
        cameras=cameras,
    )


def _session_for_link(
    agreement: Agreement,
    session: Session | None,
    cameras: frozenset[str] | None,
    now: datetime,
) -> Session:
    """A session link needs an open session that shares what it asks for."""
    if not agreement.in_force(now):
        raise agreement_not_in_force(agreement)
    current = require_open(session, now)
    for camera in sorted(cameras or ()):
        if camera not in current.cameras:
            raise Refusal(RefusalCode.CAMERA_NOT_IN_SESSION, camera=camera)
    return current


def find(links: Mapping[str, ViewerLink], link_id: str) -> ViewerLink:
    """The link with `link_id`, or the refusal that says there is none."""
    if (link := links.get(link_id)) is None:
        raise Refusal(RefusalCode.LINK_NOT_FOUND, link_id=link_id)
    return link


def revoke(links: Iterable[ViewerLink], *, now: datetime) -> list[ViewerLink]:
    """Revoke every link given that is not revoked yet."""
    return [replace(link, revoked_at=now) for link in links if link.revoked_at is None]
