"""notify_admins_actionable.yaml: phones are told, and a tap extends or ends."""

from __future__ import annotations

from datetime import timedelta

from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.util import dt as dt_util
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_mock_service,
)

from tests.ha.common import async_settle, events_named, manager_of, state_value

from .common import async_setup_agreement_with_blueprints, async_use_blueprints

SWITCH = "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
EXTEND = f"SCHOOL_EMERGENCY_SHARE_EXTEND:{SWITCH}"
END = f"SCHOOL_EMERGENCY_SHARE_END:{SWITCH}"
PRINCIPAL = "person.principal_skinner"


async def _notifying(
    hass: HomeAssistant, admin: MockUser
) -> tuple[MockConfigEntry, list[ServiceCall], list[ServiceCall]]:
    """The agreement (the admin may act), two phones, the principal may respond."""
    entry = await async_setup_agreement_with_blueprints(hass, allowed_users=[admin.id])
    hass.states.async_set(
        PRINCIPAL, "home", {"friendly_name": "Principal Skinner", "user_id": admin.id}
    )
    principal_phone = async_mock_service(hass, "notify", "mobile_app_principal_phone")
    vice_phone = async_mock_service(hass, "notify", "mobile_app_vice_principal")
    await async_use_blueprints(
        hass,
        (
            "Tell administrators",
            "notify_admins_actionable.yaml",
            {
                "sharing_switch": SWITCH,
                "notify_actions": [
                    "notify.mobile_app_principal_phone",
                    "mobile_app_vice_principal",
                ],
                "responders": [PRINCIPAL],
            },
        ),
    )
    return entry, principal_phone, vice_phone


async def _start_from_dashboard(hass: HomeAssistant, admin: MockUser) -> None:
    await hass.services.async_call(
        "switch",
        "turn_on",
        {"entity_id": SWITCH},
        blocking=True,
        context=Context(user_id=admin.id),
    )
    await async_settle(hass)


async def _tap(hass: HomeAssistant, action: str, user_id: str | None) -> None:
    """What the Companion app fires when a notification button is tapped."""
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action},
        context=Context(user_id=user_id),
    )
    await async_settle(hass)


async def test_every_phone_gets_the_notification_with_both_buttons(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Sharing starts: each notify action gets Extend 15 min and End sharing."""
    entry, principal_phone, vice_phone = await _notifying(hass, hass_admin_user)
    await _start_from_dashboard(hass, hass_admin_user)

    assert len(principal_phone) == 1
    assert len(vice_phone) == 1
    call = principal_phone[0]
    assert call.data["title"] == "Emergency sharing started"
    session = manager_of(entry).session
    assert session is not None
    until = dt_util.as_local(session.expires_at).strftime("%H:%M")
    assert call.data["message"] == (
        "Lincoln High School - Springfield Police Department: "
        f"police can see the shared cameras until {until}."
    )
    assert call.data["data"]["actions"] == [
        {"action": EXTEND, "title": "Extend 15 min"},
        {"action": END, "title": "End sharing", "destructive": True},
    ]
    assert call.data["data"]["tag"] == f"school_emergency_share_{entry.entry_id}"
    assert vice_phone[0].data == call.data


async def test_tapping_extend_adds_15_minutes(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The session's deadline moves by 15 minutes; the log says who did it."""
    entry, _, _ = await _notifying(hass, hass_admin_user)
    await _start_from_dashboard(hass, hass_admin_user)
    session = manager_of(entry).session
    assert session is not None
    deadline = session.expires_at

    await _tap(hass, EXTEND, hass_admin_user.id)

    session = manager_of(entry).session
    assert session is not None
    assert session.expires_at == deadline + timedelta(minutes=15)
    (extended,) = events_named(entry, "session_extended")
    assert extended["data"]["minutes"] == 15
    assert extended["actor"]["name"] == "Tell administrators"
    assert extended["actor"]["trigger"] == "event 'mobile_app_notification_action'"


async def test_tapping_end_ends_sharing_and_names_who_tapped(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The session ends; the reason names the person behind the tap."""
    entry, _, _ = await _notifying(hass, hass_admin_user)
    await _start_from_dashboard(hass, hass_admin_user)

    await _tap(hass, END, hass_admin_user.id)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["note"] == (
        "Ended from the phone notification by Principal Skinner"
    )


async def test_taps_by_anyone_else_or_for_another_agreement_do_nothing(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """Not a listed responder, no user, or another switch's action: ignored."""
    entry, _, _ = await _notifying(hass, hass_admin_user)
    await _start_from_dashboard(hass, hass_admin_user)
    session = manager_of(entry).session
    assert session is not None

    await _tap(hass, END, hass_read_only_user.id)
    await _tap(hass, EXTEND, None)
    await _tap(
        hass,
        "SCHOOL_EMERGENCY_SHARE_END:switch.other_school_emergency_sharing",
        hass_admin_user.id,
    )

    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert manager_of(entry).session == session
    assert events_named(entry, "session_extended") == []


async def test_a_tap_after_sharing_ended_changes_nothing(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """An old notification's buttons do not reach the integration at all."""
    entry, principal_phone, _ = await _notifying(hass, hass_admin_user)
    await _start_from_dashboard(hass, hass_admin_user)
    await _tap(hass, END, hass_admin_user.id)

    await _tap(hass, EXTEND, hass_admin_user.id)
    await _tap(hass, END, hass_admin_user.id)

    assert len(events_named(entry, "session_ended")) == 1
    assert events_named(entry, "access_denied") == []
    assert len(principal_phone) == 1
