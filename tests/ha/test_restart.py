"""What survives a restart, and what happens when saved state cannot be read.

A restart is simulated by saving state in `hass_storage` before the agreement
starts: unloading an agreement ends its session by contract, so a real unload
is only used for what must outlive it (links, camera switches).
"""

from __future__ import annotations

from datetime import datetime, timedelta
import json
from pathlib import Path
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    MockUser,
    async_fire_time_changed,
)

from custom_components.school_emergency_share.const import DOMAIN
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.session import Session

from .common import (
    ENTRANCE,
    GYM,
    LIBRARY,
    agreement_options,
    async_call,
    async_settle,
    async_setup_agreement,
    entity_id_of,
    events_named,
    manager_of,
    state_value,
)


def _added_agreement(hass: HomeAssistant, **overrides: Any) -> MockConfigEntry:
    """An agreement added but not started yet (Home Assistant is 'restarting')."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Lincoln High School - Springfield Police Department",
        data={},
        options=agreement_options(**overrides),
        unique_id="lincoln_high_school__springfield_police_department",
    )
    entry.add_to_hass(hass)
    return entry


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)


def _saved_session(
    user: MockUser, *, started: datetime, expires: datetime
) -> dict[str, Any]:
    return Session(
        id="feedc0ffee",
        started_at=started,
        expires_at=expires,
        original_expires_at=expires,
        cameras=frozenset({ENTRANCE, GYM, LIBRARY}),
        reason="Fire alarm",
        started_by=Actor.user(user.id, user.name),
    ).as_dict()


def _seed(hass_storage: dict[str, Any], entry: MockConfigEntry, data: Any) -> None:
    hass_storage[f"{DOMAIN}.{entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{entry.entry_id}",
        "data": data,
    }


def _seconds(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


async def test_a_running_session_survives_a_restart_with_its_deadline(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Restored with the same deadline, and still ended by it."""
    now = dt_util.utcnow()
    deadline = now + timedelta(minutes=20)
    entry = _added_agreement(hass, allowed_users=[hass_admin_user.id])
    _seed(
        hass_storage,
        entry,
        {
            "session": _saved_session(
                hass_admin_user, started=now - timedelta(minutes=40), expires=deadline
            ),
            "links": [],
            "disabled_cameras": [],
        },
    )

    await _start(hass, entry)

    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert state_value(hass, entry, "session_state") == "active"
    assert state_value(hass, entry, "session_expires") == _seconds(deadline)
    assert manager_of(entry).shared_cameras() == {ENTRANCE, GYM, LIBRARY}
    (recovery,) = events_named(entry, "startup_recovery")
    assert recovery["data"]["outcome"] == "session_restored"
    assert recovery["data"]["session_id"] == "feedc0ffee"
    assert events_named(entry, "session_ended") == []

    freezer.move_to(deadline + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deadline"
    assert ended["data"]["session_id"] == "feedc0ffee"


async def test_a_session_whose_deadline_passed_while_down_is_ended_at_start(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """Nothing is shared after the restart, and the record says why."""
    now = dt_util.utcnow()
    deadline = now - timedelta(minutes=5)
    entry = _added_agreement(hass)
    _seed(
        hass_storage,
        entry,
        {
            "session": _saved_session(
                hass_admin_user, started=deadline - timedelta(hours=1), expires=deadline
            ),
            "links": [],
            "disabled_cameras": [],
        },
    )

    await _start(hass, entry)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert state_value(hass, entry, "session_state") == "ended"
    assert manager_of(entry).shared_cameras() == frozenset()
    (recovery,) = events_named(entry, "startup_recovery")
    assert recovery["data"]["outcome"] == "session_ended_while_down"
    assert recovery["data"]["expires_at"] == deadline.isoformat()
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "deadline_passed_while_down"
    assert ended["data"]["ended_at"] == deadline.isoformat()
    saved = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]["session"]
    assert saved["end_reason"] == "deadline_passed_while_down"


async def test_a_session_whose_agreement_ended_while_down_is_ended_at_start(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """An agreement that is over ends its session at start-up."""
    now = dt_util.utcnow()
    today = dt_util.now().date()
    entry = _added_agreement(
        hass,
        valid_from=(today - timedelta(days=30)).isoformat(),
        valid_until=(today - timedelta(days=1)).isoformat(),
    )
    _seed(
        hass_storage,
        entry,
        {
            "session": _saved_session(
                hass_admin_user,
                started=now - timedelta(minutes=5),
                expires=now + timedelta(minutes=30),
            ),
            "links": [],
            "disabled_cameras": [],
        },
    )

    await _start(hass, entry)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    (recovery,) = events_named(entry, "startup_recovery")
    assert recovery["data"]["outcome"] == "session_ended_agreement"
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "agreement_ended"


async def test_links_and_camera_switches_outlive_unloading_the_agreement(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A standing link and a camera switched off are still there after a reload."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    link = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Dispatch", standing=True
    )
    assert link is not None
    link_id = str(link["link_id"])
    await hass.services.async_call(
        "switch",
        "turn_off",
        {ATTR_ENTITY_ID: entity_id_of(hass, entry, f"camera:{GYM}")},
        blocking=True,
        context=ctx,
    )

    assert await hass.config_entries.async_unload(entry.entry_id)
    await async_settle(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)

    manager = manager_of(entry)
    assert manager.state.links.get(link_id) is not None
    assert state_value(hass, entry, f"camera:{GYM}") == "off"
    await async_call(hass, "activate", entry, context=ctx, reason="Intruder")
    assert manager.check_access(link_id, None, dt_util.utcnow()) is None
    assert GYM not in manager.shared_cameras()


async def test_unloading_ends_the_running_session(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """An unloaded agreement shares nothing; after loading again it is idle."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")

    assert await hass.config_entries.async_unload(entry.entry_id)
    await async_settle(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)

    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["end_reason"] == "unloaded"
    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert state_value(hass, entry, "session_state") == "ended"


# ----------------------------------------------------------------- fail closed

LINK_ID = "a1b2c3d4e5f6"
GOOD_LINK = {
    "id": LINK_ID,
    "token_hash": "0" * 64,
    "label": "Dispatch",
    "created_at": "2025-01-01T00:00:00+00:00",
    "created_by": {"kind": "system", "id": None, "name": "x", "trigger": None},
    "standing": True,
    "session_id": None,
    "expires_at": None,
    "cameras": None,
    "revoked_at": None,
}


@pytest.mark.parametrize(
    "data",
    [
        {"session": {"id": "x", "reason": "no dates"}, "links": []},
        {"session": "garbage", "links": [GOOD_LINK]},
        {"session": None, "links": 5},
        {"session": None, "links": [{**GOOD_LINK, "token_hash": "short"}]},
        "garbage",
        {
            "session": {
                "id": "x",
                "started_at": "2025-01-01T00:00:00",
                "expires_at": "2099-01-01T00:00:00",
                "original_expires_at": "2099-01-01T00:00:00",
                "cameras": [GYM],
                "reason": "naive times",
                "started_by": {"kind": "system"},
            },
            "links": [GOOD_LINK],
        },
        {
            "session": None,
            "links": [{**GOOD_LINK, "created_by": {"kind": "pirate"}}],
        },
        {"session": None, "links": [{**GOOD_LINK, "expires_at": "2099-01-01T00:00"}]},
    ],
    ids=[
        "session_missing_keys",
        "session_not_a_mapping",
        "links_not_a_list",
        "token_hash_malformed",
        "data_a_string",
        "session_naive_times",
        "unknown_actor_kind",
        "link_naive_times",
    ],
)
async def test_unreadable_state_fails_closed_and_tells_the_administrator(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
    data: Any,
) -> None:
    """No session, no link, a repair issue and a record; sharing still works after."""
    entry = _added_agreement(hass, allowed_users=[hass_admin_user.id])
    _seed(hass_storage, entry, data)

    await _start(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    _assert_failed_closed(hass, entry)
    await _assert_sharing_works_again(hass, entry, hass_admin_user)


async def test_a_store_that_cannot_be_read_fails_closed(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A read error (disk, permissions) is treated like corrupt data."""

    class BrokenStore(Store[dict[str, Any]]):
        async def async_load(self) -> dict[str, Any] | None:
            raise OSError("Input/output error")

    entry = _added_agreement(hass, allowed_users=[hass_admin_user.id])
    with patch("custom_components.school_emergency_share.storage.Store", BrokenStore):
        await _start(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    _assert_failed_closed(hass, entry)
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_unreadable_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert "Input/output error" in issue.translation_placeholders["error"]
    await _assert_sharing_works_again(hass, entry, hass_admin_user)


async def test_a_state_file_that_loads_as_nothing_fails_closed(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A file is there but the store returns nothing (as after corrupt JSON)."""
    entry = _added_agreement(hass, allowed_users=[hass_admin_user.id])
    path = hass.config.path(".storage", f"{DOMAIN}.{entry.entry_id}")
    await hass.async_add_executor_job(_write, path, '{"version": 1, "data": {"sess')

    await _start(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    _assert_failed_closed(hass, entry)
    await _assert_sharing_works_again(hass, entry, hass_admin_user)


async def test_malformed_state_is_kept_aside_as_evidence(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_storage: dict[str, Any],
) -> None:
    """The unreadable file is moved aside, not overwritten by the next save."""
    entry = _added_agreement(hass, allowed_users=[hass_admin_user.id])
    bad = {"session": {"id": "x"}, "links": []}
    _seed(hass_storage, entry, bad)
    path = hass.config.path(".storage", f"{DOMAIN}.{entry.entry_id}")
    await hass.async_add_executor_job(_write, path, json.dumps({"data": bad}))

    await _start(hass, entry)

    _assert_failed_closed(hass, entry)
    kept = await hass.async_add_executor_job(_unreadable_copies, path)
    assert len(kept) == 1
    assert json.loads(kept[0].read_text()) == {"data": bad}


def _unreadable_copies(path: str) -> list[Path]:
    return sorted(Path(path).parent.glob(f"{Path(path).name}.unreadable.*"))


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


def _assert_failed_closed(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    manager = manager_of(entry)
    assert manager.state_unreadable
    assert manager.session is None
    assert manager.state.links == {}
    assert manager.check_access(LINK_ID, None, dt_util.utcnow()) is not None
    assert state_value(hass, entry, "emergency_sharing") == "off"
    issue = ir.async_get(hass).async_get_issue(
        DOMAIN, f"state_unreadable_{entry.entry_id}"
    )
    assert issue is not None
    assert issue.severity is ir.IssueSeverity.ERROR
    (recovery,) = events_named(entry, "startup_recovery")
    assert recovery["data"]["outcome"] == "state_unreadable"
    assert recovery["data"]["error"]


async def _assert_sharing_works_again(
    hass: HomeAssistant, entry: MockConfigEntry, user: MockUser
) -> None:
    response = await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=user.id),
        reason="After the repair",
    )
    assert response is not None
    assert response["session_id"] != "feedc0ffee"
    assert state_value(hass, entry, "emergency_sharing") == "on"
