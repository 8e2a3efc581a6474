"""Buttons: extend the session, revoke every viewer link."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.util import dt as dt_util

from .const import EXTEND_BUTTON_MINUTES
from .core.actor import Actor
from .core.session import ActivationRequest, remaining_extension
from .entity import ShareEntity, described_platform
from .manager import AgreementManager


@dataclass(frozen=True, kw_only=True)
class ShareButtonDescription(ButtonEntityDescription):
    """A button of the agreement: what pressing it asks of the manager."""

    press_fn: Callable[[AgreementManager, Actor], Awaitable[Any]]
    # Pressable only when this says so (always, when unset).
    available_fn: Callable[[AgreementManager], bool] | None = None


def _pending(manager: AgreementManager) -> str | None:
    """The id of the police request waiting for an answer, if one is."""
    request = manager.state.request
    if request is not None and request.pending(dt_util.utcnow()):
        return request.id
    return None


async def _approve(manager: AgreementManager, actor: Actor) -> None:
    """Approve the waiting request with the agreement's defaults."""
    await manager.async_approve_request(
        actor, _pending(manager) or "", ActivationRequest(reason="")
    )


async def _deny(manager: AgreementManager, actor: Actor) -> None:
    """Deny the waiting request."""
    await manager.async_deny_request(actor, _pending(manager) or "", None)


async def _extend(manager: AgreementManager, actor: Actor) -> None:
    """Add 15 minutes, or what is left of the agreement's extension cap."""
    minutes = EXTEND_BUTTON_MINUTES
    if (session := manager.session) is not None:
        left = int(remaining_extension(manager.agreement, session).total_seconds())
        minutes = min(minutes, left // 60) or minutes
    await manager.async_extend(actor, minutes)


BUTTONS: tuple[ShareButtonDescription, ...] = (
    ShareButtonDescription(
        key="extend_session", translation_key="extend_session", press_fn=_extend
    ),
    ShareButtonDescription(
        key="revoke_all_links",
        translation_key="revoke_all_links",
        # Standing links included.
        press_fn=lambda manager, actor: manager.async_revoke_links(actor, None),
    ),
    ShareButtonDescription(
        key="approve_request",
        translation_key="approve_request",
        press_fn=_approve,
        available_fn=lambda manager: _pending(manager) is not None,
    ),
    ShareButtonDescription(
        key="deny_request",
        translation_key="deny_request",
        press_fn=_deny,
        available_fn=lambda manager: _pending(manager) is not None,
    ),
)


class ShareButton(ShareEntity, ButtonEntity):
    """One of the agreement's buttons; pressing it acts as whoever pressed."""

    entity_description: ShareButtonDescription

    @property
    def available(self) -> bool:
        """Approve and Deny only while a police request waits."""
        check = self.entity_description.available_fn
        return check is None or check(self.manager)

    async def async_press(self) -> None:
        """Do what the description says, as the caller."""
        await self.entity_description.press_fn(self.manager, await self.async_actor())


async_setup_entry = described_platform(ShareButton, BUTTONS)
