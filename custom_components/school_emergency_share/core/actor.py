"""Who asked: a named user, an automation or script, or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Self


class ActorKind(StrEnum):
    """The kinds of callers the agreement knows."""

    USER = "user"
    AUTOMATION = "automation"
    SCRIPT = "script"
    SYSTEM = "system"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller behind a decision, as it is recorded in the audit log."""

    kind: ActorKind
    id: str | None = None
    name: str | None = None
    # For automations: the entity or description of what triggered them.
    trigger: str | None = None

    @classmethod
    def user(cls, user_id: str, name: str | None) -> Self:
        """A Home Assistant user."""
        return cls(ActorKind.USER, user_id, name)

    @classmethod
    def system(cls, name: str = "School Emergency Share") -> Self:
        """The integration itself (deadline, start-up recovery, unload)."""
        return cls(ActorKind.SYSTEM, None, name)

    @property
    def is_internal(self) -> bool:
        """Automations, scripts and the system run inside Home Assistant."""
        return self.kind in (ActorKind.AUTOMATION, ActorKind.SCRIPT, ActorKind.SYSTEM)

    def describe(self) -> str:
        """A short human description for notifications and the logbook."""
        label = self.name or self.id or self.kind.value
        if self.kind is ActorKind.USER:
            return label
        if self.trigger:
            return f"{self.kind.value} {label} (triggered by {self.trigger})"
        return f"{self.kind.value} {label}"

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the audit log."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "name": self.name,
            "trigger": self.trigger,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote."""
        return cls(
            ActorKind(data["kind"]),
            data.get("id"),
            data.get("name"),
            data.get("trigger"),
        )
