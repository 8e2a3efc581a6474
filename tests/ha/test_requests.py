"""Police may ask: a standing link's request, its answer, and its page told live.

An officer holding a standing link asks while nothing is shared; the named
people are told at once and approve (sharing starts, they are the actor, the
officer is recorded) or deny; nobody answering lets it expire in 10 minutes.
Bad input is a 400, never a 5xx; asking again and again is refused.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
import json
from typing import Any

from aiohttp import ClientResponse
from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import Context, HomeAssistant, ServiceCall
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_mock_service,
)

from custom_components.school_emergency_share.const import DOMAIN

from .common import (
    GYM,
    OPERATOR_ID,
    TEACHER_ID,
    async_call,
    async_settle,
    async_setup_agreement,
    audit_records,
    entity_id_of,
    events_named,
    state_value,
)
from .viewing import Client, async_link, get

REQUEST = {"reason": "Report of a weapon near the gym", "officer": "Unit 12 Diaz"}


@pytest.fixture
async def school(
    hass: HomeAssistant, client: Client
) -> tuple[MockConfigEntry, str, list[ServiceCall]]:
    """An agreement with a notify target and a standing link; nothing shared."""
    messages = async_mock_service(hass, "notify", "front_office")
    entry = await async_setup_agreement(hass, notify_targets=["notify.front_office"])
    _link_id, path = await async_link(hass, entry, standing=True, label="Unit 12")
    return entry, path, messages


async def ask(client: Client, path: str, body: Any = None, **kwargs: Any) -> Any:
    """POST a request; returns the response (body read)."""
    response = await client.post(
        f"{path}/request", json=REQUEST if body is None else body, **kwargs
    )
    await response.read()
    return response


async def test_a_standing_link_asks_and_the_named_people_hear_at_once(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """202 with an id; a notice names who asked, why and from which link."""
    entry, path, messages = school

    response = await ask(client, path)
    await async_settle(hass)

    assert response.status == 202
    body = await response.json()
    assert body["status"] == "pending"
    request_id = body["request_id"]
    (message,) = messages
    for said in ("Unit 12 Diaz", "Unit 12", REQUEST["reason"], request_id):
        assert said in message.data["message"]
    notice = persistent_notification(hass, entry)
    assert REQUEST["reason"] in notice["message"]
    (created,) = events_named(entry, "request_created")
    assert created["actor"]["kind"] == "viewer"
    assert created["data"]["officer"] == "Unit 12 Diaz"
    assert state_value(hass, entry, "police_request") == "pending"
    assert state_value(hass, entry, "approve_request") != "unavailable"
    assert state_value(hass, entry, "emergency_sharing") == "off"


def persistent_notification(
    hass: HomeAssistant, entry: MockConfigEntry
) -> dict[str, Any]:
    """The agreement's pending-request notification."""
    from homeassistant.components import persistent_notification  # noqa: PLC0415

    notices = persistent_notification._async_get_or_create_notifications(hass)
    return dict(notices[f"{DOMAIN}_{entry.entry_id}_request"])


async def test_one_request_at_a_time_and_none_while_sharing(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """A second request waits for the first; a running session needs none."""
    entry, path, _messages = school
    assert (await ask(client, path)).status == 202

    again = await ask(client, path)
    assert again.status == 409
    assert (await again.json())["error"] == "request_pending"

    await async_call(hass, "deny_request", entry, request_id=_pending_id(hass, entry))
    await async_call(hass, "activate", entry, reason="Lockdown")
    during = await ask(client, path)
    assert during.status == 409
    assert (await during.json())["error"] == "already_active"
    _session_link_id, session_path = await async_link(hass, entry, label="Unit 3")
    assert (await ask(client, session_path)).status == 403


def _pending_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    state = hass.states.get(entity_id_of(hass, entry, "police_request"))
    assert state is not None
    return str(state.attributes["request_id"])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"data": "reason=help", "headers": {"Content-Type": "text/plain"}}, None),
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, None),
        ({"json": ["a", "list"]}, "not_an_object"),
        ({"json": {"officer": "Unit 1"}}, "reason_required"),
        ({"json": {"reason": "   "}}, "reason_required"),
        ({"json": {"reason": 42}}, "reason_required"),
        ({"json": {"reason": "x" * 301}}, "field_too_long"),
        ({"json": {"reason": "ok", "officer": {"a": 1}}}, "officer_not_text"),
        ({"json": {"reason": "x" * 4000}}, None),
    ],
)
async def test_bad_input_is_a_400_never_a_5xx(
    hass: HomeAssistant, client: Client, school: Any, kwargs: Any, error: str | None
) -> None:
    """Wrong type, junk, missing or oversized fields: refused in words."""
    entry, path, _messages = school

    response = await client.post(f"{path}/request", **kwargs)

    assert response.status == 400
    if error is not None:
        assert (await response.json())["error"] == error
    assert events_named(entry, "request_created") == []


