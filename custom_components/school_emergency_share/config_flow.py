"""Adding and changing an agreement in Settings → Devices & services.

Adding an agreement takes three steps: the parties and dates, the cameras, the
rules. The options flow changes the dates, cameras and rules; reconfiguring
renames the parties. Neither reloads the agreement (that would end a running
session): the entry's update listener applies every change, and one that
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
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    selector,
)
from homeassistant.util import slugify
import voluptuous as vol

from .const import (
    CONF_AGENCY,
    CONF_ALLOWED_USERS,
    CONF_CAMERA_AREAS,
    CONF_CAMERAS,
    CONF_FAILURE_LIMIT,
    CONF_MASKS,
    CONF_MAX_EXTENSION_MINUTES,
    CONF_MAX_SESSION_MINUTES,
    CONF_MAX_STREAMS_PER_VIEWER,
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
    DEFAULT_MAX_STREAMS_PER_VIEWER,
    DEFAULT_MAX_VIEWERS,
    DEFAULT_RETENTION_DAYS,
    DOMAIN,
    MAX_FAILURE_LIMIT,
)
from .core.masks import masks_as_options, masks_from_options


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
    """Who the agreement is between."""
    return vol.Schema(
        {
            vol.Required(CONF_SCHOOL, default=defaults.get(CONF_SCHOOL, "")): str,
            vol.Required(CONF_AGENCY, default=defaults.get(CONF_AGENCY, "")): str,
        }
    )


def dates_schema(defaults: dict[str, Any]) -> vol.Schema:
    """When the agreement is in force."""
    return vol.Schema(
        {
            vol.Required(
                CONF_VALID_FROM, default=defaults.get(CONF_VALID_FROM, vol.UNDEFINED)
            ): selector.DateSelector(),
            vol.Required(
                CONF_VALID_UNTIL, default=defaults.get(CONF_VALID_UNTIL, vol.UNDEFINED)
            ): selector.DateSelector(),
        }
    )


def cameras_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Step 2: the cameras the agreement covers, and the ones never shared.

    A district has hundreds: whole areas can be added at once (every camera in
    them but the private ones), and the entity picker searches by name.
    """
    cameras = selector.EntitySelector(
        selector.EntitySelectorConfig(domain=Platform.CAMERA, multiple=True)
    )
    return vol.Schema(
        {
            vol.Optional(CONF_CAMERA_AREAS, default=[]): selector.AreaSelector(
                selector.AreaSelectorConfig(multiple=True)
            ),
            vol.Optional(CONF_CAMERAS, default=defaults.get(CONF_CAMERAS, [])): cameras,
            vol.Optional(
                CONF_PRIVATE_CAMERAS, default=defaults.get(CONF_PRIVATE_CAMERAS, [])
            ): cameras,
        }
    )


def cameras_in_areas(hass: HomeAssistant, area_ids: list[str]) -> set[str]:
    """Every camera placed in the areas, itself or through its device."""
    entities, devices = er.async_get(hass), dr.async_get(hass)
    found: set[str] = set()
    for area_id in area_ids:
        placed = list(er.async_entries_for_area(entities, area_id))
        for device in dr.async_entries_for_area(devices, area_id):
            placed += [
                entry
                for entry in er.async_entries_for_device(entities, device.id)
                if entry.area_id is None
            ]
        found |= {entry.entity_id for entry in placed if entry.domain == "camera"}
    return found


def with_areas(hass: HomeAssistant, user_input: dict[str, Any]) -> dict[str, Any]:
    """The cameras step's answer with its areas turned into their cameras."""
    picked = dict(user_input)
    private = set(picked.get(CONF_PRIVATE_CAMERAS, []))
    in_areas = cameras_in_areas(hass, picked.pop(CONF_CAMERA_AREAS, []))
    given = list(picked.get(CONF_CAMERAS, []))
    picked[CONF_CAMERAS] = [*given, *sorted(in_areas - set(given) - private)]
    return picked


def masks_schema(defaults: dict[str, Any]) -> vol.Schema:
    """Options: privacy masks by camera (rectangles in fractions of the frame)."""
    return vol.Schema(
        {
            vol.Optional(
                CONF_MASKS, default=defaults.get(CONF_MASKS, {})
            ): selector.ObjectSelector(),
        }
    )


def validate_masks(data: dict[str, Any], cameras: list[str]) -> dict[str, str]:
    """Errors of the masks step: well-formed masks of the agreement's cameras."""
    try:
        masks = masks_from_options(data.get(CONF_MASKS))
    except (TypeError, ValueError):
        return {CONF_MASKS: "masks_invalid"}
    if set(masks) - set(cameras):
        return {CONF_MASKS: "mask_camera_unknown"}
    return {}


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
            vol.Required(
                CONF_MAX_STREAMS_PER_VIEWER,
                default=defaults.get(
                    CONF_MAX_STREAMS_PER_VIEWER, DEFAULT_MAX_STREAMS_PER_VIEWER
                ),
            ): _number(1, 64),
        }
    )


def validate_parties(data: dict[str, Any]) -> dict[str, str]:
    """Errors of the parties, by field."""
    errors: dict[str, str] = {}
    if not str(data.get(CONF_SCHOOL, "")).strip():
        errors[CONF_SCHOOL] = "required"
    if not str(data.get(CONF_AGENCY, "")).strip():
        errors[CONF_AGENCY] = "required"
    return errors


