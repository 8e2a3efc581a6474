"""A session survives Home Assistant stopping, and what happened while down counts.

One real Home Assistant, stopped with SIGTERM or killed with SIGKILL and
started again on the same config dir, port and token.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
import json

import aiohttp
import pytest

from testbed.deployment import verify_chain
from testbed.errors import ApiError

from .site import Site, read_parts

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(240),
]

BURST = 300
CONCURRENCY = 16
ACKNOWLEDGED_BEFORE_KILL = 25


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


async def _cameras_status(site: Site, path: str) -> int:
    status, _, _ = await site.deployment.viewer_get(f"{path}/cameras.json")
    return status


async def test_a_restart_mid_session_keeps_the_deadline_and_the_links(
    site: Site,
) -> None:
    """SIGTERM and start: the same deadline; both links open and stream."""
    dep = site.deployment
    await dep.ensure_idle()
    activation = await dep.activate("Restart drill", duration_minutes=30)
    session_link = await dep.link("Unit 7")
    expires = dep.entities["session_expires"]
    before = await dep.state(expires)
    assert before is not None
    assert _instant(before["state"]) == _instant(activation["expires_at"]).replace(
        microsecond=0
    )

    await dep.restart()  # SIGTERM, then the same config dir and port

    after = await dep.state(expires)
    assert after is not None
    assert _instant(after["state"]) == _instant(before["state"])
    for link in (session_link, site.standing):
        assert await _cameras_status(site, link.path) == 200
        stats = await read_parts(site, link, 3)
        assert stats.parts >= 3, stats.end
    restored = [
        record
        for record in dep.audit_records()
        if record["event"] == "startup_recovery"
        and record["data"]["session_id"] == activation["session_id"]
    ]
    assert [r["data"]["outcome"] for r in restored] == ["session_restored"]
    await dep.deactivate()


async def test_a_deadline_that_passed_while_down_ends_the_session_at_start_up(
    site: Site,
) -> None:
    """Ended at start-up, links refused, recovery on record."""
    dep = site.deployment
    await dep.ensure_idle()
    activation = await dep.activate("Down drill", duration_minutes=30)
    session_link = await dep.link("Unit 9")
    await dep.client.close()
    await dep.hass.stop()

    # While Home Assistant is down, its saved deadline goes by.
    saved = json.loads(dep.storage_path.read_text())
    session = saved["data"]["session"]
    assert session["id"] == activation["session_id"]
    deadline = datetime.now(UTC) - timedelta(minutes=5)
    session["started_at"] = (deadline - timedelta(minutes=30)).isoformat()
    session["expires_at"] = session["original_expires_at"] = deadline.isoformat()
    dep.storage_path.write_text(json.dumps(saved))

    await dep.start_again()

    state = await dep.state(dep.entities["session_state"])
    sharing = await dep.state(dep.entities["emergency_sharing"])
    assert state is not None
    assert state["state"] == "ended"
    assert sharing is not None
    assert sharing["state"] == "off"
    assert await _cameras_status(site, session_link.path) == 401
    assert await _cameras_status(site, site.standing.path) == 403
    records = dep.audit_records()
    recovery = [
        r["data"]["outcome"]
        for r in records
        if r["event"] == "startup_recovery"
        and r["data"]["session_id"] == activation["session_id"]
    ]
    assert recovery == ["session_ended_while_down"]
    ended = [
        r["data"]["end_reason"]
        for r in records
        if r["event"] == "session_ended"
        and r["data"]["session_id"] == activation["session_id"]
    ]
    assert ended == ["deadline_passed_while_down"]


async def test_sigkill_during_audit_writes_loses_no_acknowledged_record(
    site: Site,
) -> None:
    """Every link whose response arrived is in a chain that still verifies."""
    dep = site.deployment
    await dep.wait_saved()  # as after a while: Home Assistant's own state is on disk
    acknowledged: list[str] = []
    gate = asyncio.Semaphore(CONCURRENCY)

    async def create(number: int) -> None:
        async with gate:
            response = await dep.service(
                "create_viewer_link",
                response=True,
                label=f"Burst {number}",
                standing=True,
            )
        # Answered only after its link_created record was fsynced.
        acknowledged.append(str(response["link_id"]))

    loop = asyncio.get_running_loop()
    burst = [loop.create_task(create(number)) for number in range(BURST)]
    async with asyncio.timeout(60):
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL:
            await asyncio.sleep(0.005)
    await dep.hass.kill()  # SIGKILL mid-burst
    in_flight = sum(1 for task in burst if not task.done())
    outcomes = await asyncio.gather(*burst, return_exceptions=True)
    assert in_flight > 0, "the burst finished before the kill"
    assert all(
        isinstance(outcome, (aiohttp.ClientError, ApiError, OSError)) or outcome is None
        for outcome in outcomes
    ), outcomes
    acked = set(acknowledged)

    await dep.client.close()
    await dep.start_again()

    # An auditor's own check, as README.md describes it.
    records = verify_chain(dep.audit_path.read_text().splitlines())
    created = {r["data"]["link_id"] for r in records if r["event"] == "link_created"}
    assert acked <= created, sorted(acked - created)
    assert len(acked) >= ACKNOWLEDGED_BEFORE_KILL


async def test_home_assistant_keeps_its_port_across_restarts(site: Site) -> None:
    """Its HTTP settings were confirmed: no revert to port 8123 five minutes in.

    Home Assistant 2026.10 takes `http:` from configuration.yaml as a pending
    config that reverts, with a restart, unless confirmed
    (`HassClient.confirm_http_config`, called once after onboarding).
    """
    http = await site.deployment.client.ws("http/config")
    assert http["active_config_type"] == "stable"
    assert http["pending"] is None
    assert http["revert_at"] is None
    assert http["stable"]["server_port"] == site.hass.port
