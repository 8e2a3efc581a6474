"""Who acts: a person, an automation or script run (and its cause), or the system."""

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
    # A call no person and no automation or script run can be found behind
    # (a voice satellite, HomeKit, another integration): always refused.
    UNATTRIBUTED = "unattributed"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller behind a decision, as it is recorded in the audit log.

    For an automation or script run, `person_id` / `person_name` name the
    Home Assistant user who caused the run (ran it, triggered it, toggled
    what triggers it), when one did.
    """

    kind: ActorKind
    id: str | None = None
    name: str | None = None
    # For runs: the entity or description of what triggered them.
    trigger: str | None = None
    person_id: str | None = None
    person_name: str | None = None

    @classmethod
    def user(cls, user_id: str, name: str | None) -> Self:
        """A Home Assistant user."""
        return cls(ActorKind.USER, user_id, name)

    @classmethod
    def system(cls, name: str = "School Emergency Share") -> Self:
        """The integration itself (deadline, start-up recovery, unload)."""
        return cls(ActorKind.SYSTEM, None, name)

    @classmethod
    def unattributed(cls, origin: str) -> Self:
        """A caller nothing is known of; `origin` says what little is."""
        return cls(ActorKind.UNATTRIBUTED, None, origin)

    @property
    def is_run(self) -> bool:
        """An automation or script run."""
        return self.kind in (ActorKind.AUTOMATION, ActorKind.SCRIPT)

    def describe(self) -> str:
        """A short human description for notifications and the logbook."""
        label = self.name or self.id or self.kind.value
        if self.kind is ActorKind.USER:
            return label
        text = f"{self.kind.value} {label}"
        if self.trigger:
            text += f" (triggered by {self.trigger})"
        if self.person_id is not None:
            text += f", caused by {self.person_name or self.person_id}"
        return text

    def as_dict(self) -> dict[str, Any]:
        """Serialise for storage and the audit log."""
        return {
            "kind": self.kind.value,
            "id": self.id,
            "name": self.name,
            "trigger": self.trigger,
            "person": (
                {"id": self.person_id, "name": self.person_name}
                if self.person_id is not None
                else None
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """Read back what `as_dict` wrote (older records have no `person`)."""
        if not isinstance(data, dict):
            raise TypeError("an actor must be an object")
        person = data.get("person")
        if person is not None and not isinstance(person, dict):
            raise TypeError("an actor's person must be an object")
        return cls(
            ActorKind(data["kind"]),
            data.get("id"),
            data.get("name"),
            data.get("trigger"),
            person.get("id") if person else None,
            person.get("name") if person else None,
        )
