"""Fuzzed links, paths, query strings and headers never yield a 5xx or a frame.

Hypothesis drives a real HTTP client against Home Assistant's HTTP server with
the integration loaded and a session active, so a valid link exists to mutate.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from hypothesis import HealthCheck, given, settings, strategies as st
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.school_emergency_share.const import DOMAIN, URL_PREFIX
from custom_components.school_emergency_share.data import DATA_DOMAIN

from .common import GYM, StillCamera, async_call, async_setup_agreement
from .viewing import Client, async_link, token_of

SUFFIXES = [
    "",
    "/",
    "/cameras.json",
    f"/mjpeg/{GYM}",
    f"/snapshot/{GYM}",
    "/events",
    "/manifest.webmanifest",
    "/mjpeg/",
    "/mjpeg",
]
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
URL_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=80
)


@pytest.fixture
async def setup(
    hass: HomeAssistant,
    cameras: dict[str, StillCamera],
    hass_client_no_auth: ClientSessionGenerator,
) -> tuple[Client, str]:
    """An active session, a valid link path, and a client without login."""
    assert await async_setup_component(hass, DOMAIN, {})
    client: Client = await hass_client_no_auth()
    entry = await async_setup_agreement(hass)
    await async_call(hass, "activate", entry, reason="Fuzzing")
    _link_id, path = await async_link(hass, entry)
    return client, path


def _reset_lockout(hass: HomeAssistant) -> None:
    """Each example starts unlocked, so the link checks themselves are reached."""
    hass.data[DATA_DOMAIN].failures._failures.clear()


async def _status(client: Client, path: str, **kwargs: Any) -> tuple[int, str]:
    response = await client.get(path, allow_redirects=False, **kwargs)
    try:
        return response.status, response.content_type
    finally:
        response.close()


@FUZZ
@given(token=URL_TEXT, suffix=st.sampled_from(SUFFIXES), query=URL_TEXT)
async def test_fuzzed_tokens_never_reach_anything(
    hass: HomeAssistant, setup: tuple[Client, str], token: str, suffix: str, query: str
) -> None:
    """Random tokens: 4xx only, never a frame or a page."""
    client, _path = setup
    _reset_lockout(hass)
    path = f"{URL_PREFIX}/{quote(token, safe='')}{suffix}?q={quote(query)}"
    status, content_type = await _status(client, path)
    assert 400 <= status < 500, (path, status)
    assert content_type != "multipart/x-mixed-replace"


@FUZZ
@given(
    position=st.integers(min_value=0, max_value=31),
    replacement=st.sampled_from("ABCXYZabcxyz0189-_"),
    suffix=st.sampled_from(SUFFIXES),
)
async def test_one_character_off_is_a_401(
    hass: HomeAssistant,
    setup: tuple[Client, str],
    position: int,
    replacement: str,
    suffix: str,
) -> None:
    """A near miss of a real token opens nothing."""
    client, path = setup
    _reset_lockout(hass)
    token = token_of(path)
    if token[position] == replacement:
        return
    forged = token[:position] + replacement + token[position + 1 :]
    status, content_type = await _status(client, f"{URL_PREFIX}/{forged}{suffix}")
    assert status == 401
    assert content_type != "multipart/x-mixed-replace"


@FUZZ
@given(
    tail=st.lists(URL_TEXT, min_size=1, max_size=4),
    headers=st.dictionaries(
        st.sampled_from(["Range", "Accept", "User-Agent", "Cookie", "If-None-Match"]),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200),
        max_size=3,
    ),
)
async def test_fuzzed_paths_and_headers_under_a_valid_link_never_5xx(
    hass: HomeAssistant,
    setup: tuple[Client, str],
    tail: list[str],
    headers: dict[str, str],
) -> None:
    """With the right token, junk routes and headers still get a 4xx or a 2xx page."""
    client, path = setup
    _reset_lockout(hass)
    junk = "/".join(quote(part, safe="") for part in tail)
    status, _content_type = await _status(client, f"{path}/{junk}", headers=headers)
    assert status < 500, (junk, headers, status)
