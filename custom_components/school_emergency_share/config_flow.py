"""Adding and changing an agreement in Settings → Devices & services.

Three steps, the same in the config flow and the options flow: the parties and
dates, the cameras, the rules. Every field can be changed later; a change that
shrinks what is shared takes effect on a running session at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, selector
from homeassistant.util import slugify
import voluptuous as vol

from .const import (
    CONF_AGENCY,
    CONF_ALLOWED_USERS,
    CONF_CAMERAS,
    CONF_FAILURE_LIMIT,
    CONF_MAX_EXTENSION_MINUTES,
    CONF_MAX_SESSION_MINUTES,
    CONF_MAX_VIEWERS,
    CONF_NOTIFY_TARGETS,
    CONF_PRIVATE_CAMERAS,
    CONF_RETENTION_DAYS,
    CONF_SCHOOL,
    CONF_VALID_FROM,
    CONF_VALID_UNTIL,
    DEFAULT_FAILURE_LIMIT,
    DEFAULT_MAX_EXTENSION_MINUTES,
    DEFAULT_MAX_SESSION_MINUTES,
    DEFAULT_MAX_VIEWERS,
    DEFAULT_RETENTION_DAYS,
    DOMAIN,
    MAX_FAILURE_LIMIT,
)


def _number(
    minimum: int, maximum: int, unit: str | None = None
) -> selector.NumberSelector:
    config = selector.NumberSelectorConfig(
        min=minimum, max=maximum, step=1, mode=selector.NumberSelectorMode.BOX
    )
    if unit is not None:
        config["unit_of_measurement"] = unit
    return selector.NumberSelector(config)


def parties_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Step 1: who the agreement is between, and when it is in force."""
    return vol.Schema(
        {
            vol.Required(CONF_SCHOOL, default=defaults.get(CONF_SCHOOL, "")): str,
            vol.Required(CONF_AGENCY, default=defaults.get(CONF_AGENCY, "")): str,
            vol.Required(
                CONF_VALID_FROM, default=defaults.get(CONF_VALID_FROM, vol.UNDEFINED)
            ): selector.DateSelector(),
            vol.Required(
                CONF_VALID_UNTIL, default=defaults.get(CONF_VALID_UNTIL, vol.UNDEFINED)
            ): selector.DateSelector(),
        }
    )


