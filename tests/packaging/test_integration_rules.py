"""The integration is what Home Assistant's loader and hassfest accept.

Restates the checks of `script/hassfest/manifest.py` (custom integration
schema, sorted keys, IoT class, version) and of hassfest's services and
translations checks, then asks this Home Assistant's loader for the
integration and its dependencies, and compares the services it registers with
services.yaml, strings.json and icons.json.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import (
    AwesomeVersion,
    AwesomeVersionException,
    AwesomeVersionStrategy,
)
import homeassistant.components
from homeassistant.core import HomeAssistant
from homeassistant.loader import async_get_integration
from homeassistant.util.yaml import load_yaml_dict
import voluptuous as vol

from custom_components import school_emergency_share
from tests.ha.common import async_settle, async_setup_agreement, async_setup_cameras

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "school_emergency_share"
INTEGRATION = REPO / "custom_components" / DOMAIN
MANIFEST: dict[str, Any] = json.loads((INTEGRATION / "manifest.json").read_text())
STRINGS: dict[str, Any] = json.loads((INTEGRATION / "strings.json").read_text())
SERVICES_YAML = load_yaml_dict(INTEGRATION / "services.yaml")
CORE_COMPONENTS = Path(homeassistant.components.__file__).parent

SUPPORTED_IOT_CLASSES = (
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
)
INTEGRATION_TYPES = (
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
)
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]


def _version(value: str) -> str:
    try:
        AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    except AwesomeVersionException as err:
        raise vol.Invalid(f"{value!r} is not a valid version") from err
    return value


def _https(value: str) -> str:
    if not value.startswith("https://"):
        raise vol.Invalid("not an https URL")
    return value


# hassfest's CUSTOM_INTEGRATION_MANIFEST_SCHEMA, for the keys an integration
# like this one can use (anything else fails, as it would in hassfest).
CUSTOM_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("domain"): str,
        vol.Required("name"): str,
        vol.Optional("integration_type"): vol.In(INTEGRATION_TYPES),
        vol.Optional("config_flow"): bool,
        vol.Required("documentation"): vol.All(vol.Url(), _https),
        vol.Optional("issue_tracker"): vol.Url(),
        vol.Optional("requirements"): [str],
        vol.Optional("dependencies"): [str],
        vol.Optional("after_dependencies"): [str],
        vol.Required("codeowners"): [str],
        vol.Optional("loggers"): [str],
        vol.Optional("iot_class"): vol.In(SUPPORTED_IOT_CLASSES),
        vol.Optional("single_config_entry"): bool,
        vol.Required("version"): vol.All(str, _version),
        vol.Optional("import_executor"): bool,
    }
)


def test_the_manifest_passes_hassfests_custom_integration_schema() -> None:
    """Known keys only, a valid IoT class and integration type, a version."""
    CUSTOM_MANIFEST_SCHEMA(MANIFEST)
    assert MANIFEST["iot_class"] in SUPPORTED_IOT_CLASSES


def test_the_domain_is_the_folder_and_no_core_integrations() -> None:
    """A custom integration named like a core one would override it."""
    assert MANIFEST["domain"] == INTEGRATION.name == DOMAIN
    assert not (CORE_COMPONENTS / DOMAIN).exists()


def test_manifest_keys_are_sorted_as_hassfest_sorts_them() -> None:
    """domain, name, then alphabetical order."""
    keys = list(MANIFEST)
    order = {"domain": ".domain", "name": ".name"}
    assert keys == sorted(keys, key=lambda key: order.get(key, key))


def test_requirements_are_pinned_and_installed_at_that_version() -> None:
    """`package==version`, the same pin the project's environments install."""
    from importlib.metadata import version  # noqa: PLC0415

    common = (REPO / "requirements" / "common.in").read_text(encoding="utf-8")
    for requirement in MANIFEST["requirements"]:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([A-Za-z0-9.+!-]+)", requirement)
        assert match, f"{requirement} is not pinned with =="
        assert version(match.group(1)) == match.group(2)
        assert re.search(rf"^{re.escape(requirement)}$", common, re.MULTILINE)


def test_config_flow_is_declared_and_present() -> None:
    """config_flow: true needs config_flow.py; async_setup needs a CONFIG_SCHEMA."""
    assert MANIFEST["config_flow"] is True
    assert (INTEGRATION / "config_flow.py").is_file()
    # hassfest: an integration with async_setup must define CONFIG_SCHEMA.
    assert hasattr(school_emergency_share, "async_setup")
    assert school_emergency_share.CONFIG_SCHEMA is not None


def test_strings_json_and_the_english_translation_are_the_same() -> None:
    """Custom integrations ship translations/en.json; it must not drift."""
    english = json.loads((INTEGRATION / "translations" / "en.json").read_text())
    assert english == STRINGS


async def test_the_loader_accepts_it_and_its_dependencies_are_core(
    hass: HomeAssistant, enable_custom_integrations: None
) -> None:
    """Home Assistant finds it as a custom integration with a valid version."""
    integration = await async_get_integration(hass, DOMAIN)
    assert not integration.is_built_in
    assert str(integration.version) == MANIFEST["version"]
    assert integration.config_flow is True
    assert integration.iot_class == MANIFEST["iot_class"]
    for name in (*MANIFEST["dependencies"], *MANIFEST["after_dependencies"]):
        dependency = await async_get_integration(hass, name)
        assert dependency.is_built_in, name
        assert (CORE_COMPONENTS / name).is_dir(), name
    # No dependency is also an after_dependency: one or the other.
    assert not set(MANIFEST["dependencies"]) & set(MANIFEST["after_dependencies"])


async def test_services_yaml_describes_exactly_the_registered_services(
    hass: HomeAssistant, tmp_path: Path, enable_custom_integrations: None
) -> None:
    """Same services, same fields, same required fields as the schemas."""
    hass.config.config_dir = str(tmp_path)
    await async_setup_cameras(hass)
    await async_setup_agreement(hass)
    await async_settle(hass)

    registered = hass.services.async_services()[DOMAIN]
    assert set(registered) == set(SERVICES_YAML)
    for name, service in registered.items():
        schema = service.schema
        assert isinstance(schema, vol.Schema), name
        fields = {str(key): key for key in schema.schema}
        described = SERVICES_YAML[name]["fields"]
        assert set(described) == set(fields), name
        for field, key in fields.items():
            required = isinstance(key, vol.Required)
            assert described[field].get("required", False) == required, (name, field)
            assert "selector" in described[field], (name, field)


def test_every_service_and_field_is_named_and_described_in_strings() -> None:
    """The UI shows strings.json's names and descriptions (hassfest requires them)."""
    services = STRINGS["services"]
    assert set(services) == set(SERVICES_YAML)
    for name, spec in SERVICES_YAML.items():
        text = services[name]
        assert text["name"].strip()
        assert text["description"].strip()
        assert set(text["fields"]) == set(spec["fields"]), name
        for field, words in text["fields"].items():
            assert words["name"].strip(), (name, field)
            assert words["description"].strip(), (name, field)
        # services.yaml leaves the words to strings.json.
        assert "name" not in spec
        assert "description" not in spec


def test_every_service_and_entity_icon_belongs_to_something_real() -> None:
    """icons.json: one icon per service; entity icons only for known keys."""
    icons = json.loads((INTEGRATION / "icons.json").read_text())
    assert set(icons["services"]) == set(SERVICES_YAML)
    for platform, keys in icons["entity"].items():
        assert set(keys) <= set(STRINGS["entity"][platform]), platform
