"""When the disk fails, the rules still hold; when the log is cut, it shows.

Writes are made to fail for real, at the file layer (`os.write` in the audit
writer's thread, Home Assistant's store's save): what opens access is refused,
what closes it takes effect at once and reaches the log once it can be
written, and nothing closed comes undone by a restart. A log cut short (with
its head file rewritten to match) is caught by the witness kept in Home
Assistant's storage, before and after a restart.
"""

from __future__ import annotations

from collections.abc import Iterator
import contextlib
import errno
import json
import os
from pathlib import Path
import threading
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.school_emergency_share.const import DOMAIN
from custom_components.school_emergency_share.manager import AgreementManager
from custom_components.school_emergency_share.storage import StateStore

from .common import (
    GYM,
    async_call,
    async_settle,
    async_setup_agreement,
    audit_records,
    events_named,
    manager_of,
    state_value,
)
from .viewing import Client, async_link, read_parts, wait_closed


@contextlib.contextmanager
def disk_failing() -> Iterator[None]:
    """Every audit write fails with an I/O error until the block ends."""
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if threading.current_thread().name.startswith("ses-audit-"):
            raise OSError(errno.EIO, "Input/output error")
        return real_write(fd, data)

    with patch.object(os, "write", write):
        yield


@contextlib.contextmanager
def store_failing() -> Iterator[None]:
    """Home Assistant's store cannot save the sharing state."""
    with patch.object(
        StateStore, "async_save", AsyncMock(side_effect=OSError(errno.ENOSPC, "full"))
    ):
        yield


async def restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Stop the agreement as Home Assistant stopping does, then start it again."""
    # A stop keeps the session for the restart; unloading would end it.
    with patch.object(AgreementManager, "_end", AsyncMock()):
        assert await hass.config_entries.async_unload(entry.entry_id)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)


def issue(hass: HomeAssistant, name: str, entry: MockConfigEntry) -> ir.IssueEntry:
    """A repair issue of the agreement, which must exist."""
    found = ir.async_get(hass).async_get_issue(DOMAIN, f"{name}_{entry.entry_id}")
    assert found is not None, name
    return found


async def test_a_failing_log_refuses_what_opens_access_and_says_so(
    hass: HomeAssistant, cameras: object
) -> None:
    """No session, no extension, no link while access cannot be recorded."""
    entry = await async_setup_agreement(hass)

    with disk_failing(), pytest.raises(HomeAssistantError) as refused:
        await async_call(hass, "activate", entry, reason="Lockdown")

    assert refused.value.translation_key == "audit_unavailable"
    assert state_value(hass, entry, "emergency_sharing") == "off"
    failed = issue(hass, "audit_write_failed", entry)
    assert failed.translation_key == "audit_write_failed"
    assert failed.severity is ir.IssueSeverity.CRITICAL
    await async_call(hass, "activate", entry, reason="Lockdown")
    with disk_failing(), pytest.raises(HomeAssistantError):
        await async_call(hass, "extend", entry, minutes=10)
    with disk_failing(), pytest.raises(HomeAssistantError):
        await async_call(hass, "create_viewer_link", entry, label="Unit 7")
    assert [r["event"] for r in audit_records(entry)].count("link_created") == 0


async def test_a_failing_log_turns_viewers_away_but_ending_still_closes_streams(
    hass: HomeAssistant, cameras: object, client: Client
) -> None:
    """Ending works at once on a failing disk, and is recorded once it works."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _link_id, path = await async_link(hass, entry)
    watching = await client.get(f"{path}/mjpeg/{GYM}")
    assert watching.status == 200
    await read_parts(watching, 1)

    with disk_failing():
        refused = await client.get(f"{path}/mjpeg/{GYM}")
        snapshot = await client.get(f"{path}/snapshot/{GYM}")
        await async_call(hass, "deactivate", entry, reason="All clear")
        await wait_closed(watching, timeout=10.0)  # how fast: the bench measures
        in_log_while_failing = events_named(entry, "session_ended")

    assert refused.status == 503
    assert (await refused.json())["error"] == "audit_unavailable"
    assert snapshot.status == 503
    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert in_log_while_failing == []
    # The next record written carries the late one first, with its own time.
    await async_call(hass, "revoke_viewer_link", entry)
    await async_settle(hass)
    events = [record["event"] for record in audit_records(entry)]
    assert events.index("session_ended") < events.index("link_revoked")
    (ended,) = events_named(entry, "session_ended")
    assert ended["data"]["note"] == "All clear"
    assert issue(hass, "audit_write_failed", entry).translation_key == (
        "audit_write_recovered"
    )
    check = await async_call(hass, "export_audit", entry)
    assert check is not None
    assert check["chain_valid"] is True


