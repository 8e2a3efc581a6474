"""Repair issues an administrator must see: dates, lost cameras, unreadable state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from .const import AGREEMENT_ENDING_WARNING, DOMAIN
from .core.agreement import Agreement


@callback
def async_set_issue(
    hass: HomeAssistant,
    entry_id: str,
    key: str,
    placeholders: Mapping[str, str] | None,
    *,
    severity: ir.IssueSeverity = ir.IssueSeverity.ERROR,
    persistent: bool = False,
    translation_key: str | None = None,
) -> None:
    """Raise the agreement's issue `key` with `placeholders`; None clears it.

    One issue per key and agreement (`<key>_<entry id>`); raising it again
    replaces its text. `translation_key` (default `key`) lets one issue say
    different things over time, such as a failure and then its recovery.
    """
    issue_id = f"{key}_{entry_id}"
    if placeholders is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=persistent,
        severity=severity,
        translation_key=translation_key or key,
        translation_placeholders=dict(placeholders),
    )


@callback
def async_check_agreement_dates(
    hass: HomeAssistant, entry: ConfigEntry[Any], agreement: Agreement, now: datetime
) -> None:
    """Warn within 30 days of the agreement's end; say so once it has ended."""
    placeholders = {
        "title": entry.title,
        "agency": agreement.agency,
        "valid_until": agreement.valid_until.isoformat(),
    }
    ended = now >= agreement.ends_at
    ending = not ended and now >= agreement.ends_at - AGREEMENT_ENDING_WARNING
    days = str(max(0, (agreement.ends_at - now).days))
    async_set_issue(
        hass, entry.entry_id, "agreement_ended", placeholders if ended else None
    )
    async_set_issue(
        hass,
        entry.entry_id,
        "agreement_ending",
        {**placeholders, "days": days} if ending else None,
        severity=ir.IssueSeverity.WARNING,
    )


@callback
def async_check_cameras_exist(
    hass: HomeAssistant, entry: ConfigEntry[Any], agreement: Agreement
) -> list[str]:
    """Raise an issue naming the agreement's cameras that no longer exist."""
    registry = er.async_get(hass)
    missing = sorted(
        camera
        for camera in agreement.cameras | agreement.private_cameras
        if registry.async_get(camera) is None and hass.states.get(camera) is None
    )
    async_set_issue(
        hass,
        entry.entry_id,
        "camera_missing",
        {"title": entry.title, "cameras": ", ".join(missing)} if missing else None,
        severity=ir.IssueSeverity.WARNING,
    )
    return missing


@callback
def async_set_state_unreadable(
    hass: HomeAssistant, entry: ConfigEntry[Any], error: str | None
) -> None:
    """Say that saved state could not be read and sharing failed closed."""
    async_set_issue(
        hass,
        entry.entry_id,
        "state_unreadable",
        {"title": entry.title, "error": error} if error is not None else None,
        persistent=True,
    )


@callback
def async_set_state_not_saved(
    hass: HomeAssistant, entry: ConfigEntry[Any], error: str | None
) -> None:
    """Say that the sharing state could not be saved (None: it was, again)."""
    async_set_issue(
        hass,
        entry.entry_id,
        "state_not_saved",
        {"title": entry.title, "error": error} if error is not None else None,
    )


@callback
def async_delete_entry_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every issue of a deleted agreement."""
    for prefix in (
        "agreement_ending",
        "agreement_ended",
        "camera_missing",
        "state_unreadable",
        "state_not_saved",
        "audit_chain_broken",
        "audit_write_failed",
    ):
        ir.async_delete_issue(hass, DOMAIN, f"{prefix}_{entry_id}")
