"""Diagnostics download for an agreement, with anything sensitive redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .data import ShareConfigEntry

# Token digests are credentials' fingerprints; addresses and user agents are
# personal data of viewers; user ids, names and notify targets identify staff;
# link labels name officers; reasons are free text typed during an emergency.
TO_REDACT = {
    "token_hash",
    "address",
    "user_agent",
    "allowed_users",
    "notify_targets",
    "id",
    "name",
    "trigger",
    "label",
    "reason",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ShareConfigEntry
) -> dict[str, Any]:
    """The agreement, its session, links, viewers, camera readers and audit chain."""
    manager = entry.runtime_data
    check = await manager.audit.async_verify()
    now = dt_util.utcnow()
    return {
        "options": async_redact_data(dict(entry.options), TO_REDACT),
        "now": now.isoformat(),
        "session_open": manager.session_open(now),
        "state_unreadable": manager.state_unreadable,
        "state": async_redact_data(manager.state.as_dict(), TO_REDACT),
        "shared_cameras": sorted(manager.shared_cameras()),
        "viewers": async_redact_data(
            {"viewers": manager.connections.viewers(private=True)}, TO_REDACT
        ),
        "camera_readers": manager.streams.statuses(),
        "audit": check.as_dict(),
    }
