"""Readable logbook entries for the audit events announced on the bus."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.util import dt as dt_util

from .const import DOMAIN, EVENT_NAME

NAME = "School Emergency Share"


def _who(actor: dict[str, Any] | None) -> str:
    if not actor:
        return "an unknown client"
    name = actor.get("name") or actor.get("id") or actor.get("kind", "someone")
    kind = actor.get("kind")
    if kind == "viewer":
        return f"viewer '{name}'"
    if kind in ("automation", "script"):
        trigger = actor.get("trigger")
        return f"{kind} {name}" + (f" (triggered by {trigger})" if trigger else "")
    return str(name)


def _words(value: Any) -> str:
    return str(value or "").replace("_", " ")


def _when(value: Any) -> str:
    """An audit timestamp as local wall-clock time, like the notifications."""
    try:
        moment = dt_util.as_local(datetime.fromisoformat(str(value)))
    except ValueError:
        return str(value)
    return f"{moment:%H:%M} ({moment:%Y-%m-%d})"


def describe(  # noqa: C901, PLR0911, PLR0912 - a sentence per event
    event: str,
    actor: dict[str, Any] | None,
    data: dict[str, Any],
    camera_name: Callable[[str], str] = str,
) -> str:
    """One sentence for an audit event; `camera_name` turns ids into names."""
    who = _who(actor)
    get = data.get

    def camera(value: Any) -> str:
        return camera_name(str(value)) if value else "the viewer page"

    match event:
        case "session_started":
            incident = f" (incident {get('incident_id')})" if get("incident_id") else ""
            cameras = ", ".join(camera(c) for c in get("cameras") or []) or "no camera"
            return (
                f"sharing started by {who}: {get('reason')}{incident}; "
                f"cameras: {cameras}; until {_when(get('expires_at'))}"
            )
        case "session_extended":
            return (
                f"sharing extended by {who} by {get('minutes')} min, "
                f"until {_when(get('expires_at'))}"
            )
        case "session_ended":
            note = f": {get('note')}" if get("note") else ""
            return f"sharing ended ({_words(get('end_reason'))}) by {who}{note}"
        case "link_created":
            kind = "a standing viewer link" if get("standing") else "a viewer link"
            return f"{who} created {kind} for '{get('label')}'"
        case "link_revoked":
            labels = ", ".join(get("labels") or []) or "none"
            return f"{who} revoked viewer links: {labels}"
        case "page_opened":
            return f"{who} opened the viewer page"
        case "view_started":
            return f"{who} started watching {camera(get('camera'))}"
        case "view_ended":
            return (
                f"{who} stopped watching {camera(get('camera'))} after "
                f"{get('duration_s')} s ({_words(get('reason'))})"
            )
        case "snapshot_viewed":
            return f"{who} took a snapshot of {camera(get('camera'))}"
        case "access_denied":
            action = f" ({_words(get('action'))})" if get("action") else ""
            return f"access denied to {who}{action}: {_words(get('why'))}"
        case "lockout":
            return f"locked out {get('address')} after repeated bad links"
        case "camera_sharing_changed":
            on_off = "on" if get("shared") else "off"
            return f"{who} turned sharing of {camera(get('camera'))} {on_off}"
        case "agreement_created":
            return "agreement added; audit log started"
        case "agreement_changed":
            changed = ", ".join(_words(k) for k in sorted(get("changed") or {}))
            return f"agreement changed by {who}: {changed or 'nothing'}"
        case "startup_recovery":
            return f"after restart: {_words(get('outcome'))}"
        case "audit_exported":
            chain = "valid" if get("chain_valid") else "BROKEN"
            return f"{who} exported {get('records')} audit records (chain {chain})"
        case "request_created":
            return (
                f"{get('officer')} asked for camera access from link "
                f"'{get('label')}': {get('reason')}"
            )
        case "request_approved":
            return f"{who} approved the request of {get('officer')}"
        case "request_denied":
            note = f": {get('note')}" if get("note") else ""
            return f"{who} denied the request of {get('officer')}{note}"
        case "request_expired":
            return f"the request of {get('officer')} expired unanswered"
        case "link_sent":
            return f"{who} sent the viewer link '{get('label')}' to {get('target')}"
        case "audit_tail_repaired":
            return (
                "audit log: an unfinished record after "
                f"#{get('after_seq')} was set aside after a crash"
            )
    return _words(event)


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[[str, str, Callable[[Event], dict[str, str]]], None],
) -> None:
    """Describe `school_emergency_share_event` in the logbook."""

    @callback
    def describe_event(event: Event) -> dict[str, str]:
        data = event.data
        return {
            LOGBOOK_ENTRY_NAME: NAME,
            LOGBOOK_ENTRY_MESSAGE: describe(
                data.get("event", ""),
                data.get("actor"),
                data.get("data") or {},
                camera_name,
            ),
        }

    def camera_name(entity_id: str) -> str:
        state = hass.states.get(entity_id)
        return state.name if state is not None else entity_id

    async_describe_event(DOMAIN, EVENT_NAME, describe_event)