async def test_a_revocation_the_store_could_not_save_survives_a_restart(
    hass: HomeAssistant, cameras: object, client: Client
) -> None:
    """The audit log holds it; start-up applies it again."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    link_id, path = await async_link(hass, entry, standing=True)

    with store_failing():
        await async_call(hass, "revoke_viewer_link", entry, link_id=link_id)
    assert (await client.get(f"{path}/cameras.json")).status == 401
    assert issue(hass, "state_not_saved", entry).severity is ir.IssueSeverity.ERROR

    await restart(hass, entry)

    assert (await client.get(f"{path}/cameras.json")).status == 401
    (replayed,) = [
        r
        for r in events_named(entry, "startup_recovery")
        if r["data"]["outcome"] == "closures_replayed"
    ]
    assert replayed["data"]["links_revoked"] == [link_id]


async def test_an_end_the_store_could_not_save_survives_a_restart(
    hass: HomeAssistant, cameras: object, client: Client
) -> None:
    """A session ended on a failing store does not come back after a restart."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _link_id, path = await async_link(hass, entry, standing=True)

    with store_failing():
        await async_call(hass, "deactivate", entry, reason="All clear")
    await restart(hass, entry)

    assert state_value(hass, entry, "emergency_sharing") == "off"
    assert (await client.get(f"{path}/cameras.json")).status == 403
    session = manager_of(entry).session
    assert session is not None
    assert session.end_note == "All clear"


def cut_log(path: Path, records: int) -> int:
    """Drop the last `records` lines and rewrite the head file to match.

    Returns the seq now last in the log.
    """
    lines = path.read_text().splitlines(keepends=True)[:-records]
    path.write_text("".join(lines))
    last = json.loads(lines[-1])
    head = path.with_name(path.name + ".head")
    head.write_text(json.dumps({"seq": last["seq"], "hash": last["hash"]}))
    return int(last["seq"])


async def test_a_log_cut_short_with_its_head_file_is_caught_by_the_witness(
    hass: HomeAssistant, cameras: object
) -> None:
    """The head file alone would agree; the stored head does not."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    await async_call(hass, "deactivate", entry, reason="All clear")
    await async_settle(hass)
    last = cut_log(manager_of(entry).audit.path, 2)

    check = await async_call(hass, "export_audit", entry)

    assert check is not None
    assert check["chain_valid"] is False
    assert check["problem"] == "behind_witness"
    assert check["head_seq"] == last
    broken = issue(hass, "audit_chain_broken", entry)
    assert broken.translation_placeholders is not None
    assert broken.translation_placeholders["problem"] == "behind_witness"


async def test_a_log_cut_short_while_down_is_caught_at_start(
    hass: HomeAssistant, cameras: object
) -> None:
    """After a restart the log still reads as cut, and a repair issue says so."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    await async_call(hass, "deactivate", entry, reason="All clear")
    await async_settle(hass)
    log = manager_of(entry).audit.path
    with patch.object(AgreementManager, "_end", AsyncMock()):
        assert await hass.config_entries.async_unload(entry.entry_id)
    cut_log(log, 2)

    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)

    broken = issue(hass, "audit_chain_broken", entry)
    assert broken.translation_placeholders is not None
    assert broken.translation_placeholders["problem"] == "behind_witness"
    check = await async_call(hass, "export_audit", entry)
    assert check is not None
    assert check["chain_valid"] is False
    # New records go on after the highest seq ever written: the hole stays.
    seqs = [record["seq"] for record in audit_records(entry)]
    assert seqs[-1] - seqs[-2] > 1
