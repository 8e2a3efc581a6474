"""Who is behind a service call: a user, or the automation or script that ran it.

A call that carries a user id comes from a person (dashboard, app, API). A call
without one was made inside Home Assistant; automations and scripts announce
their runs on the bus with the context they run in, which is how the caller's
automation, and what triggered it, are found.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Final

from homeassistant.const import ATTR_ENTITY_ID, ATTR_NAME
from homeassistant.core import Context, Event, HomeAssistant, callback

from .core.actor import Actor, ActorKind

EVENT_AUTOMATION_TRIGGERED: Final = "automation_triggered"
EVENT_SCRIPT_STARTED: Final = "script_started"
_REMEMBERED_RUNS: Final = 256


class RunTracker:
    """Remembers which automation or script started recent contexts."""

    def __init__(self) -> None:
        """Keep a bounded memory of recent runs."""
        self._runs: OrderedDict[str, Actor] = OrderedDict()

    @callback
    def async_start(self, hass: HomeAssistant) -> None:
        """Listen for automation and script runs until Home Assistant stops."""
        hass.bus.async_listen(EVENT_AUTOMATION_TRIGGERED, self._remember_automation)
        hass.bus.async_listen(EVENT_SCRIPT_STARTED, self._remember_script)

    @callback
    def _remember_automation(self, event: Event) -> None:
        self._remember(event, ActorKind.AUTOMATION, event.data.get("source"))

    @callback
    def _remember_script(self, event: Event) -> None:
        # A script run by an automation shares its context: the automation,
        # and what triggered it, is the caller to record.
        if event.context.user_id is None and event.context.id not in self._runs:
            self._remember(event, ActorKind.SCRIPT, None)

    def _remember(self, event: Event, kind: ActorKind, trigger: str | None) -> None:
        self._runs[event.context.id] = Actor(
            kind,
            event.data.get(ATTR_ENTITY_ID),
            event.data.get(ATTR_NAME),
            trigger,
        )
        while len(self._runs) > _REMEMBERED_RUNS:
            self._runs.popitem(last=False)

    def lookup(self, context: Context) -> Actor | None:
        """The automation or script that runs in `context`, if known."""
        for context_id in (context.id, context.parent_id):
            if context_id is not None and (actor := self._runs.get(context_id)):
                return actor
        return None


async def async_actor_for(
    hass: HomeAssistant, tracker: RunTracker, context: Context | None
) -> Actor:
    """The actor a decision is recorded against."""
    if context is not None and context.user_id is not None:
        user = await hass.auth.async_get_user(context.user_id)
        return Actor.user(context.user_id, user.name if user else None)
    if context is not None and (run := tracker.lookup(context)):
        return run
    return Actor(ActorKind.SYSTEM, None, "Home Assistant")