def cameras_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Step 2: the cameras the agreement covers, and the ones never shared."""
    cameras = selector.EntitySelector(
        selector.EntitySelectorConfig(domain=Platform.CAMERA, multiple=True)
    )
    return vol.Schema(
        {
            vol.Required(CONF_CAMERAS, default=defaults.get(CONF_CAMERAS, [])): cameras,
            vol.Optional(
                CONF_PRIVATE_CAMERAS, default=defaults.get(CONF_PRIVATE_CAMERAS, [])
            ): cameras,
        }
    )


def rules_schema(
    hass: HomeAssistant,
    users: list[selector.SelectOptionDict],
    defaults: dict[str, Any],
) -> vol.Schema:
    """Step 3: who may activate, how long, how many viewers, notices, retention."""
    notify = sorted(
        f"notify.{name}" for name in hass.services.async_services_for_domain("notify")
    )
    return vol.Schema(
        {
            vol.Optional(
                CONF_ALLOWED_USERS, default=defaults.get(CONF_ALLOWED_USERS, [])
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(options=users, multiple=True)
            ),
            vol.Required(
                CONF_MAX_SESSION_MINUTES,
                default=defaults.get(
                    CONF_MAX_SESSION_MINUTES, DEFAULT_MAX_SESSION_MINUTES
                ),
            ): _number(1, 1440, "min"),
            vol.Required(
                CONF_MAX_EXTENSION_MINUTES,
                default=defaults.get(
                    CONF_MAX_EXTENSION_MINUTES, DEFAULT_MAX_EXTENSION_MINUTES
                ),
            ): _number(0, 1440, "min"),
            vol.Required(
                CONF_MAX_VIEWERS,
                default=defaults.get(CONF_MAX_VIEWERS, DEFAULT_MAX_VIEWERS),
            ): _number(1, 100),
            vol.Optional(
                CONF_NOTIFY_TARGETS, default=defaults.get(CONF_NOTIFY_TARGETS, [])
            ): selector.SelectSelector(
                selector.SelectSelectorConfig(
                    options=notify, multiple=True, custom_value=True
                )
            ),
            vol.Required(
                CONF_RETENTION_DAYS,
                default=defaults.get(CONF_RETENTION_DAYS, DEFAULT_RETENTION_DAYS),
            ): _number(1, 3650, "d"),
            vol.Required(
                CONF_FAILURE_LIMIT,
                default=defaults.get(CONF_FAILURE_LIMIT, DEFAULT_FAILURE_LIMIT),
            ): _number(1, MAX_FAILURE_LIMIT),
        }
    )


def validate_parties(data: dict[str, Any]) -> dict[str, str]:
    """Errors of step 1, by field."""
    errors: dict[str, str] = {}
    if not str(data.get(CONF_SCHOOL, "")).strip():
        errors[CONF_SCHOOL] = "required"
    if not str(data.get(CONF_AGENCY, "")).strip():
        errors[CONF_AGENCY] = "required"
    try:
        start = date.fromisoformat(str(data[CONF_VALID_FROM]))
        end = date.fromisoformat(str(data[CONF_VALID_UNTIL]))
    except (KeyError, ValueError):
        errors["base"] = "invalid_date"
    else:
        if end < start:
            errors[CONF_VALID_UNTIL] = "dates_reversed"
    return errors


def validate_cameras(data: dict[str, Any]) -> dict[str, str]:
    """Errors of step 2: private cameras cannot also be shared; one camera at least."""
    eligible = set(data.get(CONF_CAMERAS, []))
    private = set(data.get(CONF_PRIVATE_CAMERAS, []))
    if eligible & private:
        return {CONF_PRIVATE_CAMERAS: "camera_private_and_eligible"}
    if not eligible:
        return {CONF_CAMERAS: "no_cameras"}
    return {}


def agreement_unique_id(data: dict[str, Any]) -> str:
    """One agreement per school and agency, however their names are spelled."""
    return f"{slugify(data[CONF_SCHOOL])}__{slugify(data[CONF_AGENCY])}"


def normalise_rules(data: dict[str, Any]) -> dict[str, Any]:
    """Numbers arrive as floats from number selectors; store whole numbers."""
    result = dict(data)
    for key in (
        CONF_MAX_SESSION_MINUTES,
        CONF_MAX_EXTENSION_MINUTES,
        CONF_MAX_VIEWERS,
        CONF_RETENTION_DAYS,
        CONF_FAILURE_LIMIT,
    ):
        if key in result:
            result[key] = int(result[key])
    result[CONF_FAILURE_LIMIT] = min(
        MAX_FAILURE_LIMIT, max(1, result.get(CONF_FAILURE_LIMIT, DEFAULT_FAILURE_LIMIT))
    )
    return result


async def _user_options(hass: HomeAssistant) -> list[selector.SelectOptionDict]:
    users = await hass.auth.async_get_users()
    return [
        selector.SelectOptionDict(value=user.id, label=user.name or user.id)
        for user in sorted(users, key=lambda u: u.name or "")
        if not user.system_generated and user.is_active
    ]


class _AgreementSteps:
    """The three steps, shared by the config flow and the options flow."""

    hass: HomeAssistant
    data: dict[str, Any]

    # Provided by Home Assistant's flow handlers.
    async_show_form: Callable[..., ConfigFlowResult]

    async def _finish(self) -> ConfigFlowResult:
        raise NotImplementedError

    def _parties_errors(self, user_input: dict[str, Any]) -> dict[str, str]:
        return validate_parties(user_input)

    async def async_step_parties(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = self._parties_errors(user_input)
            if not errors:
                self.data.update(
                    {
                        **user_input,
                        CONF_SCHOOL: user_input[CONF_SCHOOL].strip(),
                        CONF_AGENCY: user_input[CONF_AGENCY].strip(),
                    }
                )
                return await self.async_step_cameras()
        return self.async_show_form(
            step_id="parties",
            data_schema=parties_schema(user_input or self.data),
            errors=errors,
        )

    async def async_step_cameras(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_cameras(user_input)
            if not errors:
                self.data.update(user_input)
                return await self.async_step_rules()
        return self.async_show_form(
            step_id="cameras",
            data_schema=cameras_schema(user_input or self.data),
            errors=errors,
        )

    async def async_step_rules(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        if user_input is not None:
            self.data.update(normalise_rules(user_input))
            return await self._finish()
        users = await _user_options(self.hass)
        return self.async_show_form(
            step_id="rules", data_schema=rules_schema(self.hass, users, self.data)
        )


class SchoolEmergencyShareConfigFlow(_AgreementSteps, ConfigFlow, domain=DOMAIN):
    """Add an agreement with one police agency."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing filled in."""
        self.data: dict[str, Any] = {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Begin with the parties."""
        return await self.async_step_parties(user_input)

    async def async_step_parties(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The parties and dates; one agreement per school and agency."""
        if user_input is not None and not validate_parties(user_input):
            await self.async_set_unique_id(agreement_unique_id(user_input))
            self._abort_if_unique_id_configured()
        return await super().async_step_parties(user_input)

    async def _finish(self) -> ConfigFlowResult:
        return self.async_create_entry(
            title=f"{self.data[CONF_SCHOOL]} - {self.data[CONF_AGENCY]}",
            data={},
            options=self.data,
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry[Any],  # noqa: ARG004 - Home Assistant's signature
    ) -> OptionsFlow:
        """Change any part of the agreement."""
        return SchoolEmergencyShareOptionsFlow()


class SchoolEmergencyShareOptionsFlow(_AgreementSteps, OptionsFlow):
    """The same three steps, filled in with the agreement as it is."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Start from the agreement's current options."""
        self.data = dict(self.config_entry.options)
        return await self.async_step_parties(user_input)

    def _parties_errors(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Renaming the parties must not make a second agreement between them."""
        errors = validate_parties(user_input)
        if not errors:
            unique_id = agreement_unique_id(user_input)
            for entry in self.hass.config_entries.async_entries(DOMAIN):
                if entry.entry_id != self.config_entry.entry_id and (
                    entry.unique_id == unique_id
                ):
                    errors["base"] = "already_configured"
        return errors

    async def _finish(self) -> ConfigFlowResult:
        title = f"{self.data[CONF_SCHOOL]} - {self.data[CONF_AGENCY]}"
        # Title, unique id and options change together: one update, so the
        # running agreement hears of the change once.
        self.hass.config_entries.async_update_entry(
            self.config_entry,
            title=title,
            unique_id=agreement_unique_id(self.data),
            options=self.data,
        )
        # The agreement is not reloaded: rename its device (and so its
        # entities' names) here. A name the user gave the device stays.
        # The agreement's own device, without async_get_device (deprecated in
        # 2026.10; its replacements are missing from 2025.4).
        devices = dr.async_get(self.hass)
        entry_id = self.config_entry.entry_id
        for device in dr.async_entries_for_config_entry(devices, entry_id):
            if (DOMAIN, entry_id) in device.identifiers:
                devices.async_update_device(
                    device.id,
                    name=title,
                    model=f"Agreement with {self.data[CONF_AGENCY]}",
                )
        return self.async_create_entry(data=self.data)
