"""The written agreement (MOU) between a school or district and a police agency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Final, Self

from .actor import Actor, ActorKind
from .masks import Mask, masks_as_options, masks_from_options

DEFAULT_MAX_SESSION: Final = timedelta(minutes=60)
DEFAULT_MAX_EXTENSION: Final = timedelta(minutes=60)
DEFAULT_MAX_VIEWERS: Final = 10
DEFAULT_RETENTION_DAYS: Final = 365
DEFAULT_FAILURE_LIMIT: Final = 20
DEFAULT_MAX_STREAMS_PER_VIEWER: Final = 8


@dataclass(frozen=True, slots=True)
class Agreement:
    """The rules one agreement sets. Dates are whole days in `tz`."""

    school: str
    agency: str
    valid_from: date
    valid_until: date
    cameras: frozenset[str]
    private_cameras: frozenset[str] = frozenset()
    allowed_users: frozenset[str] = frozenset()
    max_session: timedelta = DEFAULT_MAX_SESSION
    max_extension: timedelta = DEFAULT_MAX_EXTENSION
    max_viewers: int = DEFAULT_MAX_VIEWERS
    notify_targets: tuple[str, ...] = ()
    retention_days: int = DEFAULT_RETENTION_DAYS
    failure_limit: int = DEFAULT_FAILURE_LIMIT
    # Streams one viewer (a link used from one address) may hold open at once.
    max_streams_per_viewer: int = DEFAULT_MAX_STREAMS_PER_VIEWER
    # Privacy masks by camera, sorted by camera (a tuple: the rules stay hashable).
    masks: tuple[tuple[str, tuple[Mask, ...]], ...] = ()
    tz: tzinfo = field(default=UTC, compare=False)

    @property
    def starts_at(self) -> datetime:
        """The first instant the agreement is in force (in UTC, see `ends_at`)."""
        return self._midnight(self.valid_from)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the agreement (midnight after its last day).

        In UTC: a session clamped to it is later extended by adding minutes, and
        minutes added to a zoned wall time are wrong across a DST change.
        """
        if self.valid_until == date.max:  # "until 9999-12-31": no end
            return datetime.max.replace(tzinfo=UTC)
        return self._midnight(self.valid_until + timedelta(days=1))

    def _midnight(self, day: date) -> datetime:
        """Midnight starting `day` in the agreement's zone, as a UTC instant."""
        try:
            return datetime.combine(day, time.min, self.tz).astimezone(UTC)
        except OverflowError:  # the first or last day there is, east or west of UTC
            if day.year == date.min.year:
                return datetime.min.replace(tzinfo=UTC)
            return datetime.max.replace(tzinfo=UTC)

    def in_force(self, now: datetime) -> bool:
        """Whether anything may be activated at `now`."""
        return self.starts_at <= now < self.ends_at

    def masks_of(self, camera: str) -> tuple[Mask, ...]:
        """The privacy masks of `camera` (none for most cameras)."""
        return dict(self.masks).get(camera, ())

    @property
    def shareable_cameras(self) -> frozenset[str]:
        """Eligible cameras that are not private: the most any session can show."""
        return self.cameras - self.private_cameras

    def may_act(self, actor: Actor) -> bool:
        """Whether `actor` may activate, extend, end, or issue and revoke links.

        Named users; automations and scripts no unnamed person caused; the
        integration itself. Nobody else, and nothing unattributed.
        """
        if actor.kind is ActorKind.USER:
            return actor.id is not None and actor.id in self.allowed_users
        if actor.is_run:
            return actor.person_id is None or actor.person_id in self.allowed_users
        return actor.kind is ActorKind.SYSTEM

    def may_export(self, actor: Actor, *, administrator: bool) -> bool:
        """Whether `actor` may export the audit log: named users, administrators."""
        if actor.kind is not ActorKind.USER or actor.id is None:
            return False
        return administrator or actor.id in self.allowed_users

    def longest_session(self) -> timedelta:
        """The longest any session can last: the maximum plus every extension."""
        return self.max_session + self.max_extension

    def as_dict(self) -> dict[str, Any]:
        """The rules as plain data: how the audit log records the agreement."""
        return {
            "school": self.school,
            "agency": self.agency,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "cameras": sorted(self.cameras),
            "private_cameras": sorted(self.private_cameras),
            "allowed_users": sorted(self.allowed_users),
            "max_session_minutes": _whole_minutes(self.max_session),
            "max_extension_minutes": _whole_minutes(self.max_extension),
            "max_viewers": self.max_viewers,
            "notify_targets": list(self.notify_targets),
            "retention_days": self.retention_days,
            "failure_limit": self.failure_limit,
            "max_streams_per_viewer": self.max_streams_per_viewer,
            "masks": masks_as_options(dict(self.masks)),
        }

    def changes(self, after: Agreement) -> dict[str, dict[str, Any]]:
        """Each rule that differs in `after`, as `{"from": ..., "to": ...}`."""
        old, new = self.as_dict(), after.as_dict()
        return {
            key: {"from": old[key], "to": new[key]}
            for key in old
            if old[key] != new[key]
        }

    @classmethod
    def from_options(cls, options: Mapping[str, Any], tz: tzinfo) -> Self:
        """Build from a config entry's options; raises ValueError on bad data."""
        try:
            return cls(
                school=str(options["school"]).strip(),
                agency=str(options["agency"]).strip(),
                valid_from=_as_date(options["valid_from"]),
                valid_until=_as_date(options["valid_until"]),
                cameras=_as_set(options.get("cameras", ())),
                private_cameras=_as_set(options.get("private_cameras", ())),
                allowed_users=_as_set(options.get("allowed_users", ())),
                max_session=timedelta(
                    minutes=int(options.get("max_session_minutes", 60))
                ),
                max_extension=timedelta(
                    minutes=int(options.get("max_extension_minutes", 60))
                ),
                max_viewers=int(options.get("max_viewers", DEFAULT_MAX_VIEWERS)),
                notify_targets=tuple(options.get("notify_targets", ())),
                retention_days=int(
                    options.get("retention_days", DEFAULT_RETENTION_DAYS)
                ),
                failure_limit=min(
                    DEFAULT_FAILURE_LIMIT,
                    int(options.get("failure_limit", DEFAULT_FAILURE_LIMIT)),
                ),
                max_streams_per_viewer=int(
                    options.get(
                        "max_streams_per_viewer", DEFAULT_MAX_STREAMS_PER_VIEWER
                    )
                ),
                masks=tuple(sorted(masks_from_options(options.get("masks")).items())),
                tz=tz,
            ).validated()
        except (KeyError, TypeError, OverflowError) as err:
            raise ValueError(f"agreement option missing or malformed: {err}") from err

    def validated(self) -> Self:
        """Return self when the rules are coherent, else raise ValueError."""
        problems = list(self.problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def problems(self) -> Iterable[str]:
        """Every way these rules are incoherent (the config flow shows them)."""
        checks = (
            (not self.school, "school_required"),
            (not self.agency, "agency_required"),
            (self.valid_until < self.valid_from, "dates_reversed"),
            (not self.shareable_cameras, "no_shareable_cameras"),
            (self.max_session <= timedelta(0), "max_session_invalid"),
            (self.max_extension < timedelta(0), "max_extension_invalid"),
            (self.max_viewers < 1, "max_viewers_invalid"),
            (self.retention_days < 1, "retention_invalid"),
            (
                not 1 <= self.failure_limit <= DEFAULT_FAILURE_LIMIT,
                "failure_limit_invalid",
            ),
            (self.max_streams_per_viewer < 1, "max_streams_per_viewer_invalid"),
        )
        return [problem for failed, problem in checks if failed]


def _whole_minutes(span: timedelta) -> int:
    return int(span.total_seconds() // 60)


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _as_set(values: Any) -> frozenset[str]:
    if isinstance(values, str):
        return frozenset({values})
    return frozenset(str(v) for v in values)
