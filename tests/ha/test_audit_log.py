"""The audit log as the board sees it: exported, verified, and kept for a while."""

from __future__ import annotations

from datetime import timedelta
import json
from pathlib import Path

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockUser,
    async_fire_time_changed,
)

from custom_components.school_emergency_share.const import EVENT_NAME

from .common import (
    OPERATOR_ID,
    TEACHER_ID,
    async_call,
    async_settle,
    async_setup_agreement,
    audit_records,
    events_named,
    manager_of,
)


async def test_export_writes_the_whole_log_and_says_it_verifies(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """The export holds every record; the export itself is recorded too."""
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    ctx = Context(user_id=hass_admin_user.id)
    await async_call(hass, "activate", entry, context=ctx, reason="Drill")
    await async_call(hass, "deactivate", entry, context=ctx)
    before = len(audit_records(entry))

    response = await async_call(hass, "export_audit", entry, context=ctx)

    assert response is not None
    assert response["chain_valid"] is True
    assert response["records"] == before
    exported = Path(str(response["path"])).read_text().splitlines()
    assert [json.loads(line)["event"] for line in exported][:3] == [
        "agreement_created",
        "session_started",
        "session_ended",
    ]
    (record,) = events_named(entry, "audit_exported")
    assert record["actor"]["id"] == hass_admin_user.id
    assert record["data"]["records"] == before
    assert record["data"]["chain_valid"] is True


async def test_every_record_is_announced_on_the_bus(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """Automations and the logbook hear of each record, in order."""
    heard: list[dict[str, object]] = []
    hass.bus.async_listen(EVENT_NAME, lambda event: heard.append(dict(event.data)))
    entry = await async_setup_agreement(hass, allowed_users=[hass_admin_user.id])
    await async_call(
        hass,
        "activate",
        entry,
        context=Context(user_id=hass_admin_user.id),
        reason="Drill",
    )
    await async_settle(hass)

    on_disk = audit_records(entry)
    assert [event["seq"] for event in heard] == [r["seq"] for r in on_disk]
    assert [event["event"] for event in heard] == [r["event"] for r in on_disk]
    assert all(event["config_entry_id"] == entry.entry_id for event in heard)


async def test_records_past_retention_are_pruned_and_the_rest_still_verifies(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After the retention period the hourly housekeeping drops old records."""
    entry = await async_setup_agreement(
        hass, allowed_users=[hass_admin_user.id], retention_days=2
    )
    ctx = Context(user_id=hass_admin_user.id)
    await async_call(hass, "activate", entry, context=ctx, reason="Old drill")
    await async_call(hass, "deactivate", entry, context=ctx)
    old = {r["seq"] for r in audit_records(entry)}

    freezer.move_to(dt_util.utcnow() + timedelta(days=3))
    await async_call(hass, "activate", entry, context=ctx, reason="New drill")
    async_fire_time_changed(hass)
    await async_settle(hass)

    remaining = audit_records(entry)
    assert not old & {r["seq"] for r in remaining}
    assert [
        r["data"]["reason"] for r in remaining if r["event"] == "session_started"
    ] == ["New drill"]
    response = await async_call(hass, "export_audit", entry, context=ctx)
    assert response is not None
    assert response["chain_valid"] is True


async def test_only_named_users_and_administrators_may_export(
    hass: HomeAssistant, cameras: object, hass_admin_user: MockUser
) -> None:
    """A teacher's account cannot copy the log; the refusal is recorded."""
    entry = await async_setup_agreement(hass)

    with pytest.raises(ServiceValidationError) as refused:
        await async_call(hass, "export_audit", entry, Context(user_id=TEACHER_ID))
    with pytest.raises(ServiceValidationError):
        await async_call(hass, "export_audit", entry, Context())

    assert refused.value.translation_key == "export_not_permitted"
    assert [r["data"]["why"] for r in events_named(entry, "access_denied")] == [
        "export_not_permitted",
        "export_not_permitted",
    ]
    assert events_named(entry, "audit_exported") == []
    named = await async_call(hass, "export_audit", entry, Context(user_id=OPERATOR_ID))
    admin = await async_call(
        hass, "export_audit", entry, Context(user_id=hass_admin_user.id)
    )
    assert named is not None
    assert admin is not None


async def test_exports_are_bounded_in_number_and_follow_retention(
    hass: HomeAssistant, cameras: object, freezer: FrozenDateTimeFactory
) -> None:
    """A loop of exports cannot fill the disk; old exports go with old records."""
    entry = await async_setup_agreement(hass, retention_days=30)
    for _ in range(25):
        await async_call(hass, "export_audit", entry)
        freezer.tick(timedelta(seconds=1))
    exports = Path(hass.config.path("school_emergency_share", "exports"))
    assert len(list(exports.glob(f"{entry.entry_id}-*.jsonl"))) == 20
    assert len(list(exports.glob(f"{entry.entry_id}-*.csv"))) == 20

    freezer.tick(timedelta(days=31))
    await manager_of(entry).audit.async_prune(dt_util.utcnow() - timedelta(days=30))
    assert list(exports.glob(f"{entry.entry_id}-*")) == []
