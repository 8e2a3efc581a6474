"""police_request_actionable.yaml: phones hear of a police request; a tap answers.

The tap acts as the person whose phone it is (the Companion app's user is the
context of its notification action): a named person's Approve starts sharing,
recorded as theirs; anyone else's tap is refused by the agreement itself.
"""

from __future__ import annotations

from homeassistant.core import Context, HomeAssistant, ServiceCall
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_mock_service,
)

from custom_components.school_emergency_share.core.actor import Actor, ActorKind
from custom_components.school_emergency_share.core.links import LinkRequest
from tests.ha.common import (
    OPERATOR_ID,
    TEACHER_ID,
    async_settle,
    events_named,
    manager_of,
    state_value,
)

from .common import async_setup_agreement_with_blueprints, async_use_blueprints

SWITCH = "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
APPROVE = f"SCHOOL_EMERGENCY_SHARE_APPROVE:{SWITCH}"
DENY = f"SCHOOL_EMERGENCY_SHARE_DENY:{SWITCH}"


async def _asked(hass: HomeAssistant) -> tuple[MockConfigEntry, list[ServiceCall]]:
    """The blueprint in use, and an officer's request waiting."""
    entry = await async_setup_agreement_with_blueprints(hass)
    phone = async_mock_service(hass, "notify", "mobile_app_principal_phone")
    await async_use_blueprints(
        hass,
        (
            "Police requests to phones",
            "police_request_actionable.yaml",
            {
                "sharing_switch": SWITCH,
                "notify_actions": ["mobile_app_principal_phone"],
            },
        ),
    )
    manager = manager_of(entry)
    link, _token = await manager.async_create_link(
        Actor.user(OPERATOR_ID, "School operator"),
        LinkRequest("Unit 12", standing=True),
    )
    await manager.async_ask(
        Actor(ActorKind.VIEWER, link.id, link.label),
        link.id,
        officer="Unit 12 Diaz",
        reason="Weapon reported near the gym",
    )
    await async_settle(hass)
    return entry, phone


async def test_the_phone_shows_who_asks_why_with_approve_and_deny(
    hass: HomeAssistant, cameras: object
) -> None:
    """One notification per phone, both buttons, the officer's words."""
    _entry, phone = await _asked(hass)

    (sent,) = phone
    assert "Unit 12 Diaz" in sent.data["message"]
    assert "Weapon reported near the gym" in sent.data["message"]
    actions = [action["action"] for action in sent.data["data"]["actions"]]
    assert actions == [APPROVE, DENY]


async def _tap(hass: HomeAssistant, action: str, user_id: str) -> None:
    """What the companion app fires when `user_id` taps `action` on the phone."""
    hass.bus.async_fire(
        "mobile_app_notification_action",
        {"action": action},
        context=Context(user_id=user_id),
    )
    await async_settle(hass)


async def test_a_named_persons_approve_starts_sharing_as_theirs(
    hass: HomeAssistant, cameras: object
) -> None:
    """The audit log names who tapped."""
    entry, _phone = await _asked(hass)

    await _tap(hass, APPROVE, OPERATOR_ID)

    assert state_value(hass, entry, "emergency_sharing") == "on"
    (approved,) = events_named(entry, "request_approved")
    assert approved["actor"]["kind"] == "automation"
    assert approved["actor"]["person"]["id"] == OPERATOR_ID


async def test_a_tap_from_someone_the_agreement_does_not_name_is_refused(
    hass: HomeAssistant, cameras: object
) -> None:
    """A teacher's phone cannot approve; the request still waits."""
    entry, _phone = await _asked(hass)

    await _tap(hass, APPROVE, TEACHER_ID)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert state_value(hass, entry, "police_request") == "pending"
    (denied,) = events_named(entry, "access_denied")
    assert denied["data"]["why"] == "user_not_permitted"
    assert denied["actor"]["person"]["id"] == TEACHER_ID


async def test_deny_from_the_phone_answers_the_request(
    hass: HomeAssistant, cameras: object
) -> None:
    """The officer's page learns it was denied."""
    entry, _phone = await _asked(hass)

    await _tap(hass, DENY, OPERATOR_ID)

    assert state_value(hass, entry, "police_request") == "denied"
