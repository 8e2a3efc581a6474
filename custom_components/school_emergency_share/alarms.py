"""A point in time at which something must happen: a deadline, an expiry.

Set again whenever what it depends on changes (the session's deadline moves
with an extension), cancelled when there is nothing left to wait for, and
never fired after Home Assistant has begun to stop.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers.event import async_track_point_in_utc_time


class Alarm:
    """Runs `action` at the time last `set`, once."""

    def __init__(
        self,
        hass: HomeAssistant,
        name: str,
        action: Callable[[], Coroutine[Any, Any, Any]],
    ) -> None:
        """A named alarm; nothing is scheduled until `set`."""
        self._hass = hass
        self._name = name
        self._action = action
        self._unsub: CALLBACK_TYPE | None = None
        self._job = HassJob(self._fire, name, cancel_on_shutdown=True)

    @callback
    def set(self, when: datetime | None) -> None:
        """Ring at `when` instead of any earlier setting (None: not at all)."""
        self.cancel()
        if when is not None:
            self._unsub = async_track_point_in_utc_time(self._hass, self._job, when)

    @callback
    def cancel(self) -> None:
        """Do not ring."""
        if self._unsub is not None:
            self._unsub()
            self._unsub = None

    @callback
    def _fire(self, _now: datetime) -> None:
        self._unsub = None
        self._hass.async_create_task(self._action(), self._name, eager_start=True)
