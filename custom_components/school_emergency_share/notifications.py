"""What the agreement's people are told: notify targets and persistent notifications.

Start, extend and end name who, why, which cameras and until when; an end
carries the audit log's head. A police request names who asked, why and from
which link, and stays on screen until it is answered or expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
import logging
from typing import TYPE_CHECKING, Any

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .const import DOMAIN
from .core.actor import Actor, ActorKind
from .core.agreement import Agreement
from .core.events import AuditEvent
from .core.links import ViewerLink
from .core.requests import AccessRequest
from .core.session import Session

if TYPE_CHECKING:
    from .manager import AgreementManager

_LOGGER = logging.getLogger(__name__)

NOTIFY_DOMAIN = "notify"


def session_message(
    hass: HomeAssistant,
    agreement: Agreement,
    what: str,
    session: Session,
    actor: Actor,
    camera_names: Sequence[str],
    audit_head: tuple[int, str] | None = None,
) -> tuple[str, str]:
    """The title and text of a session notice.

    An end notice carries the audit log's head (`audit_head`): the agency
    keeps a witness of the school's log, and a log later cut short or
    rewritten no longer holds that record with that hash.
    """
    title = f"Emergency camera sharing {what}: {agreement.school}"
    # "School Emergency Share" reads better than "system School Emergency Share".
    who = actor.name if actor.kind is ActorKind.SYSTEM and actor.name else None
    who = who or actor.describe()
    incident = f" (incident {session.incident_id})" if session.incident_id else ""
    cameras = f"Cameras ({len(camera_names)}): {', '.join(camera_names) or 'none'}."
    if what == "ended":
        ended_at = dt_util.as_local(session.ended_at or session.expires_at)
        how = (
            session.end_reason.value.replace("_", " ")
            if session.end_reason
            else "ended"
        )
        said = f' ("{session.end_note}")' if session.end_note else ""
        text = (
            f"Sharing with {agreement.agency}{incident} ended at "
            f"{ended_at:%H:%M} ({how}), by {who}{said}. "
            f"It was shared for: {session.reason}. {cameras} "
            "Every viewer link of the session stopped working."
        )
        if audit_head is not None:
            seq, digest = audit_head
            text += (
                f" Audit log: record {seq}, hash {digest}. Keep this notice:"
                " the school's log must still hold that record with that hash."
            )
        return title, text
    until = dt_util.as_local(session.expires_at)
    verb = "extended" if what == "extended" else "started"
    text = (
        f"{who} {verb} sharing with {agreement.agency}{incident}. "
        f"Reason: {session.reason}. {cameras} "
        f"Until {until:%H:%M} ({until:%Y-%m-%d})."
    )
    return title, text


async def async_notify_session(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    agreement: Agreement,
    what: str,
    session: Session,
    actor: Actor,
    cameras: Sequence[str],
    audit_head: tuple[int, str] | None = None,
) -> None:
    """Send the notice to every target and update the persistent notification."""
    names = [_camera_name(hass, camera) for camera in cameras]
    title, text = session_message(
        hass, agreement, what, session, actor, names, audit_head
    )
    persistent_notification.async_create(
        hass, text, title=title, notification_id=f"{DOMAIN}_{entry.entry_id}"
    )
    await _async_send_all(hass, agreement, title, text)


def request_message(agreement: Agreement, request: AccessRequest) -> tuple[str, str]:
    """The title and text of the notice that a police request waits."""
    until = dt_util.as_local(request.expires_at)
    title = f"Police request for camera access: {agreement.school}"
    text = (
        f'{request.officer} (link "{request.link_label}", {agreement.agency}) '
        f'asks to see the cameras: "{request.reason}". Approve or deny it '
        f"before {until:%H:%M}, when it expires: the agreement's Approve and "
        "Deny buttons, or the approve_request and deny_request services "
        f"(request_id {request.id})."
    )
    return title, text


async def async_notify_request(
    hass: HomeAssistant,
    entry: ConfigEntry[Any],
    agreement: Agreement,
    request: AccessRequest,
) -> None:
    """Tell the named people at once that a police request waits."""
    title, text = request_message(agreement, request)
    persistent_notification.async_create(
        hass, text, title=title, notification_id=request_notice_id(entry.entry_id)
    )
    await _async_send_all(hass, agreement, title, text)


def request_notice_id(entry_id: str) -> str:
    """The persistent notification of an agreement's pending request."""
    return f"{DOMAIN}_{entry_id}_request"


async def _async_send_all(
    hass: HomeAssistant, agreement: Agreement, title: str, text: str
) -> None:
    for target in agreement.notify_targets:
        try:
            await async_send(hass, target, title, text)
        except (HomeAssistantError, ValueError) as err:
            _LOGGER.warning("Could not notify %s: %s", target, err)


def check_notify_target(hass: HomeAssistant, target: str) -> None:
    """Refuse a target that is neither a `notify.*` service nor a notify entity."""
    if _notify_service(hass, target) is None and not _is_notify_entity(hass, target):
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="notify_target_unknown",
            translation_placeholders={"target": target},
        )


def link_message(
    agreement: Agreement, link: ViewerLink, url: str, expires_at: datetime
) -> tuple[str, str]:
    """The message that carries a viewer link to an officer's phone."""
    title = f"{agreement.school} cameras: viewer link for {link.label}"
    when = dt_util.as_local(expires_at)
    opens = (
        "It opens only while the school shares its cameras"
        if link.standing
        else "It works during the current emergency sharing"
    )
    text = (
        f"{agreement.school} shares its cameras with {agreement.agency} in an "
        f"emergency. {opens}, until {when:%Y-%m-%d %H:%M} at the latest. "
        f"Open: {url}"
    )
    return title, text


async def async_send_link(
    hass: HomeAssistant,
    manager: AgreementManager,
    actor: Actor,
    link: ViewerLink,
    url: str,
    target: str,
) -> bool:
    """Send a new link to a phone or mailbox; the log says where, never what."""
    title, text = link_message(manager.agreement, link, url, manager.link_expiry(link))
    error = None
    try:
        await async_send(hass, target, title, text)
    except (HomeAssistantError, ValueError) as err:
        _LOGGER.warning("Could not send viewer link %s to %s: %s", link.id, target, err)
        error = str(err) or repr(err)
    await manager.audit.async_record(
        AuditEvent.LINK_SENT,
        actor,
        {
            "link_id": link.id,
            "label": link.label,
            "target": target,
            "delivered": error is None,
            "error": error,
        },
        keep=True,
    )
    return error is None


async def async_send(hass: HomeAssistant, target: str, title: str, text: str) -> None:
    """`notify.<service>` legacy services, or notify entities."""
    if (service := _notify_service(hass, target)) is not None:
        await hass.services.async_call(
            NOTIFY_DOMAIN, service, {"title": title, "message": text}, blocking=True
        )
    elif _is_notify_entity(hass, target):
        await hass.services.async_call(
            NOTIFY_DOMAIN,
            "send_message",
            {ATTR_ENTITY_ID: target, "title": title, "message": text},
            blocking=True,
        )
    else:
        raise ValueError("no such notify service or entity")


def _notify_service(hass: HomeAssistant, target: str) -> str | None:
    service = target.removeprefix(f"{NOTIFY_DOMAIN}.")
    if service != "send_message" and hass.services.has_service(NOTIFY_DOMAIN, service):
        return service
    return None


def _is_notify_entity(hass: HomeAssistant, target: str) -> bool:
    return (
        target.startswith(f"{NOTIFY_DOMAIN}.") and hass.states.get(target) is not None
    )


def _camera_name(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    return state.name if state is not None else entity_id