def validate_dates(data: dict[str, Any]) -> dict[str, str]:
    """Errors of the dates, by field."""
    try:
        start = date.fromisoformat(str(data[CONF_VALID_FROM]))
        end = date.fromisoformat(str(data[CONF_VALID_UNTIL]))
    except (KeyError, ValueError):
        return {"base": "invalid_date"}
    if end < start:
        return {CONF_VALID_UNTIL: "dates_reversed"}
    return {}


def trimmed_parties(data: dict[str, Any]) -> dict[str, str]:
    """The parties' names without surrounding spaces."""
    return {key: str(data[key]).strip() for key in (CONF_SCHOOL, CONF_AGENCY)}


def agreement_title(data: dict[str, Any]) -> str:
    """The entry's (and the device's) name: school and agency."""
    return f"{data[CONF_SCHOOL]} - {data[CONF_AGENCY]}"


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
        CONF_MAX_STREAMS_PER_VIEWER,
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
    """The cameras and rules steps, shared by the config flow and the options flow."""

    hass: HomeAssistant
    data: dict[str, Any]

    # Provided by Home Assistant's flow handlers.
    async_show_form: Callable[..., ConfigFlowResult]

    async def _finish(self) -> ConfigFlowResult:
        raise NotImplementedError

    async def _after_rules(self) -> ConfigFlowResult:
        return await self._finish()

    async def async_step_cameras(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        errors: dict[str, str] = {}
        if user_input is not None:
            user_input = with_areas(self.hass, user_input)
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
            return await self._after_rules()
        users = await _user_options(self.hass)
        return self.async_show_form(
            step_id="rules", data_schema=rules_schema(self.hass, users, self.data)
        )


class SchoolEmergencyShareConfigFlow(_AgreementSteps, ConfigFlow, domain=DOMAIN):
    """Add an agreement with one police agency; rename its parties later."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with nothing filled in."""
        self.data: dict[str, Any] = {}

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Begin with the parties and dates."""
        return await self.async_step_parties(user_input)

    async def async_step_parties(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The parties and dates; one agreement per school and agency."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_parties(user_input) | validate_dates(user_input)
            if not errors:
                await self.async_set_unique_id(agreement_unique_id(user_input))
                self._abort_if_unique_id_configured()
                self.data.update({**user_input, **trimmed_parties(user_input)})
                return await self.async_step_cameras()
        return self.async_show_form(
            step_id="parties",
            data_schema=parties_schema(user_input or {}).extend(
                dates_schema(user_input or {}).schema
            ),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Rename the school or the agency; the running session goes on."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_parties(user_input)
            unique_id = agreement_unique_id(user_input) if not errors else None
            if unique_id is not None and any(
                other.unique_id == unique_id and other.entry_id != entry.entry_id
                for other in self.hass.config_entries.async_entries(DOMAIN)
            ):
                errors["base"] = "already_configured"
            if not errors:
                options = {**entry.options, **trimmed_parties(user_input)}
                # Not reloaded: unloading would end a running session. The
                # entry's update listener applies the new names.
                self.hass.config_entries.async_update_entry(
                    entry,
                    title=agreement_title(options),
                    unique_id=unique_id,
                    options=options,
                )
                return self.async_abort(reason="reconfigure_successful")
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=parties_schema(user_input or dict(entry.options)),
            errors=errors,
        )

    async def _finish(self) -> ConfigFlowResult:
        return self.async_create_entry(
            title=agreement_title(self.data), data={}, options=self.data
        )

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ConfigEntry[Any],  # noqa: ARG004 - Home Assistant's signature
    ) -> OptionsFlow:
        """Change the agreement's dates, cameras and rules."""
        return SchoolEmergencyShareOptionsFlow()


class SchoolEmergencyShareOptionsFlow(_AgreementSteps, OptionsFlow):
    """Dates, cameras and rules, filled in with the agreement as it is."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Start from the agreement's current options."""
        self.data = dict(self.config_entry.options)
        return await self.async_step_dates(user_input)

    async def async_step_dates(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """When the agreement is in force."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_dates(user_input)
            if not errors:
                self.data.update(user_input)
                return await self.async_step_cameras()
        return self.async_show_form(
            step_id="dates",
            data_schema=dates_schema(user_input or self.data),
            errors=errors,
        )

    async def _after_rules(self) -> ConfigFlowResult:
        return await self.async_step_masks()

    async def async_step_masks(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Privacy masks: what of a camera's picture no viewer may see."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = validate_masks(user_input, self.data.get(CONF_CAMERAS, []))
            if not errors:
                masks = masks_from_options(user_input.get(CONF_MASKS))
                self.data[CONF_MASKS] = masks_as_options(masks)
                return await self._finish()
        return self.async_show_form(
            step_id="masks",
            data_schema=masks_schema(user_input or self.data),
            errors=errors,
        )

    async def _finish(self) -> ConfigFlowResult:
        # The entry's update listener applies the new options to the running
        # agreement: one place for every change.
        return self.async_create_entry(data=self.data)
