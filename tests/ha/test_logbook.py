"""The logbook tells the story of a session in sentences people can read."""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import Context, Event, HomeAssistant
from pytest_homeassistant_custom_component.common import MockUser

from custom_components.school_emergency_share.const import DOMAIN, EVENT_NAME
from custom_components.school_emergency_share.core.events import AuditEvent
from custom_components.school_emergency_share.logbook import (
    async_describe_events,
    describe,
)

from .common import (
    ENTRANCE,
    GYM,
    async_call,
    async_settle,
    async_setup_agreement,
)

USER = {"kind": "user", "id": "abc123", "name": "Principal Skinner", "trigger": None}
AUTOMATION = {
    "kind": "automation",
    "id": "automation.fire_alarm",
    "name": "Fire alarm",
    "trigger": "state of binary_sensor.fire_panel",
}
VIEWER = {"kind": "viewer", "id": "l1", "name": "Unit 12", "trigger": None}
SYSTEM = {"kind": "system", "id": None, "name": "School Emergency Share"}


def test_a_started_session_says_who_why_what_and_until_when() -> None:
    """Reason, incident, cameras and deadline in one sentence."""
    text = describe(
        "session_started",
        USER,
        {
            "reason": "Fire alarm",
            "incident_id": "CAD-9",
            "cameras": [GYM, ENTRANCE],
            "expires_at": "2030-05-01T14:30:00+00:00",
        },
        {GYM: "Gym", ENTRANCE: "Main entrance"}.__getitem__,
    )
    assert text.startswith("sharing started by Principal Skinner: Fire alarm")
    assert "(incident CAD-9)" in text
    assert "cameras: Gym, Main entrance" in text
    assert "until " in text
    assert "T14:30:00" not in text  # local wall-clock time, not a raw timestamp


def test_an_automation_is_named_with_its_trigger() -> None:
    """Who acted, and what set them off."""
    text = describe(
        "session_started",
        AUTOMATION,
        {"reason": "Fire alarm", "cameras": [], "expires_at": "x"},
    )
    assert (
        "automation Fire alarm (triggered by state of binary_sensor.fire_panel)" in text
    )
    assert "cameras: no camera" in text


def test_ended_extended_and_links_read_well() -> None:
    """A few sentences as an auditor would read them."""
    assert (
        describe("session_ended", SYSTEM, {"end_reason": "deadline"})
        == "sharing ended (deadline) by School Emergency Share"
    )
    assert (
        describe(
            "session_ended", USER, {"end_reason": "deactivated", "note": "All clear"}
        )
        == "sharing ended (deactivated) by Principal Skinner: All clear"
    )
    assert describe(
        "session_extended", USER, {"minutes": 15, "expires_at": "2030-05-01T15:00Z"}
    ).startswith("sharing extended by Principal Skinner by 15 min, until ")
    assert (
        describe("link_created", USER, {"label": "Dispatch", "standing": True})
        == "Principal Skinner created a standing viewer link for 'Dispatch'"
    )
    assert (
        describe("link_revoked", USER, {"labels": ["Unit 12", "Dispatch"]})
        == "Principal Skinner revoked viewer links: Unit 12, Dispatch"
    )


def test_viewers_denials_and_recovery_read_well() -> None:
    """Viewer activity, refusals and start-up recovery; never where a viewer is."""
    assert (
        describe("view_started", VIEWER, {"camera": GYM, "address": "198.51.100.4"})
        == "viewer 'Unit 12' started watching camera.gym"
    )
    assert (
        describe("page_opened", VIEWER, {"address": "198.51.100.4"})
        == "viewer 'Unit 12' opened the viewer page"
    )
    assert (
        describe(
            "view_ended",
            VIEWER,
            {"camera": GYM, "duration_s": 42.5, "reason": "session_ended"},
        )
        == "viewer 'Unit 12' stopped watching camera.gym after 42.5 s (session ended)"
    )
    assert (
        describe(
            "access_denied", USER, {"action": "activate", "why": "user_not_permitted"}
        )
        == "access denied to Principal Skinner (activate): user not permitted"
    )
    assert (
        describe("access_denied", None, {"why": "unknown_link", "address": "192.0.2.9"})
        == "access denied to an unknown client: unknown link"
    )
    assert (
        describe("lockout", None, {"address": "192.0.2.9"})
        == "locked out 192.0.2.9 after repeated bad links"
    )
    assert (
        describe("startup_recovery", SYSTEM, {"outcome": "session_ended_while_down"})
        == "after restart: session ended while down"
    )
    assert (
        describe("camera_sharing_changed", USER, {"camera": GYM, "shared": False})
        == "Principal Skinner turned sharing of camera.gym off"
    )
    assert (
        describe(
            "agreement_changed",
            {"kind": "system", "name": "Settings"},
            {"changed": {"valid_until": {}, "cameras": {}}},
        )
        == "agreement changed by Settings: cameras, valid until"
    )
    assert (
        describe("audit_exported", USER, {"records": 12, "chain_valid": False})
        == "Principal Skinner exported 12 audit records (chain BROKEN)"
    )


def test_every_audit_event_has_its_own_sentence() -> None:
    """No event falls back to its bare name."""
    for event in AuditEvent:
        assert describe(event.value, USER, {}) != event.value.replace("_", " "), event


async def test_the_logbook_describes_the_integrations_bus_events(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """What the logbook shows for a real activation, with camera names."""
    described: dict[str, tuple[str, Callable[[Event], dict[str, str]]]] = {}

    def register(
        domain: str, event_type: str, describer: Callable[[Event], dict[str, str]]
    ) -> None:
        described[event_type] = (domain, describer)

    async_describe_events(hass, register)
    assert set(described) == {EVENT_NAME}
    domain, describer = described[EVENT_NAME]
    assert domain == DOMAIN

    seen: list[Event] = []
    hass.bus.async_listen(EVENT_NAME, seen.append)
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=hass_admin_user.id),
        reason="Intruder",
        cameras=[GYM],
    )
    await async_settle(hass)

    (started,) = [e for e in seen if e.data["event"] == "session_started"]
    entry_text = describer(started)
    assert entry_text["name"] == "School Emergency Share"
    assert entry_text["message"].startswith(
        f"sharing started by {hass_admin_user.name}: Intruder; cameras: Gym;"
    )
