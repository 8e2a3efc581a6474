"""Readable logbook entries for the audit events announced on the bus."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.core import Event, HomeAssistant, callback

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


def describe(event: str, actor: dict[str, Any] | None, data: dict[str, Any]) -> str:  # noqa: C901, PLR0911, PLR0912 - a sentence per event
    """One sentence for an audit event."""
    who = _who(actor)
    get = data.get
    match event:
        case "session_started":
            incident = f" (incident {get('incident_id')})" if get("incident_id") else ""
            cameras = ", ".join(get("cameras") or []) or "no camera"
            return (
                f"sharing started by {who}: {get('reason')}{incident}; "
                f"cameras: {cameras}; until {get('expires_at')}"
            )
        case "session_extended":
            return (
                f"sharing extended by {who} by {get('minutes')} min, "
                f"until {get('expires_at')}"
            )
        case "session_ended":
            return f"sharing ended ({_words(get('end_reason'))}) by {who}"
        case "link_created":
            kind = "a standing viewer link" if get("standing") else "a viewer link"
            return f"{who} created {kind} for '{get('label')}'"
        case "link_revoked":
            labels = ", ".join(get("labels") or []) or "none"
            return f"{who} revoked viewer links: {labels}"
        case "page_opened":
            return f"{who} opened the viewer page from {get('address')}"
        case "view_started":
            what = get("camera") or "the viewer page"
            return f"{who} started watching {what} from {get('address')}"
        case "view_ended":
            return (
                f"{who} stopped watching {get('camera')} after "
                f"{get('duration_s')} s ({_words(get('reason'))})"
            )
        case "snapshot_viewed":
            return f"{who} took a snapshot of {get('camera')}"
        case "access_denied":
            return f"access denied to {who}: {_words(get('why'))}"
        case "lockout":
            return f"locked out {get('address')} after repeated bad links"
        case "camera_sharing_changed":
            on_off = "on" if get("shared") else "off"
            return f"{who} turned sharing of {get('camera')} {on_off}"
        case "agreement_changed":
            changed = ", ".join(sorted(get("changed") or {})) or "nothing"
            return f"agreement changed: {changed}"
        case "startup_recovery":
            return f"after restart: {_words(get('outcome'))}"
        case "audit_exported":
            chain = "valid" if get("chain_valid") else "BROKEN"
            return f"{who} exported {get('records')} audit records (chain {chain})"
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
                data.get("event", ""), data.get("actor"), data.get("data") or {}
            ),
        }

    async_describe_event(DOMAIN, EVENT_NAME, describe_event)
