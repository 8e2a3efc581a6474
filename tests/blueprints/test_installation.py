"""The blueprints users import and the ones the integration installs are the same.

Setting up an agreement puts them in the user's config; a file already there is
the user's and is left as it is.
"""

from __future__ import annotations

from pathlib import Path

from awesomeversion import AwesomeVersion
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint.models import Blueprint
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from homeassistant.core import HomeAssistant
from homeassistant.util.yaml import Input, load_yaml_dict
import pytest

from custom_components.school_emergency_share.const import DOMAIN
from tests.ha.common import async_settle

from .common import (
    BLUEPRINTS,
    REPO_BLUEPRINTS,
    SHIPPED_BLUEPRINTS,
    async_setup_agreement_with_blueprints,
    installed_folder,
)

SOURCE_URL = (
    "https://github.com/school-emergency-share/school-emergency-share/blob/main/"
    "blueprints/automation/school_emergency_share/{name}"
)
# hacs.json's "homeassistant": the oldest Home Assistant the integration supports.
MINIMUM_HA = "2025.4.4"


def test_the_shipped_copies_are_byte_identical_to_the_importable_ones() -> None:
    """What a user imports from GitHub is what the integration installs."""
    assert sorted(p.name for p in REPO_BLUEPRINTS.glob("*.yaml")) == sorted(BLUEPRINTS)
    assert sorted(p.name for p in SHIPPED_BLUEPRINTS.glob("*.yaml")) == sorted(
        BLUEPRINTS
    )
    for name in BLUEPRINTS:
        repo = (REPO_BLUEPRINTS / name).read_bytes()
        assert repo == (SHIPPED_BLUEPRINTS / name).read_bytes(), name


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_each_blueprint_is_a_valid_automation_blueprint(name: str) -> None:
    """Home Assistant's own schema accepts it; its metadata says where it lives."""
    blueprint = Blueprint(
        load_yaml_dict(REPO_BLUEPRINTS / name),
        path=f"{DOMAIN}/{name}",
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )
    metadata = blueprint.metadata
    assert metadata["name"].startswith("School Emergency Share - ")
    assert metadata["description"].strip()
    assert metadata["source_url"] == SOURCE_URL.format(name=name)
    assert blueprint.validate() is None  # min_version not above this Home Assistant
    min_version = metadata["homeassistant"]["min_version"]
    assert AwesomeVersion(min_version) <= AwesomeVersion(MINIMUM_HA)
    assert AwesomeVersion(MINIMUM_HA) <= AwesomeVersion(HA_VERSION)
    for key, spec in blueprint.inputs.items():
        assert spec is not None, f"{name}: input {key} has no name or selector"
        assert "name" in spec, f"{name}: input {key} has no name"
        assert "selector" in spec, f"{name}: input {key} has no selector"


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_each_blueprint_uses_exactly_the_inputs_it_declares(name: str) -> None:
    """No `!input` without a declaration, no declared input left unused."""
    data = load_yaml_dict(REPO_BLUEPRINTS / name)
    used: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, Input):
            used.add(node.name)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk({key: value for key, value in data.items() if key != "blueprint"})
    assert used == set(data["blueprint"]["input"])


@pytest.mark.parametrize("name", BLUEPRINTS)
def test_agreement_is_chosen_among_this_integrations_entries(name: str) -> None:
    """The agreement picker offers School Emergency Share's agreements only.

    The notification blueprints pick the Emergency sharing switch, which names
    its agreement; asking for both could only let them disagree.
    """
    inputs = load_yaml_dict(REPO_BLUEPRINTS / name)["blueprint"]["input"]
    if name.endswith("_actionable.yaml"):
        assert inputs["sharing_switch"]["selector"] == {
            "entity": {"filter": [{"integration": DOMAIN, "domain": "switch"}]}
        }
    else:
        assert inputs["agreement"]["selector"] == {
            "config_entry": {"integration": DOMAIN}
        }


async def test_setting_up_an_agreement_installs_every_blueprint(
    hass: HomeAssistant, cameras: object
) -> None:
    """They appear where the automation editor looks for blueprints."""
    await async_setup_agreement_with_blueprints(hass)
    folder = installed_folder(hass)
    assert folder == Path(hass.config.config_dir) / "blueprints/automation" / DOMAIN
    assert sorted(p.name for p in folder.iterdir()) == sorted(BLUEPRINTS)
    for name in BLUEPRINTS:
        assert (folder / name).read_bytes() == (REPO_BLUEPRINTS / name).read_bytes()


async def test_a_users_edited_blueprint_survives_a_reload(
    hass: HomeAssistant, cameras: object
) -> None:
    """The integration never overwrites a file the user may have changed."""
    entry = await async_setup_agreement_with_blueprints(hass)
    edited = installed_folder(hass) / "fire_alarm_activate.yaml"
    mine = (
        edited.read_text().replace("Fire alarm", "Evacuate: fire alarm") + "\n# mine\n"
    )
    edited.write_text(mine)
    removed = installed_folder(hass) / "all_clear_deactivate.yaml"
    removed.unlink()

    assert await hass.config_entries.async_reload(entry.entry_id)
    await async_settle(hass)

    assert edited.read_text() == mine
    # A file that is not there is the integration's to put back.
    assert removed.read_bytes() == (REPO_BLUEPRINTS / removed.name).read_bytes()
