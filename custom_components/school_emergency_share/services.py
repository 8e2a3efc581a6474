"""The integration's services (PRODUCT.md, "Public interface").

Each takes `config_entry_id`, finds the agreement, works out who is asking, and
hands the decision to the agreement's manager. Refusals surface as translated
`ServiceValidationError`s.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.network import NoURLAvailableError, get_url
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonValueType
import voluptuous as vol

from .const import (
    ATTR_CAMERAS,
    ATTR_CONFIG_ENTRY_ID,
    ATTR_DURATION_MINUTES,
    ATTR_INCIDENT_ID,
    ATTR_LABEL,
    ATTR_LINK_ID,
    ATTR_MINUTES,
    ATTR_NOTIFY,
    ATTR_REASON,
    ATTR_REQUEST_ID,
    ATTR_SINCE,
    ATTR_STANDING,
    ATTR_UNTIL,
    DOMAIN,
    SERVICE_ACTIVATE,
    SERVICE_APPROVE_REQUEST,
    SERVICE_CREATE_VIEWER_LINK,
    SERVICE_DEACTIVATE,
    SERVICE_DENY_REQUEST,
    SERVICE_EXPORT_AUDIT,
    SERVICE_EXTEND,
    SERVICE_REVOKE_VIEWER_LINK,
    URL_PREFIX,
)
from .contexts import async_actor_for
from .core.actor import Actor
from .core.links import LinkRequest
from .core.session import ActivationRequest, Session
from .data import DATA_DOMAIN
from .manager import AgreementManager
from .notifications import async_send_link, check_notify_target

_ENTRY: dict[vol.Marker, Any] = {vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string}

# Whole minutes; zero and negative ones reach the agreement, which refuses them
# in words. Beyond ten years a number is junk, not a request.
MINUTES = vol.All(vol.Coerce(int), vol.Range(max=10 * 366 * 24 * 60))

ACTIVATE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_REASON): cv.string,
        vol.Optional(ATTR_DURATION_MINUTES): MINUTES,
        vol.Optional(ATTR_CAMERAS): cv.entity_ids,
        vol.Optional(ATTR_INCIDENT_ID): cv.string,
    }
)
DEACTIVATE_SCHEMA = vol.Schema({**_ENTRY, vol.Optional(ATTR_REASON): cv.string})
EXTEND_SCHEMA = vol.Schema({**_ENTRY, vol.Required(ATTR_MINUTES): MINUTES})
CREATE_LINK_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_LABEL): cv.string,
        vol.Optional(ATTR_MINUTES): MINUTES,
        vol.Optional(ATTR_CAMERAS): cv.entity_ids,
        vol.Optional(ATTR_STANDING, default=False): cv.boolean,
        vol.Optional(ATTR_NOTIFY): cv.string,
    }
)
REVOKE_LINK_SCHEMA = vol.Schema({**_ENTRY, vol.Optional(ATTR_LINK_ID): cv.string})
APPROVE_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_REQUEST_ID): cv.string,
        vol.Optional(ATTR_DURATION_MINUTES): MINUTES,
        vol.Optional(ATTR_CAMERAS): cv.entity_ids,
    }
)
DENY_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Required(ATTR_REQUEST_ID): cv.string,
        vol.Optional(ATTR_REASON): cv.string,
    }
)
EXPORT_SCHEMA = vol.Schema(
    {
        **_ENTRY,
        vol.Optional(ATTR_SINCE): cv.datetime,
        vol.Optional(ATTR_UNTIL): cv.datetime,
    }
)


def _manager(hass: HomeAssistant, call: ServiceCall) -> AgreementManager:
    entry_id = call.data[ATTR_CONFIG_ENTRY_ID]
    entry = hass.config_entries.async_get_entry(entry_id)
    if entry is None or entry.domain != DOMAIN:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_found",
            translation_placeholders={"entry_id": entry_id},
        )
    if entry.state is not ConfigEntryState.LOADED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="entry_not_loaded",
            translation_placeholders={"title": entry.title},
        )
    manager: AgreementManager = entry.runtime_data
    return manager


async def _actor(hass: HomeAssistant, call: ServiceCall) -> Actor:
    return await async_actor_for(hass, hass.data[DATA_DOMAIN].contexts, call.context)


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt_util.get_default_time_zone())


def viewer_url(hass: HomeAssistant, token: str) -> str:
    """The link an officer opens: absolute when Home Assistant knows its URL."""
    path = f"{URL_PREFIX}/{token}"
    try:
        base = get_url(hass, prefer_external=True, allow_cloud=False)
    except NoURLAvailableError:
        return path
    return f"{base}{path}"


async def _activate(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = _manager(hass, call)
    session = await manager.async_activate(
        await _actor(hass, call),
        ActivationRequest(
            reason=call.data[ATTR_REASON],
            duration=_minutes(call.data.get(ATTR_DURATION_MINUTES)),
            cameras=_cameras(call),
            incident_id=call.data.get(ATTR_INCIDENT_ID),
        ),
    )
    return _started(manager, session)


def _cameras(call: ServiceCall) -> frozenset[str] | None:
    asked = call.data.get(ATTR_CAMERAS)
    return frozenset(asked) if asked is not None else None


def _started(manager: AgreementManager, session: Session) -> ServiceResponse:
    cameras: list[JsonValueType] = [*sorted(manager.shared_cameras())]
    return {
        "session_id": session.id,
        "started_at": session.started_at.isoformat(),
        "expires_at": session.expires_at.isoformat(),
        "cameras": cameras,
    }


async def _approve_request(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = _manager(hass, call)
    session = await manager.async_approve_request(
        await _actor(hass, call),
        call.data[ATTR_REQUEST_ID],
        ActivationRequest(
            reason="",  # the officer's reason is the session's
            duration=_minutes(call.data.get(ATTR_DURATION_MINUTES)),
            cameras=_cameras(call),
        ),
    )
    return _started(manager, session)


async def _deny_request(call: ServiceCall) -> None:
    hass = call.hass
    manager = _manager(hass, call)
    await manager.async_deny_request(
        await _actor(hass, call), call.data[ATTR_REQUEST_ID], call.data.get(ATTR_REASON)
    )


async def _deactivate(call: ServiceCall) -> None:
    hass = call.hass
    manager = _manager(hass, call)
    await manager.async_deactivate(await _actor(hass, call), call.data.get(ATTR_REASON))


async def _extend(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = _manager(hass, call)
    session = await manager.async_extend(
        await _actor(hass, call), call.data[ATTR_MINUTES]
    )
    return {"expires_at": session.expires_at.isoformat()}


async def _create_link(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = _manager(hass, call)
    target = call.data.get(ATTR_NOTIFY)
    if target is not None:
        check_notify_target(hass, target)
    actor = await _actor(hass, call)
    link, token = await manager.async_create_link(
        actor,
        LinkRequest(
            label=call.data[ATTR_LABEL],
            minutes=call.data.get(ATTR_MINUTES),
            cameras=_cameras(call),
            standing=call.data[ATTR_STANDING],
        ),
    )
    url = viewer_url(hass, token)
    response: dict[str, Any] = {
        "link_id": link.id,
        "url": url,
        "expires_at": manager.link_expiry(link).isoformat(),
        "standing": link.standing,
        "label": link.label,
    }
    if target is not None:
        response["sent"] = await async_send_link(
            hass, manager, actor, link, url, target
        )
    return response


async def _revoke_link(call: ServiceCall) -> None:
    hass = call.hass
    manager = _manager(hass, call)
    await manager.async_revoke_links(
        await _actor(hass, call), call.data.get(ATTR_LINK_ID)
    )


async def _export_audit(call: ServiceCall) -> ServiceResponse:
    hass = call.hass
    manager = _manager(hass, call)
    user_id = call.context.user_id
    user = await hass.auth.async_get_user(user_id) if user_id else None
    result = await manager.async_export(
        await _actor(hass, call),
        administrator=user is not None and user.is_admin,
        since=_aware(call.data.get(ATTR_SINCE)),
        until=_aware(call.data.get(ATTR_UNTIL)),
    )
    check = result.check
    response: dict[str, Any] = {
        "path": str(result.jsonl_path),
        "csv_path": str(result.csv_path),
        "records": result.records,
        "chain_valid": check.valid,
        "first_bad_seq": check.first_bad_seq,
        "problem": check.problem,
        "head_seq": check.head_seq,
        "head_hash": check.head_hash,
    }
    return response


@callback
def async_register_services(hass: HomeAssistant) -> None:
    """Register every service once, for all agreements."""
    for name, handler, schema, supports in (
        (SERVICE_ACTIVATE, _activate, ACTIVATE_SCHEMA, SupportsResponse.OPTIONAL),
        (SERVICE_DEACTIVATE, _deactivate, DEACTIVATE_SCHEMA, SupportsResponse.NONE),
        (SERVICE_EXTEND, _extend, EXTEND_SCHEMA, SupportsResponse.OPTIONAL),
        (
            SERVICE_CREATE_VIEWER_LINK,
            _create_link,
            CREATE_LINK_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_REVOKE_VIEWER_LINK,
            _revoke_link,
            REVOKE_LINK_SCHEMA,
            SupportsResponse.NONE,
        ),
        (SERVICE_EXPORT_AUDIT, _export_audit, EXPORT_SCHEMA, SupportsResponse.OPTIONAL),
        (
            SERVICE_APPROVE_REQUEST,
            _approve_request,
            APPROVE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (SERVICE_DENY_REQUEST, _deny_request, DENY_SCHEMA, SupportsResponse.NONE),
    ):
        hass.services.async_register(
            DOMAIN, name, handler, schema=schema, supports_response=supports
        )
