"""Who is behind a service call, found from Home Assistant's contexts.

Every call carries a context; automation and script runs carry their own,
whose `parent_id` is the context of what caused them. Home Assistant keeps no
index of contexts, so `ContextMemory` listens to the bus and remembers, for a
while, the contexts that carried a person and the runs that automations and
scripts announced. `async_actor_for` walks a call's chain back through what
is remembered and what the state machine shows (an automation's or script's
state, and the entity a trigger watched, keep the context of their last
change), and `core.attribution` decides who acts.

Home Assistant 2026.x delivers an event fired while another is being
delivered only after that one (2025.x delivered it at once), so a run can
call a service before its `automation_triggered` reaches any listener. The
state machine is written before a run starts, whatever the delivery order;
the bus memory adds what states do not hold (the trigger's description, a
service call's person) and is read after the bus has delivered everything
fired before the call.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Final

from homeassistant.const import ATTR_ENTITY_ID, ATTR_NAME, MATCH_ALL
from homeassistant.core import Context, Event, HomeAssistant, State, callback

from .core.actor import Actor, ActorKind
from .core.attribution import Origin, Run, attribute

EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
EVENT_SCRIPT_STARTED: Final = "script_started"
RUN_DOMAINS: Final = ("automation", "script")
REMEMBERED: Final = 4096
# Runs caused by runs caused by runs...: a cause further back than this is
# taken as unknown.
MAX_CHAIN: Final = 8


class ContextMemory:
    """Recent contexts that carried a person, and recent runs, by context id."""

    def __init__(self) -> None:
        """Remember nothing yet; bounded memory once listening."""
        self._users: OrderedDict[str, str] = OrderedDict()
        self._parents: OrderedDict[str, str] = OrderedDict()
        self._runs: OrderedDict[str, Run] = OrderedDict()

    @callback
    def async_start(self, hass: HomeAssistant) -> None:
        """Listen to every event until Home Assistant stops."""
        hass.bus.async_listen(MATCH_ALL, self._seen)

    @callback
    def _seen(self, event: Event) -> None:
        context = event.context
        if context.user_id is not None:
            _remember(self._users, context.id, context.user_id)
        if context.parent_id is not None:
            _remember(self._parents, context.id, context.parent_id)
        if event.event_type == EVENT_AUTOMATION_TRIGGERED:
            self._runs.pop(context.id, None)  # an automation owns its context
            _remember(self._runs, context.id, _run(ActorKind.AUTOMATION, event))
        elif event.event_type == EVENT_SCRIPT_STARTED and context.id not in self._runs:
            # A script run by an automation shares its context: the
            # automation, and what triggered it, is the run to record.
            _remember(self._runs, context.id, _run(ActorKind.SCRIPT, event))

    def run(self, context_id: str) -> Run | None:
        """The automation or script run announced in this context."""
        return self._runs.get(context_id)

    def user(self, context_id: str) -> str | None:
        """The person a context carried."""
        return self._users.get(context_id)

    def parent(self, context_id: str) -> str | None:
        """The context that caused this one."""
        return self._parents.get(context_id)


def _remember[V](memory: OrderedDict[str, V], key: str, value: V) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > REMEMBERED:
        memory.popitem(last=False)


def _run(kind: ActorKind, event: Event) -> Run:
    return Run(
        kind,
        event.data.get(ATTR_ENTITY_ID),
        event.data.get(ATTR_NAME),
        event.data.get("source") if kind is ActorKind.AUTOMATION else None,
    )


async def async_actor_for(
    hass: HomeAssistant, memory: ContextMemory, context: Context | None
) -> Actor:
    """The actor a decision made in `context` is recorded against."""
    if context is None:
        return Actor.unattributed("no context")
    # Let the bus finish delivering what was fired before this call.
    await asyncio.sleep(0)
    states = _states_by_context(hass)
    chain: list[Origin] = []
    context_id: str | None = context.id
    user_id, parent_id = context.user_id, context.parent_id
    while context_id is not None and len(chain) < MAX_CHAIN:
        state_context = states.get(context_id)
        if user_id is None:
            user_id = memory.user(context_id) or (
                state_context.user_id if state_context else None
            )
        if parent_id is None:
            parent_id = memory.parent(context_id) or (
                state_context.parent_id if state_context else None
            )
        chain.append(
            Origin(
                user_id,
                await _user_name(hass, user_id),
                memory.run(context_id) or _run_from_states(hass, context_id),
            )
        )
        context_id, user_id, parent_id = parent_id, None, None
    return attribute(chain, described_as=_origin_of(context))


def _states_by_context(hass: HomeAssistant) -> dict[str, Context]:
    """Every state's context, by id: the last change of each entity."""
    return {state.context.id: state.context for state in hass.states.async_all()}


def _run_from_states(hass: HomeAssistant, context_id: str) -> Run | None:
    """The automation (first) or script whose state was written in this context.

    An automation writes its state, in its run's context, before the run
    starts; a script called by an automation runs in the automation's context.
    """
    found: State | None = None
    for state in hass.states.async_all(RUN_DOMAINS):
        if state.context.id == context_id and (
            found is None or state.domain == "automation"
        ):
            found = state
    if found is None:
        return None
    kind = ActorKind.AUTOMATION if found.domain == "automation" else ActorKind.SCRIPT
    return Run(kind, found.entity_id, found.name)


async def _user_name(hass: HomeAssistant, user_id: str | None) -> str | None:
    if user_id is None:
        return None
    user = await hass.auth.async_get_user(user_id)
    return user.name if user else None


def _origin_of(context: Context) -> str:
    """What little can be said of an unattributed call, for its refusal."""
    event = context.origin_event
    return f"event {event.event_type}" if event is not None else "unknown"
