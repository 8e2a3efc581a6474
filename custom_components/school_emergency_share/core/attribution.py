"""Who is behind a call: the chain of contexts from the call back to its cause.

Home Assistant gives every call a context. A person's carries their user id;
an automation or script run has a context of its own, whose parent is the
context of whatever caused the run: a person's service call (`automation.
trigger`, `script.turn_on`, toggling the entity a trigger watches), a device's
state change, another run. The Home Assistant side finds what it can of that
chain (`Origin`s, the call's context first); this decides who acts:

- a context with a user and no run: that person;
- a run: the automation or script, with the first person found up its chain,
  if any (who must then be one the agreement names);
- anything else (no user, no known run: a voice satellite, HomeKit, another
  integration): unattributed, which the agreement always refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .actor import Actor, ActorKind


@dataclass(frozen=True, slots=True)
class Run:
    """An automation or script run."""

    kind: ActorKind
    entity_id: str | None
    name: str | None
    trigger: str | None = None


@dataclass(frozen=True, slots=True)
class Origin:
    """What is known of one context: its person, its run (either may be None)."""

    user_id: str | None = None
    user_name: str | None = None
    run: Run | None = None


def attribute(chain: Sequence[Origin], *, described_as: str = "unknown") -> Actor:
    """The actor behind a call whose context chain is `chain` (the call's first).

    `described_as` names the call's origin when nobody can be found behind it.
    """
    if not chain:
        return Actor.unattributed(described_as)
    call = chain[0]
    if call.run is None:
        if call.user_id is None:
            return Actor.unattributed(described_as)
        return Actor.user(call.user_id, call.user_name)
    person = next((origin for origin in chain if origin.user_id is not None), None)
    return Actor(
        call.run.kind,
        call.run.entity_id,
        call.run.name,
        call.run.trigger,
        person.user_id if person else None,
        person.user_name if person else None,
    )
