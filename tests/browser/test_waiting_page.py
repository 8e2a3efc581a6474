"""A standing link's page between emergencies: it waits, asks, and turns live.

The officer's page is open before the alarm. It holds the events stream,
offers "Request camera access", shows the school's answer as it comes, and
shows live video the moment a session starts: no reload, no 15-second poll.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from playwright.async_api import Page, expect
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.ha.common import GYM, async_call, entity_id_of
from tests.ha.viewing import Client, async_link

from .viewer_page import open_viewer, picture, snap, tile

pytestmark = pytest.mark.timeout(120)


async def test_an_open_standing_page_turns_live_when_sharing_starts(
    hass: HomeAssistant, entry: MockConfigEntry, client: Client, phone: Page
) -> None:
    """The same document, waiting then live, with a picture drawn."""
    _link_id, path = await async_link(hass, entry, label="Dispatch", standing=True)
    await open_viewer(phone, client, path)
    await expect(phone.locator("body")).to_have_attribute("data-state", "idle")
    await phone.evaluate("window.sameDocument = true")
    # The page listens while it waits: its events stream is open.
    await expect(phone.locator("#idle")).to_be_visible()

    await async_call(hass, "activate", entry, reason="Fire alarm")

    await expect(phone.locator("body")).to_have_attribute("data-state", "active")
    await expect(tile(phone, GYM)).to_have_attribute("data-state", "live")
    assert (await picture(phone, GYM)).frames >= 1
    assert await phone.evaluate("window.sameDocument") is True
    await expect(phone.locator("#idle")).to_be_hidden()


async def test_an_officer_asks_and_sees_the_answer_live(
    hass: HomeAssistant, entry: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Ask, see it pending, see it denied, ask again, see it approved and live."""
    _link_id, path = await async_link(hass, entry, label="Unit 12", standing=True)
    await open_viewer(phone, client, path)
    form = phone.locator("#ask")
    await expect(form).to_be_visible()
    await expect(phone.locator("#ask-officer")).to_have_value("Unit 12")

    await phone.locator("#ask-reason").fill("Report of a weapon near the gym")
    await phone.locator("#ask-officer").fill("Unit 12 Diaz")
    await phone.get_by_role("button", name="Send request").click()

    answer = phone.locator("#ask-status")
    await expect(answer).to_contain_text("Request sent")
    await expect(form).to_be_hidden()
    await snap(phone, "phone-request-pending")
    request_id = _request_id(hass, entry)
    await async_call(
        hass, "deny_request", entry, request_id=request_id, reason="Call the office"
    )
    await expect(answer).to_contain_text(
        "The school denied the request: Call the office"
    )
    await expect(form).to_be_visible()

    await phone.locator("#ask-reason").fill("Shots fired, east wing")
    await phone.get_by_role("button", name="Send request").click()
    await expect(answer).to_contain_text("Request sent")
    await async_call(
        hass, "approve_request", entry, request_id=_request_id(hass, entry)
    )

    await expect(phone.locator("body")).to_have_attribute("data-state", "active")
    await expect(phone.locator("header")).to_contain_text("Police request: Shots fired")
    await expect(tile(phone, GYM)).to_have_attribute("data-state", "live")


def _request_id(hass: HomeAssistant, entry: MockConfigEntry) -> str:
    state = hass.states.get(entity_id_of(hass, entry, "police_request"))
    assert state is not None
    assert state.state == "pending"
    return str(state.attributes["request_id"])


async def test_the_page_groups_cameras_by_school_first(
    hass: HomeAssistant, entry: MockConfigEntry, client: Client, phone: Page
) -> None:
    """Floors named "School - Floor" are grouped under their school."""
    from homeassistant.helpers import floor_registry as fr  # noqa: PLC0415

    floors = fr.async_get(hass)
    for floor in list(floors.async_list_floors()):
        floors.async_update(floor.floor_id, name=f"Lincoln High - {floor.name}")
    extra = floors.async_create("Washington Elementary - Ground floor", level=0)
    from homeassistant.helpers import area_registry as ar  # noqa: PLC0415

    areas = ar.async_get(hass)
    gym_area = areas.async_get_area_by_name("Gymnasium")
    assert gym_area is not None
    areas.async_update(gym_area.id, floor_id=extra.floor_id)
    await async_call(hass, "activate", entry, reason="Drill")
    _link_id, path = await async_link(hass, entry)

    await open_viewer(phone, client, path)

    await expect(phone.locator("body")).to_have_attribute("data-state", "active")
    schools = await phone.locator(".school > h2").all_text_contents()
    assert schools == ["Lincoln High", "Washington Elementary"]
    lincoln = (
        await phone.locator(".school").nth(0).locator("summary").all_text_contents()
    )
    assert lincoln == ["Ground floor (1)", "First floor (2)"]
    await snap(phone, "phone-by-school", full_page=True)
