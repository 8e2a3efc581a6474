"""Automations from the integration's blueprints, created through the API.

The integration copies its blueprints into
`<config>/blueprints/automation/school_emergency_share/` when an agreement is
set up. For each blueprint the demo knows, one or more automations are made
with `use_blueprint`, their inputs filled by what each input's selector asks
for (the agreement, alarm helpers, areas). A blueprint that is missing, or
that asks for something the demo cannot supply, is skipped with a note: the
blueprints are written separately and their inputs may change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from testbed.errors import SetupError
from testbed.hass import HassClient

from . import district
from .district import DOMAIN, HELPERS

NAMESPACE: Final = DOMAIN
ALARMS: Final = HELPERS


@dataclass(frozen=True, slots=True)
class Instance:
    """One automation made from a blueprint."""

    automation_id: str
    alias: str
    entities: tuple[str, ...] = ()
    """For entity inputs of the matching domains (the alarms, the buttons)."""
    areas: tuple[str, ...] = ()
    """Area names, for area inputs."""
    values: dict[str, Any] = field(default_factory=dict)
    """Inputs given by name; they win over what selectors suggest."""
    not_in_demo: str | None = None
    """Why the demo does not make this automation (None: it does)."""


INSTANCES: Final[dict[str, tuple[Instance, ...]]] = {
    "fire_alarm_activate.yaml": (
        Instance(
            "ses_demo_fire_alarm",
            "Fire alarm starts emergency sharing",
            entities=("input_boolean.fire_alarm",),
        ),
    ),
    "panic_activate_area.yaml": (
        Instance(
            "ses_demo_panic_gym",
            "Gym panic button shares the gym",
            entities=("input_boolean.panic_button_gym",),
            areas=("Lincoln High - Gym",),
        ),
        Instance(
            "ses_demo_panic_cafeteria",
            "Cafeteria panic button shares the cafeteria",
            entities=("input_boolean.panic_button_cafeteria",),
            areas=("Washington Elementary - Cafeteria",),
        ),
        Instance(
            "ses_demo_intrusion",
            "Intrusion sensor shares Washington Elementary's entrance",
            entities=("input_boolean.intrusion_sensor",),
            areas=("Washington Elementary - Main entrance",),
        ),
    ),
    "all_clear_deactivate.yaml": (
        Instance(
            "ses_demo_all_clear",
            "All clear ends emergency sharing",
            entities=ALARMS,
            # Shorter than a real district would choose, to see it happen.
            values={"minutes": 2},
        ),
    ),
    "notify_admins_actionable.yaml": (
        Instance(
            "ses_demo_notify_admins",
            "Tell administrators about sharing",
            not_in_demo="it notifies phones (mobile_app), and the demo has none",
        ),
    ),
    "police_request_actionable.yaml": (
        Instance(
            "ses_demo_police_request",
            "Police requests to administrators' phones",
            not_in_demo="it notifies phones (mobile_app), and the demo has none",
        ),
    ),
}


class MissingInputError(Exception):
    """An input the demo has nothing to give for."""


def _flatten(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Inputs by name; sections (groups of inputs) are opened."""
    flat: dict[str, dict[str, Any]] = {}
    for name, given in inputs.items():
        spec = given or {}
        if isinstance(spec.get("input"), dict):
            flat.update(_flatten(spec["input"]))
        else:
            flat[name] = spec
    return flat


def _domains(selector: dict[str, Any]) -> set[str]:
    filters = selector.get("filter") or []
    if isinstance(filters, dict):
        filters = [filters]
    domains: set[str] = set()
    for item in filters:
        domain = item.get("domain")
        domains.update([domain] if isinstance(domain, str) else domain or [])
    if isinstance(selector.get("domain"), str):
        domains.add(selector["domain"])
    return domains


def fill_inputs(
    inputs: dict[str, Any],
    instance: Instance,
    *,
    entry_id: str,
    area_ids: dict[str, str],
) -> dict[str, Any]:
    """The blueprint's inputs for `instance`; inputs with defaults may be left out.

    Raises:
        MissingInputError: a required input the demo has no value for.

    """
    values: dict[str, Any] = {}
    for name, spec in _flatten(inputs).items():
        if name in instance.values:
            values[name] = instance.values[name]
            continue
        selector: dict[str, Any] = spec.get("selector") or {}
        kind = next(iter(selector), None)
        options = selector.get(kind) or {} if kind else {}
        value: Any = None
        if kind == "config_entry":
            value = entry_id
        elif kind == "entity":
            domains = _domains(options)
            chosen = [
                e
                for e in instance.entities
                if not domains or e.split(".", 1)[0] in domains
            ]
            if chosen:
                value = chosen if options.get("multiple") else chosen[0]
        elif kind == "area" and instance.areas:
            chosen = [area_ids[a] for a in instance.areas if a in area_ids]
            value = chosen if options.get("multiple") else chosen[0]
        if value is not None:
            values[name] = value
        elif "default" not in spec:
            raise MissingInputError(name)
    return values


async def instantiate(
    client: HassClient, entry_id: str, *, only_missing: bool = True
) -> list[str]:
    """Create the automations the available blueprints allow; returns notes.

    With `only_missing`, automations that exist already are left as they are.
    """
    listing: dict[str, Any] = await client.ws("blueprint/list", domain="automation")
    areas = await district.area_ids(client)
    notes: list[str] = []
    for filename, instances in INSTANCES.items():
        path = f"{NAMESPACE}/{filename}"
        blueprint = listing.get(path)
        if blueprint is None:
            notes.append(f"blueprint {path} is not installed; skipped")
            continue
        if "error" in blueprint:
            notes.append(f"blueprint {path} does not load: {blueprint['error']}")
            continue
        inputs = blueprint["metadata"].get("input") or {}
        for instance in instances:
            if instance.not_in_demo:
                notes.append(f"{path}: not used in the demo: {instance.not_in_demo}")
                continue
            config_path = f"/api/config/automation/config/{instance.automation_id}"
            if only_missing:
                status, _ = await client.request("GET", config_path, ok=(200, 404))
                if status == 200:
                    continue
            try:
                values = fill_inputs(
                    inputs, instance, entry_id=entry_id, area_ids=areas
                )
            except MissingInputError as err:
                notes.append(
                    f"{path}: no value for its input {err}; "
                    f"automation {instance.alias!r} skipped"
                )
                continue
            try:
                await client.post(
                    config_path,
                    {
                        "alias": instance.alias,
                        "description": "Made by the demo (scripts/develop).",
                        "use_blueprint": {"path": path, "input": values},
                    },
                )
            except SetupError as err:
                notes.append(f"{path}: automation {instance.alias!r} refused: {err}")
                continue
            notes.append(f"automation {instance.alias!r} created from {path}")
    return notes


async def automation_exists(client: HassClient, automation_id: str) -> bool:
    """Whether the automation with this id is configured."""
    status, _ = await client.request(
        "GET", f"/api/config/automation/config/{automation_id}", ok=(200, 404)
    )
    return status == 200
