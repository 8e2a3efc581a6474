"""Each environment pins what its Home Assistant's own integrations ask for.

Real Home Assistant processes here (the demo, the benchmark, tests/realhass) run
with `--skip-pip`: the core integrations they load import whatever
`requirements/<env>.in` installed. Those pins must be the versions the installed
Home Assistant's `manifest.json` files name, or the demo runs libraries no
district will; a Home Assistant upgrade that moves one fails here.
"""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path
import re
from typing import Final

import homeassistant.components
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
import pytest

REQUIREMENTS: Final = Path(__file__).resolve().parents[2] / "requirements"
CORE_COMPONENTS: Final = Path(homeassistant.components.__file__).parent


def _pins(path: Path) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalised name."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line):
            pins[canonicalize_name(match[1])] = match[2]
    return pins


def _environment() -> str:
    """The environment whose .in pins the Home Assistant installed here."""
    for source in sorted(REQUIREMENTS.glob("*.in")):
        if _pins(source).get("homeassistant") == HA_VERSION:
            return source.stem
    pytest.skip(f"no requirements/*.in pins Home Assistant {HA_VERSION}")


def _core_pins() -> dict[str, dict[str, str]]:
    """Every `==` requirement of a core integration: name -> {domain: version}."""
    pins: dict[str, dict[str, str]] = {}
    for manifest in sorted(CORE_COMPONENTS.glob("*/manifest.json")):
        for text in json.loads(manifest.read_text(encoding="utf-8")).get(
            "requirements", []
        ):
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue  # a few are URLs
            for spec in requirement.specifier:
                if spec.operator == "==":
                    name = canonicalize_name(requirement.name)
                    pins.setdefault(name, {})[manifest.parent.name] = spec.version
    return pins


def test_core_integration_requirements_are_pinned_as_their_manifests_ask() -> None:
    """ha-ffmpeg, PyTurboJPEG, av, the frontend, SQLAlchemy...: same versions."""
    name = _environment()
    ours = _pins(REQUIREMENTS / f"{name}.in")
    core = _core_pins()
    shared = {package for package in ours if package in core}
    assert "ha-ffmpeg" in shared  # the integration's own dependency
    wrong = {
        package: (ours[package], core[package])
        for package in sorted(shared)
        if set(core[package].values()) != {ours[package]}
    }
    assert wrong == {}
    locked = _pins(REQUIREMENTS / f"{name}.txt")
    assert {package: locked[package] for package in shared} == {
        package: ours[package] for package in shared
    }


def test_the_test_plugin_is_the_one_built_for_this_home_assistant() -> None:
    """pytest-homeassistant-custom-component pins the Home Assistant it mirrors."""
    _environment()
    requires = metadata.requires("pytest-homeassistant-custom-component") or []
    assert f"homeassistant=={HA_VERSION}" in requires
