"""Every refusal of PRODUCT.md, as an administrator calling the services sees it.

A refusal is a translated `ServiceValidationError` and an `access_denied` audit
record that says who asked, for what, and why not.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, MockUser

from custom_components.school_emergency_share.const import DOMAIN

from .common import (
    ENTRANCE,
    LOCKER_ROOM,
    OUTSIDE,
    async_call,
    async_setup_agreement,
    events_named,
    manager_of,
    today,
)

SHARING_SWITCH = (
    "switch.lincoln_high_school_springfield_police_department_emergency_sharing"
)


async def _refused(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    service: str,
    context: Context | None = None,
    **data: Any,
) -> ServiceValidationError:
    """Call a service that must be refused; return the error the caller saw."""
    with pytest.raises(ServiceValidationError) as caught:
        await async_call(hass, service, entry, context=context, **data)
    assert caught.value.translation_domain == DOMAIN
    return caught.value


def _last_denial(entry: MockConfigEntry) -> dict[str, Any]:
    denials = events_named(entry, "access_denied")
    assert denials, "the refusal was not recorded"
    return denials[-1]


def _days(n: int) -> str:
    return (today() + timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("valid_from", "valid_until"),
    [(10, 100), (-100, -1)],
    ids=["not_yet_in_force", "already_ended"],
)
async def test_nothing_can_be_activated_outside_the_agreement_dates(
    hass: HomeAssistant, cameras: object, valid_from: int, valid_until: int
) -> None:
    """Before and after the agreement's dates, activation is refused."""
    entry = await async_setup_agreement(
        hass, valid_from=_days(valid_from), valid_until=_days(valid_until)
    )

    error = await _refused(hass, entry, "activate", reason="Fire alarm")

    assert error.translation_key == "agreement_not_in_force"
    assert error.translation_placeholders == {
        "valid_from": _days(valid_from),
        "valid_until": _days(valid_until),
    }
    denial = _last_denial(entry)
    assert denial["data"]["action"] == "activate"
    assert denial["data"]["why"] == "agreement_not_in_force"
    assert manager_of(entry).session is None
    assert hass.states.get(SHARING_SWITCH).state == "off"  # type: ignore[union-attr]


async def test_a_user_the_agreement_does_not_name_is_refused(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Being a Home Assistant administrator is not enough: the MOU names users."""
    entry = await async_setup_agreement(hass, allowed_users=["someone-else"])

    error = await _refused(
        hass,
        entry,
        "activate",
        context=Context(user_id=hass_admin_user.id),
        reason="Curious",
    )

    assert error.translation_key == "user_not_permitted"
    assert error.translation_placeholders == {"actor": hass_admin_user.name}
    denial = _last_denial(entry)
    assert denial["data"]["why"] == "user_not_permitted"
    assert denial["actor"]["kind"] == "user"
    assert denial["actor"]["id"] == hass_admin_user.id
    assert manager_of(entry).session is None


async def test_a_read_only_user_is_refused(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """Only the named users may act; a read-only user is not one of them."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    error = await _refused(
        hass,
        entry,
        "activate",
        context=Context(user_id=hass_read_only_user.id),
        reason="Fire alarm",
    )

    assert error.translation_key == "user_not_permitted"
    assert _last_denial(entry)["actor"]["id"] == hass_read_only_user.id
    assert manager_of(entry).session is None


async def test_a_user_not_named_can_neither_extend_nor_end_nor_revoke(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_read_only_user: MockUser,
) -> None:
    """Every action on a running session is limited to the named users."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=hass_admin_user.id),
        reason="Fire alarm",
    )
    stranger = Context(user_id=hass_read_only_user.id)

    for service, data in (
        ("extend", {"minutes": 10}),
        ("deactivate", {}),
        ("create_viewer_link", {"label": "Unit 12"}),
        ("revoke_viewer_link", {}),
    ):
        error = await _refused(hass, entry, service, context=stranger, **data)
        assert error.translation_key == "user_not_permitted", service

    assert [d["data"]["action"] for d in events_named(entry, "access_denied")] == [
        "extend",
        "deactivate",
        "create_viewer_link",
        "revoke_viewer_link",
    ]
    assert hass.states.get(SHARING_SWITCH).state == "on"  # type: ignore[union-attr]


async def _activate(
    hass: HomeAssistant, entry: MockConfigEntry, ctx: Context, **data: Any
) -> Any:
    return await async_call(hass, "activate", entry, context=ctx, **data)


@pytest.mark.parametrize(
    ("request_data", "key", "placeholders"),
    [
        ({"duration_minutes": 61}, "duration_too_long", {"maximum": "60"}),
        ({"cameras": [OUTSIDE]}, "camera_not_eligible", {"camera": OUTSIDE}),
        ({"cameras": [LOCKER_ROOM]}, "camera_private", {"camera": LOCKER_ROOM}),
        (
            {"cameras": [ENTRANCE, LOCKER_ROOM]},
            "camera_private",
            {"camera": LOCKER_ROOM},
        ),
        ({"reason": "   "}, "reason_required", {}),
        ({"duration_minutes": -5}, "duration_invalid", {}),
        ({"duration_minutes": 0}, "duration_invalid", {}),
    ],
    ids=[
        "duration_too_long",
        "camera_not_eligible",
        "camera_private",
        "private_among_others",
        "reason_required",
        "duration_negative",
        "duration_zero",
    ],
)
async def test_activation_outside_the_rules_is_refused_even_for_a_named_user(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    request_data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Too long, uncovered or private cameras, no reason: refused and recorded."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    error = await _refused(
        hass,
        entry,
        "activate",
        context=Context(user_id=hass_admin_user.id),
        **({"reason": "Fire alarm"} | request_data),
    )

    assert error.translation_key == key
    assert error.translation_placeholders == placeholders
    denial = _last_denial(entry)
    assert denial["data"] == {"action": "activate", "why": key, **placeholders}
    assert manager_of(entry).session is None
    assert events_named(entry, "session_started") == []


async def test_a_second_activation_is_refused_in_favour_of_extend(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """An active session is not replaced; its deadline stays as it was."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    first = await _activate(hass, entry, ctx, reason="Fire alarm")

    error = await _refused(hass, entry, "activate", context=ctx, reason="Again")

    assert error.translation_key == "already_active"
    assert _last_denial(entry)["data"]["why"] == "already_active"
    session = manager_of(entry).session
    assert session is not None
    assert session.id == first["session_id"]
    assert session.expires_at.isoformat() == first["expires_at"]


