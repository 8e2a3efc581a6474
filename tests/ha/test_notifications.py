"""Start, extend and end are announced to the agreement's notify targets."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.school_emergency_share.const import DOMAIN
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.session import Session

from .common import (
    ENTRANCE,
    GYM,
    agreement_options,
    async_call,
    async_settle,
    async_setup_agreement,
    events_named,
    persistent_notice,
)


def _until(expires_at: object) -> str:
    local = dt_util.as_local(datetime.fromisoformat(str(expires_at)))
    return f"{local:%H:%M}"


async def _agreement_with_ops_desk(
    hass: HomeAssistant, user: MockUser
) -> tuple[MockConfigEntry, Context, list[ServiceCall]]:
    messages = async_mock_service(hass, "notify", "school_ops")
    entry = await async_setup_agreement(
        hass, allowed_users=[user.id], notify_targets=["notify.school_ops"]
    )
    return entry, Context(user_id=user.id), messages


async def test_start_extend_and_end_each_send_one_message_that_says_it_all(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Who, why, which cameras (by name) and until when, each time."""
    entry, ctx, messages = await _agreement_with_ops_desk(hass, hass_admin_user)

    started = await async_call(
        hass,
        "activate",
        entry,
        context=ctx,
        reason="Smoke in the science wing",
        cameras=[ENTRANCE, GYM],
        incident_id="CAD-77",
        duration_minutes=30,
    )
    await async_settle(hass)
    assert started is not None
    assert len(messages) == 1
    text = messages[0].data["message"]
    assert "started" in messages[0].data["title"]
    assert "Lincoln High School" in messages[0].data["title"]
    assert hass_admin_user.name is not None
    assert hass_admin_user.name in text
    assert "Smoke in the science wing" in text
    assert "CAD-77" in text
    assert "Main entrance" in text
    assert "Gym" in text
    assert "Library" not in text
    assert "Springfield Police Department" in text
    assert _until(started["expires_at"]) in text

    extended = await async_call(hass, "extend", entry, context=ctx, minutes=15)
    await async_settle(hass)
    assert extended is not None
    assert len(messages) == 2
    text = messages[1].data["message"]
    assert "extended" in messages[1].data["title"]
    assert hass_admin_user.name in text
    assert "Smoke in the science wing" in text
    assert "Main entrance" in text
    assert _until(extended["expires_at"]) in text

    await async_call(hass, "deactivate", entry, context=ctx, reason="All clear")
    await async_settle(hass)
    assert len(messages) == 3
    text = messages[2].data["message"]
    assert "ended" in messages[2].data["title"]
    assert hass_admin_user.name in text
    assert "deactivated" in text
    assert '"All clear"' in text
    assert "Main entrance" in text
    assert "Smoke in the science wing" in text
    assert _until(dt_util.utcnow().isoformat()) in text


async def test_the_persistent_notification_follows_the_session(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """One notification per agreement, replaced at each step."""
    entry, ctx, _ = await _agreement_with_ops_desk(hass, hass_admin_user)
    assert persistent_notice(hass, entry) == {}

    await async_call(hass, "activate", entry, context=ctx, reason="Lockdown drill")
    await async_settle(hass)
    notice = persistent_notice(hass, entry)
    assert notice["notification_id"] == f"{DOMAIN}_{entry.entry_id}"
    assert "started" in notice["title"]
    assert "Lockdown drill" in notice["message"]

    await async_call(hass, "deactivate", entry, context=ctx)
    await async_settle(hass)
    assert "ended" in persistent_notice(hass, entry)["title"]


async def test_a_refused_request_sends_nothing(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Only what happened is announced."""
    entry, ctx, messages = await _agreement_with_ops_desk(hass, hass_admin_user)
    with pytest.raises(ServiceValidationError):
        await async_call(hass, "extend", entry, context=ctx, minutes=5)
    await async_settle(hass)
    assert messages == []


async def test_a_missing_notify_target_does_not_stop_sharing(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A target that is gone is skipped; the others are still told."""
    messages = async_mock_service(hass, "notify", "school_ops")
    entry = await async_setup_agreement(
        hass,
        allowed_users=[hass_admin_user.id],
        notify_targets=["notify.retired_pager", "notify.school_ops"],
    )
    response = await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=hass_admin_user.id),
        reason="Fire alarm",
    )
    await async_settle(hass)
    assert response is not None
    assert len(messages) == 1


async def test_a_notify_entity_target_gets_the_message(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Newer notify entities are sent to with notify.send_message."""
    sent = async_mock_service(hass, "notify", "send_message")
    hass.states.async_set("notify.dispatch_screen", "unknown")
    entry = await async_setup_agreement(
        hass,
        allowed_users=[hass_admin_user.id],
        notify_targets=["notify.dispatch_screen"],
    )
    await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=hass_admin_user.id),
        reason="Intruder",
    )
    await async_settle(hass)
    assert len(sent) == 1
    assert (
        sent[0].data["entity_id"] == ["notify.dispatch_screen"]
        or sent[0].data["entity_id"] == "notify.dispatch_screen"
    )
    assert "Intruder" in sent[0].data["message"]


async def test_a_session_ended_while_down_is_announced(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """The school hears that sharing ended even if it ended during a restart."""
    messages = async_mock_service(hass, "notify", "school_ops")
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High School - Springfield Police Department",
        data={},
        options=agreement_options(notify_targets=["notify.school_ops"]),
    )
    entry.add_to_hass(hass)
    deadline = dt_util.utcnow() - timedelta(minutes=5)
    session = Session(
        id="s1",
        started_at=deadline - timedelta(hours=1),
        expires_at=deadline,
        original_expires_at=deadline,
        cameras=frozenset({GYM}),
        reason="Fire alarm",
        started_by=Actor.user(hass_admin_user.id, hass_admin_user.name),
    )
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": {"session": session.as_dict(), "links": [], "disabled_cameras": []},
    }

    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)

    assert len(messages) == 1
    assert "ended" in messages[0].data["title"]


async def test_the_end_at_the_deadline_is_announced_as_the_systems_doing(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Nobody pressed anything: the notice says the deadline ended it."""
    entry, ctx, messages = await _agreement_with_ops_desk(hass, hass_admin_user)
    started = await async_call(
        hass, "activate", entry, context=ctx, reason="Fire", duration_minutes=5
    )
    assert started is not None

    freezer.move_to(
        datetime.fromisoformat(str(started["expires_at"])) + timedelta(seconds=1)
    )
    async_fire_time_changed(hass)
    await async_settle(hass)

    text = messages[-1].data["message"]
    assert "(deadline), by School Emergency Share." in text


async def test_the_end_notice_carries_the_audit_logs_head_as_a_witness(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The agency keeps the seq and hash the school's log must still hold."""
    entry, ctx, messages = await _agreement_with_ops_desk(hass, hass_admin_user)
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")
    await async_call(hass, "deactivate", entry, context=ctx, reason="Over")
    await async_settle(hass)

    (ended,) = events_named(entry, "session_ended")
    text = messages[-1].data["message"]
    assert f"record {ended['seq']}, hash {ended['hash']}" in text
    check = await async_call(hass, "export_audit", entry, context=ctx)
    assert check is not None
    assert (check["head_seq"], check["head_hash"]) == (ended["seq"], ended["hash"])
