"""Repair issues an administrator must see: dates, lost cameras, unreadable state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er, issue_registry as ir

from .const import AGREEMENT_ENDING_WARNING, DOMAIN
from .core.agreement import Agreement


@callback
def async_check_agreement_dates(
    hass: HomeAssistant, entry: ConfigEntry[Any], agreement: Agreement, now: datetime
) -> None:
    """Warn within 30 days of the agreement's end; say so once it has ended."""
    ending, ended = (
        f"agreement_ending_{entry.entry_id}",
        f"agreement_ended_{entry.entry_id}",
    )
    placeholders = {
        "title": entry.title,
        "agency": agreement.agency,
        "valid_until": agreement.valid_until.isoformat(),
    }
    if now >= agreement.ends_at:
        ir.async_delete_issue(hass, DOMAIN, ending)
        ir.async_create_issue(
            hass,
            DOMAIN,
            ended,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="agreement_ended",
            translation_placeholders=placeholders,
        )
        return
    ir.async_delete_issue(hass, DOMAIN, ended)
    if now >= agreement.ends_at - AGREEMENT_ENDING_WARNING:
        days = max(0, (agreement.ends_at - now).days)
        ir.async_create_issue(
            hass,
            DOMAIN,
            ending,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="agreement_ending",
            translation_placeholders={**placeholders, "days": str(days)},
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, ending)


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
    issue_id = f"camera_missing_{entry.entry_id}"
    if missing:
        ir.async_create_issue(
            hass,
            DOMAIN,
            issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="camera_missing",
            translation_placeholders={
                "title": entry.title,
                "cameras": ", ".join(missing),
            },
        )
    else:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
    return missing


@callback
def async_set_state_unreadable(
    hass: HomeAssistant, entry: ConfigEntry[Any], error: str | None
) -> None:
    """Say that saved state could not be read and sharing failed closed."""
    issue_id = f"state_unreadable_{entry.entry_id}"
    if error is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        is_persistent=True,
        severity=ir.IssueSeverity.ERROR,
        translation_key="state_unreadable",
        translation_placeholders={"title": entry.title, "error": error},
    )


@callback
def async_set_state_not_saved(
    hass: HomeAssistant, entry: ConfigEntry[Any], error: str | None
) -> None:
    """Say that the sharing state could not be saved (None: it was, again)."""
    issue_id = f"state_not_saved_{entry.entry_id}"
    if error is None:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    ir.async_create_issue(
        hass,
        DOMAIN,
        issue_id,
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="state_not_saved",
        translation_placeholders={"title": entry.title, "error": error},
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
