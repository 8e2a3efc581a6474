"""Limits a viewer meets: streams per link and address, snapshots, and privacy.

One link used from one address is one viewer. It may hold a few streams at
once (a dispatch screen with several tiles), not any number; its snapshots
count as viewing and are rate-limited; where it watches from is in the audit
log only, never in what every Home Assistant user can read.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import ClientResponse
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest

from custom_components.school_emergency_share.const import URL_PREFIX

from .common import (
    GYM,
    LIBRARY,
    StillCamera,
    async_call,
    async_settle,
    async_setup_agreement,
    entity_id_of,
    events_named,
)
from .viewing import Client, async_link, get, read_parts


async def test_one_viewer_may_hold_a_few_streams_not_any_number(
    hass: HomeAssistant, client: Client
) -> None:
    """The cap's next stream is a 429; closing one makes room again."""
    entry = await async_setup_agreement(hass, max_streams_per_viewer=3)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _link_id, path = await async_link(hass, entry)
    streams: list[ClientResponse] = []
    for camera in (GYM, LIBRARY, GYM):
        response = await client.get(f"{path}/mjpeg/{camera}")
        assert response.status == 200
        await read_parts(response, 1)
        streams.append(response)

    refused = await get(client, f"{path}/mjpeg/{LIBRARY}")
    events = await get(client, f"{path}/events")

    assert refused.status == 429
    assert (await refused.json())["error"] == "stream_cap"
    assert int(refused.headers["Retry-After"]) > 0
    assert events.status == 429
    streams.pop().close()
    for _ in range(100):
        again = await client.get(f"{path}/mjpeg/{LIBRARY}")
        if again.status == 200:
            break
        await asyncio.sleep(0.05)
    assert again.status == 200
    again.close()
    for stream in streams:
        stream.close()


async def test_snapshots_are_rate_limited_per_viewer(
    hass: HomeAssistant, client: Client
) -> None:
    """A burst is served; a loop of snapshots is told to slow down."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _link_id, path = await async_link(hass, entry)

    statuses = [(await get(client, f"{path}/snapshot/{GYM}")).status for _ in range(12)]

    assert statuses[:5] == [200] * 5
    assert 429 in statuses


async def test_a_snapshot_counts_as_viewing_under_the_viewer_cap(
    hass: HomeAssistant, client: Client
) -> None:
    """With the cap reached by one viewer's snapshots, a second viewer waits."""
    entry = await async_setup_agreement(hass, max_viewers=1)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _first, first = await async_link(hass, entry, label="Unit 1")
    _second, second = await async_link(hass, entry, label="Unit 2")

    assert (await get(client, f"{first}/snapshot/{GYM}")).status == 200
    assert (await get(client, f"{second}/snapshot/{GYM}")).status == 429
    assert (await get(client, f"{second}/mjpeg/{GYM}")).status == 429
    viewers = hass.states.get(entity_id_of(hass, entry, "active_viewers"))
    assert viewers is not None
    assert viewers.state == "1"


async def test_a_snapshot_is_not_given_once_access_ended_during_its_wait(
    hass: HomeAssistant, client: Client, cameras: dict[str, StillCamera]
) -> None:
    """The frame is awaited; the link is checked again before it is sent."""
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    link_id, path = await async_link(hass, entry)
    cameras["Gym"].failing = True  # no frame yet: the snapshot has to wait

    waiting = asyncio.create_task(get(client, f"{path}/snapshot/{GYM}"))
    await asyncio.sleep(0.2)
    await async_call(hass, "revoke_viewer_link", entry, link_id=link_id)
    cameras["Gym"].failing = False
    response = await waiting

    assert response.status == 401
    assert response.content_type != "image/jpeg"


async def test_where_a_viewer_watches_from_is_only_in_the_audit_log(
    hass: HomeAssistant, client: Client
) -> None:
    """Not in the Active viewers attributes, not on the bus, but in the log."""
    heard: list[dict[str, Any]] = []
    hass.bus.async_listen(
        "school_emergency_share_event", lambda event: heard.append(dict(event.data))
    )
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Lockdown")
    _link_id, path = await async_link(hass, entry, label="Unit 9")
    stream = await client.get(
        f"{path}/mjpeg/{GYM}", headers={"User-Agent": "PatrolPhone/1.0"}
    )
    await read_parts(stream, 1)
    await async_settle(hass)

    state = hass.states.get(entity_id_of(hass, entry, "active_viewers"))
    assert state is not None
    assert state.state == "1"
    (viewer,) = state.attributes["viewers"]
    assert viewer["label"] == "Unit 9"
    assert "address" not in viewer
    assert "user_agent" not in viewer
    assert "127.0.0.1" not in str(state.attributes)
    assert "PatrolPhone" not in str(heard)
    (started,) = events_named(entry, "view_started")
    assert started["data"]["address"] == "127.0.0.1"
    assert started["data"]["user_agent"] == "PatrolPhone/1.0"
    stream.close()


@pytest.fixture
async def behind_proxy(hass: HomeAssistant) -> None:
    """Home Assistant behind a trusted reverse proxy (set up before the cameras)."""
    assert await async_setup_component(
        hass,
        "http",
        {"http": {"use_x_forwarded_for": True, "trusted_proxies": ["127.0.0.1"]}},
    )


@pytest.fixture
async def proxied_client(behind_proxy: None, client: Client) -> Client:
    """A client whose proxy names each client address (the proxy set up first)."""
    return client


async def test_many_guesses_from_many_addresses_cost_a_few_records(
    hass: HomeAssistant, proxied_client: Client
) -> None:
    """Rotating addresses does not write a record per request to disk."""
    client = proxied_client
    entry = await async_setup_agreement(hass)
    before = len(events_named(entry, "access_denied"))
    for n in range(300):
        response = await get(
            client,
            f"{URL_PREFIX}/{'E' * 31}{n % 10}/{'x' * 500}",
            headers={"X-Forwarded-For": f"203.0.113.{n % 250}"},
        )
        assert response.status == 401
    await async_settle(hass)

    denied = events_named(entry, "access_denied")[before:]
    assert len(denied) == 50
    assert all(len(record["data"]["path"]) <= 120 for record in denied)


async def test_guesses_from_one_ipv6_subscriber_are_counted_together(
    hass: HomeAssistant, proxied_client: Client
) -> None:
    """Rotating addresses inside one /64 does not reset the lockout."""
    entry = await async_setup_agreement(hass, failure_limit=5)
    await async_call(hass, "activate", entry, reason="Drill")
    _link_id, path = await async_link(hass, entry)
    guess = f"{URL_PREFIX}/{'F' * 32}"
    for n in range(5):
        address = {"X-Forwarded-For": f"2001:db8:1:2::{n + 1:x}"}
        assert (await get(proxied_client, guess, headers=address)).status == 401

    rotated = {"X-Forwarded-For": "2001:db8:1:2:ffff::9"}
    neighbour = {"X-Forwarded-For": "2001:db8:1:3::1"}
    assert (await get(proxied_client, guess, headers=rotated)).status == 429
    assert (await get(proxied_client, guess, headers=neighbour)).status == 401
    # A valid link from the locked-out block still works.
    assert (
        await get(proxied_client, f"{path}/cameras.json", headers=rotated)
    ).status == 200
    await async_settle(hass)
    (lockout,) = events_named(entry, "lockout")
    assert lockout["data"]["address"] == "2001:db8:1:2::/64"