async def test_asking_in_a_loop_is_refused(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """A few tries per link and address, then 429."""
    entry, path, _messages = school
    statuses = []
    for _ in range(4):
        response = await ask(client, path)
        statuses.append(response.status)
        if response.status == 202:  # answered, so the next one may be asked
            await async_call(
                hass, "deny_request", entry, request_id=_pending_id(hass, entry)
            )

    assert statuses == [202, 202, 202, 429]


async def test_a_named_person_approves_and_sharing_starts_with_both_recorded(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """The approver is the actor; the officer's request is on the record."""
    entry, path, _messages = school
    request_id = (await (await ask(client, path)).json())["request_id"]

    started = await async_call(
        hass,
        "approve_request",
        entry,
        request_id=request_id,
        duration_minutes=20,
        cameras=[GYM],
    )
    await async_settle(hass)

    assert started is not None
    assert started["cameras"] == [GYM]
    assert (await get(client, f"{path}/cameras.json")).status == 200
    (approved,) = events_named(entry, "request_approved")
    (session,) = events_named(entry, "session_started")
    assert approved["seq"] < session["seq"]
    assert session["actor"]["id"] == OPERATOR_ID
    assert session["data"]["requested_by"]["officer"] == "Unit 12 Diaz"
    assert session["data"]["reason"] == f"Police request: {REQUEST['reason']}"
    assert state_value(hass, entry, "police_request") == "approved"
    assert state_value(hass, entry, "approve_request") == "unavailable"
    assert f"{DOMAIN}_{entry.entry_id}_request" not in persistent_notice_ids(hass)


def persistent_notice_ids(hass: HomeAssistant) -> set[str]:
    """Every persistent notification's id."""
    from homeassistant.components import persistent_notification  # noqa: PLC0415

    return set(persistent_notification._async_get_or_create_notifications(hass))


async def test_only_a_named_person_may_answer(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """A teacher's approval is refused and recorded; a named person's denial works."""
    entry, path, _messages = school
    request_id = (await (await ask(client, path)).json())["request_id"]

    with pytest.raises(ServiceValidationError) as refused:
        await async_call(
            hass,
            "approve_request",
            entry,
            Context(user_id=TEACHER_ID),
            request_id=request_id,
        )
    await async_call(
        hass,
        "deny_request",
        entry,
        request_id=request_id,
        reason="Call the front office",
    )

    assert refused.value.translation_key == "user_not_permitted"
    assert state_value(hass, entry, "emergency_sharing") == "off"
    (denied,) = events_named(entry, "request_denied")
    assert denied["actor"]["id"] == OPERATOR_ID
    assert denied["data"]["note"] == "Call the front office"
    with pytest.raises(ServiceValidationError) as late:
        await async_call(hass, "approve_request", entry, request_id=request_id)
    assert late.value.translation_key == "request_not_pending"


async def test_an_unanswered_request_expires_after_ten_minutes(
    hass: HomeAssistant,
    client: Client,
    school: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Recorded as expired; approving it afterwards is refused."""
    entry, path, _messages = school
    request_id = (await (await ask(client, path)).json())["request_id"]

    freezer.tick(timedelta(minutes=10, seconds=1))
    async_fire_time_changed(hass)
    await async_settle(hass)

    (expired,) = events_named(entry, "request_expired")
    assert expired["data"]["request_id"] == request_id
    assert state_value(hass, entry, "police_request") == "expired"
    with pytest.raises(ServiceValidationError):
        await async_call(hass, "approve_request", entry, request_id=request_id)
    assert (await ask(client, path)).status == 202


async def test_the_dashboard_buttons_answer_the_waiting_request(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """Approve from the dashboard: the operator presses, sharing starts."""
    entry, path, _messages = school
    await ask(client, path)

    await hass.services.async_call(
        "button",
        "press",
        {"entity_id": entity_id_of(hass, entry, "approve_request")},
        blocking=True,
        context=Context(user_id=OPERATOR_ID),
    )
    await async_settle(hass)

    assert state_value(hass, entry, "emergency_sharing") == "on"
    assert state_value(hass, entry, "police_request") == "approved"


async def read_events(response: ClientResponse, count: int) -> list[tuple[str, Any]]:
    """The next `count` server-sent events: (name, data)."""
    found: list[tuple[str, Any]] = []
    name = ""
    async with asyncio.timeout(20):
        while len(found) < count:
            raw = await response.content.readline()
            assert raw, "the event stream ended"
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                found.append((name, json.loads(line.removeprefix("data: "))))
    return found


async def test_the_officers_page_hears_its_request_answered_and_sharing_start(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """A standing link's event stream is open while idle, and turns live."""
    entry, path, _messages = school
    stream = await client.get(f"{path}/events")
    assert stream.status == 200
    ((_, idle),) = await read_events(stream, 1)
    assert idle["session"] is None
    assert idle["cameras"] == []

    request_id = (await (await ask(client, path)).json())["request_id"]
    asked = await read_events(stream, 1)
    await async_call(hass, "approve_request", entry, request_id=request_id)
    live = await _until(stream, lambda data: data["session"] is not None)

    assert asked[0][1]["request"]["status"] == "pending"
    assert live["request"]["status"] == "approved"
    assert [camera["id"] for camera in live["cameras"]]
    assert all(camera["mjpeg"].startswith(path) for camera in live["cameras"])
    await async_call(hass, "deactivate", entry)
    ended = await _until_event(stream, "ended")
    assert ended["reason"]
    stream.close()


async def _until(response: ClientResponse, wanted: Any) -> Any:
    async with asyncio.timeout(20):
        while True:
            ((name, data),) = await read_events(response, 1)
            if name == "status" and wanted(data):
                return data


async def _until_event(response: ClientResponse, wanted: str) -> Any:
    async with asyncio.timeout(20):
        while True:
            ((name, data),) = await read_events(response, 1)
            if name == wanted:
                return data


async def test_a_pending_request_survives_a_restart(
    hass: HomeAssistant, client: Client, school: Any
) -> None:
    """Saved with the state: still pending, still answerable."""
    entry, path, _messages = school
    request_id = (await (await ask(client, path)).json())["request_id"]

    assert await hass.config_entries.async_reload(entry.entry_id)
    await async_settle(hass)

    assert state_value(hass, entry, "police_request") == "pending"
    await async_call(hass, "approve_request", entry, request_id=request_id)
    assert state_value(hass, entry, "emergency_sharing") == "on"


async def test_a_link_is_sent_to_a_phone_and_the_log_says_where_not_what(
    hass: HomeAssistant, client: Client
) -> None:
    """`notify` on create_viewer_link: the message has the link; the log has not."""
    messages = async_mock_service(hass, "notify", "unit_12_phone")
    entry = await async_setup_agreement(hass)

    response = await async_call(
        hass,
        "create_viewer_link",
        entry,
        label="Unit 12",
        standing=True,
        notify="notify.unit_12_phone",
    )
    await async_settle(hass)

    assert response is not None
    assert response["sent"] is True
    (message,) = messages
    assert str(response["url"]) in message.data["message"]
    (sent,) = events_named(entry, "link_sent")
    assert sent["data"]["target"] == "notify.unit_12_phone"
    assert sent["data"]["delivered"] is True
    token = str(response["url"]).rsplit("/", 1)[-1]
    assert token not in json.dumps(audit_records(entry))


async def test_a_link_is_not_made_for_a_target_that_does_not_exist(
    hass: HomeAssistant, client: Client
) -> None:
    """Refused before anything is issued."""
    entry = await async_setup_agreement(hass)

    with pytest.raises(ServiceValidationError) as refused:
        await async_call(
            hass, "create_viewer_link", entry, label="Unit 12", notify="notify.nobody"
        )

    assert refused.value.translation_key == "notify_target_unknown"
    assert events_named(entry, "link_created") == []
