"""Each environment pins what its Home Assistant's own integrations ask for.

Real Home Assistant processes here (the demo, the benchmark, tests/realhass) run
with `--skip-pip`: the core integrations they load import whatever
`requirements/<env>.in` installed. Those pins must be the versions the installed
Home Assistant's `manifest.json` files name, or the demo runs libraries no
district will; and every integration such a process sets up must find its
requirements, or it fails to set up. A Home Assistant upgrade that moves a pin
or sets up something new fails here.
"""

from __future__ import annotations

from importlib import metadata
import json
import os
from pathlib import Path
import re
from typing import Any, Final

from homeassistant import bootstrap
import homeassistant.components
from homeassistant.const import __version__ as HA_VERSION  # noqa: N812
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
import pytest

REPO: Final = Path(__file__).resolve().parents[2]
REQUIREMENTS: Final = REPO / "requirements"
CORE_COMPONENTS: Final = Path(homeassistant.components.__file__).parent
# Config flows the demo and the benchmark start (camera integrations).
FLOWS: Final = ("mjpeg", "generic")


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


def _manifest(domain: str) -> dict[str, Any]:
    path = CORE_COMPONENTS / domain / "manifest.json"
    if not path.is_file():
        path = REPO / "custom_components" / domain / "manifest.json"
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def _set_up_by_a_real_home_assistant() -> set[str]:
    """What `hass -c config` sets up here, with everything it depends on.

    Not the integrations whose flows onboarding starts (google_translate, met,
    radio_browser, shopping_list): their requirements were never installed
    here, and the demo removes what they create.
    """
    configured = re.findall(
        r"^([a-z_]+):",
        (REPO / "config" / "configuration.yaml").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    ours = _manifest("school_emergency_share")
    wanted = {
        *bootstrap.CORE_INTEGRATIONS,
        *bootstrap.DEFAULT_INTEGRATIONS,
        *configured,
        *FLOWS,
        "school_emergency_share",
        *ours.get("after_dependencies", []),
    }
    domains: set[str] = set()
    while wanted:
        domain = wanted.pop()
        if domain in domains:
            continue
        domains.add(domain)
        wanted.update(_manifest(domain).get("dependencies", []))
    return domains


@pytest.mark.skipif(
    os.environ.get("SES_TEST_ENV") == "minimum",
    reason="no real Home Assistant runs in the minimum environment",
)
def test_every_integration_a_real_home_assistant_sets_up_finds_its_requirements() -> (
    None
):
    """The demo's log has no 'Setup failed ... No module named' of ours to fix."""
    missing = {}
    for domain in sorted(_set_up_by_a_real_home_assistant()):
        for text in _manifest(domain).get("requirements", []):
            requirement = Requirement(text)
            try:
                version = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                missing[domain] = text
                continue
            if not requirement.specifier.contains(version, prereleases=True):
                missing[domain] = f"{text} (installed: {version})"
    assert missing == {}
