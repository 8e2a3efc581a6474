"""The diagnostics download helps debugging without giving anything away."""

from __future__ import annotations

import json

from homeassistant.core import Context, HomeAssistant
from pytest_homeassistant_custom_component.common import MockUser, async_mock_service
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .common import (
    ENTRANCE,
    GYM,
    async_call,
    async_settle,
    async_setup_agreement,
    manager_of,
)

VIEWER_ADDRESS = "203.0.113.77"
VIEWER_AGENT = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile Safari"


async def test_diagnostics_show_the_session_and_audit_check_but_no_secrets(
    hass: HomeAssistant,
    cameras: object,
    hass_admin_user: MockUser,
    hass_client: ClientSessionGenerator,
) -> None:
    """No token, viewer address, staff or officer identity, or free text leaks."""
    async_mock_service(hass, "notify", "principal_phone")
    entry = await async_setup_agreement(
        hass,
        allowed_users=[hass_admin_user.id],
        notify_targets=["notify.principal_phone"],
    )
    ctx = Context(user_id=hass_admin_user.id)
    session = await async_call(
        hass,
        "activate",
        entry,
        context=ctx,
        reason="Student Sam Smith reported a weapon",
        cameras=[ENTRANCE, GYM],
    )
    link = await async_call(
        hass, "create_viewer_link", entry, context=ctx, label="Officer Jane Doe"
    )
    await async_settle(hass)
    assert session is not None
    assert link is not None
    manager = manager_of(entry)
    stored = manager.state.links.get(str(link["link_id"]))
    assert stored is not None
    manager.connections.open(stored, GYM, VIEWER_ADDRESS, VIEWER_AGENT, lambda _: None)
    token = str(link["url"]).rsplit("/", 1)[-1]

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    text = json.dumps(diagnostics)

    for secret in (
        stored.token_hash,
        token,
        VIEWER_ADDRESS,
        VIEWER_AGENT,
        hass_admin_user.id,
        str(hass_admin_user.name),
        "notify.principal_phone",
        "Officer Jane Doe",
        "Sam Smith",
    ):
        assert secret not in text, secret

    assert diagnostics["session_open"] is True
    assert diagnostics["shared_cameras"] == sorted([ENTRANCE, GYM])
    state = diagnostics["state"]
    assert isinstance(state, dict)
    assert isinstance(state["session"], dict)
    assert state["session"]["expires_at"] == session["expires_at"]
    assert state["session"]["cameras"] == sorted([ENTRANCE, GYM])
    assert isinstance(state["links"], list)
    assert len(state["links"]) == 1
    audit = diagnostics["audit"]
    assert isinstance(audit, dict)
    assert audit["valid"] is True
    assert isinstance(audit["records"], int)
    assert audit["records"] >= 3
    viewers = diagnostics["viewers"]
    assert isinstance(viewers, dict)
    assert len(viewers["viewers"]) == 1
    options = diagnostics["options"]
    assert isinstance(options, dict)
    assert options["school"] == "Lincoln High School"