@pytest.mark.parametrize(
    ("service", "data"),
    [("deactivate", {}), ("extend", {"minutes": 10})],
)
async def test_ending_or_extending_with_no_session_is_refused(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    service: str,
    data: dict[str, Any],
) -> None:
    """With nothing running there is nothing to end or extend."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    error = await _refused(
        hass, entry, service, context=Context(user_id=hass_admin_user.id), **data
    )

    assert error.translation_key == "no_active_session"
    denial = _last_denial(entry)
    assert denial["data"] == {"action": service, "why": "no_active_session"}


async def test_ending_an_ended_session_is_refused(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """After deactivate the session is over: a second deactivate is refused."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await _activate(hass, entry, ctx, reason="Drill")
    await async_call(hass, "deactivate", entry, context=ctx, reason="All clear")

    error = await _refused(hass, entry, "deactivate", context=ctx)
    assert error.translation_key == "no_active_session"


async def test_extending_past_the_cap_is_refused_with_what_is_left(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The cap is the agreement's; the error says how many minutes remain."""
    entry = await async_setup_agreement(
        hass, allowed_users=[hass_admin_user.id], max_extension_minutes=30
    )
    ctx = Context(user_id=hass_admin_user.id)
    await _activate(hass, entry, ctx, reason="Fire alarm")
    await async_call(hass, "extend", entry, context=ctx, minutes=20)

    error = await _refused(hass, entry, "extend", context=ctx, minutes=11)

    assert error.translation_key == "extension_over_cap"
    assert error.translation_placeholders == {"remaining": "10"}
    assert _last_denial(entry)["data"] == {
        "action": "extend",
        "why": "extension_over_cap",
        "remaining": "10",
    }


async def test_revoking_an_unknown_link_is_refused(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A link id that does not exist is named in the error."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    error = await _refused(
        hass,
        entry,
        "revoke_viewer_link",
        context=Context(user_id=hass_admin_user.id),
        link_id="0123456789ab",
    )

    assert error.translation_key == "link_not_found"
    assert error.translation_placeholders == {"link_id": "0123456789ab"}
    assert _last_denial(entry)["data"]["why"] == "link_not_found"


async def test_a_session_link_needs_an_active_session(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Only standing links may be issued while idle."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])

    error = await _refused(
        hass,
        entry,
        "create_viewer_link",
        context=Context(user_id=hass_admin_user.id),
        label="Dispatch desk",
    )

    assert error.translation_key == "no_active_session"
    assert manager_of(entry).state.links == {}


async def test_an_unknown_agreement_is_refused(
    hass: HomeAssistant, cameras: object
) -> None:
    """A config_entry_id that is not an agreement is a validation error."""
    await async_setup_agreement(hass)
    with pytest.raises(ServiceValidationError) as caught:
        await hass.services.async_call(
            DOMAIN,
            "activate",
            {"config_entry_id": "not-an-entry", "reason": "x"},
            blocking=True,
            return_response=True,
        )
    assert caught.value.translation_key == "entry_not_found"


async def test_the_refusal_reads_as_a_sentence(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Logs, traces and the API show the translated message, not a bare key."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    error = await _refused(
        hass,
        entry,
        "activate",
        context=Context(user_id=hass_admin_user.id),
        reason="Fire alarm",
        duration_minutes=90,
    )
    # Home Assistant drops the closing full stop of translated messages.
    assert str(error) == "The agreement allows sessions of at most 60 minutes"


async def test_an_unloaded_agreement_refuses_with_a_clear_error(
    hass: HomeAssistant, cameras: object
) -> None:
    """A disabled or unloaded agreement cannot be acted under."""
    entry = await async_setup_agreement(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    error = await _refused(hass, entry, "activate", reason="Fire alarm")

    assert error.translation_key == "entry_not_loaded"
    assert error.translation_placeholders == {"title": entry.title}
