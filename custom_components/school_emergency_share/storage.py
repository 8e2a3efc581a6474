"""Persistence of an agreement's session, links and camera switches.

Anything that cannot be read fails closed: no session, no working link, and a
repair issue (raised by the caller) that says so.
"""

from __future__ import annotations

from dataclasses import dataclass
import logging
import os
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, STORAGE_VERSION
from .core.state import ShareState

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The state read at start-up, and whether it had to be discarded."""

    state: ShareState
    unreadable: bool = False
    error: str | None = None
    # The audit log's last seq when the state was saved: records after it may
    # hold ends and revocations the state lost (see `core.replay`).
    audit_seq: int = 0


class StateStore:
    """The agreement's `.storage` file."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Use one store per agreement."""
        self._hass = hass
        self._store: Store[dict[str, Any]] = Store(
            hass,
            STORAGE_VERSION,
            f"{DOMAIN}.{entry_id}",
            private=True,
            atomic_writes=True,
        )

    @property
    def path(self) -> str:
        """Where the state lives."""
        return str(self._store.path)

    async def async_load(self) -> LoadResult:
        """Read the state; an unreadable or malformed file yields an empty one."""
        existed = await self._hass.async_add_executor_job(os.path.exists, self.path)
        try:
            data = await self._store.async_load()
        except Exception as err:
            _LOGGER.exception("Cannot read %s; sharing fails closed", self.path)
            return LoadResult(ShareState(), unreadable=True, error=str(err))
        if data is None:
            if existed:
                # Home Assistant moved a corrupt file aside and returned nothing.
                _LOGGER.error("%s was corrupt; sharing fails closed", self.path)
                return LoadResult(ShareState(), unreadable=True, error="corrupt JSON")
            return LoadResult(ShareState())
        try:
            seq = data.get("audit_seq", 0)
            return LoadResult(
                ShareState.from_dict(data), audit_seq=seq if type(seq) is int else 0
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            # Keep the evidence: the next save would overwrite it.
            aside = f"{self.path}.unreadable.{dt_util.utcnow():%Y%m%dT%H%M%S}"
            kept = f"kept as {aside}"
            try:
                await self._hass.async_add_executor_job(os.replace, self.path, aside)
            except OSError as move_err:
                # Failing closed matters more than keeping the evidence.
                kept = f"not kept: {move_err}"
            _LOGGER.exception(
                "%s is malformed (%s); sharing fails closed", self.path, kept
            )
            return LoadResult(ShareState(), unreadable=True, error=f"malformed: {err}")

    async def async_save(self, state: ShareState, audit_seq: int) -> None:
        """Write the state now (security decisions are never debounced).

        `audit_seq` is the audit log's last seq: what start-up replays after.
        """
        await self._store.async_save({**state.as_dict(), "audit_seq": audit_seq})

    async def async_remove(self) -> None:
        """Delete the file when the agreement is deleted."""
        await self._store.async_remove()
