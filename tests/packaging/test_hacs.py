"""The repository is what HACS accepts as an integration repository.

The rules are HACS's own (hacs/integration `custom_components/hacs/utils/
validate.py`, `validate/hacsjson.py`, `validate/integration_manifest.py`) and its
publishing guide (hacs.xyz/docs/publish/start, /docs/publish/integration),
restated here so that breaking one fails a test, not a HACS submission.
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

REPO = Path(__file__).resolve().parents[2]
DOMAIN = "school_emergency_share"
INTEGRATION = REPO / "custom_components" / DOMAIN

# hacs.json: these keys only (PREVENT_EXTRA), `name` required.
HACS_JSON_SCHEMA = vol.Schema(
    {
        vol.Optional("content_in_root"): bool,
        vol.Optional("country"): vol.Any(str, [str]),
        vol.Optional("filename"): str,
        vol.Optional("hacs"): vol.All(str, vol.Coerce(AwesomeVersion)),
        vol.Optional("hide_default_branch"): bool,
        vol.Optional("homeassistant"): vol.All(str, vol.Coerce(AwesomeVersion)),
        vol.Optional("persistent_directory"): str,
        vol.Optional("render_readme"): bool,
        vol.Optional("zip_release"): bool,
        vol.Required("name"): str,
    },
    extra=vol.PREVENT_EXTRA,
)
# manifest.json: what HACS itself reads (other keys are Home Assistant's).
HACS_INTEGRATION_MANIFEST_SCHEMA = vol.Schema(
    {
        vol.Required("codeowners"): list,
        vol.Required("documentation"): cv.url,
        vol.Required("domain"): str,
        vol.Required("issue_tracker"): cv.url,
        vol.Required("name"): str,
        vol.Required("version"): vol.Coerce(AwesomeVersion),
    },
    extra=vol.ALLOW_EXTRA,
)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _pinned(environment: str) -> str:
    """The Home Assistant version requirements/<environment>.in pins."""
    pinned = re.search(
        r"^homeassistant==(\S+)",
        (REPO / "requirements" / f"{environment}.in").read_text(encoding="utf-8"),
        re.MULTILINE,
    )
    assert pinned is not None
    return pinned.group(1)


def test_hacs_json_has_only_keys_hacs_knows() -> None:
    """An unknown or mistyped key is a hard failure in HACS's validation."""
    hacs = _json(REPO / "hacs.json")
    HACS_JSON_SCHEMA(hacs)
    assert hacs["name"] == _json(INTEGRATION / "manifest.json")["name"]
    # A zip release needs the file name HACS should download.
    assert not hacs.get("zip_release") or hacs.get("filename")
    # The integration lives in custom_components/, not the repository root.
    assert not hacs.get("content_in_root", False)


def test_the_minimum_home_assistant_is_the_one_the_tests_run_against() -> None:
    """HACS refuses installs older than `homeassistant`: the tested minimum."""
    assert _json(REPO / "hacs.json")["homeassistant"] == _pinned("minimum")


def test_one_integration_under_custom_components() -> None:
    """HACS manages the first subdirectory only; there must be just one."""
    folders = [
        path.name
        for path in (REPO / "custom_components").iterdir()
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert folders == [DOMAIN]
    assert (INTEGRATION / "__init__.py").is_file()
    assert (INTEGRATION / "manifest.json").is_file()


def test_the_manifest_has_what_hacs_reads() -> None:
    """domain, documentation, issue_tracker, codeowners, name, version."""
    manifest = _json(INTEGRATION / "manifest.json")
    HACS_INTEGRATION_MANIFEST_SCHEMA(manifest)
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["codeowners"]
    assert all(re.fullmatch(r"@[\w.-]+(/[\w.-]+)?", o) for o in manifest["codeowners"])


def test_the_readme_hacs_renders_exists() -> None:
    """HACS shows the README (`render_readme`); a repository needs one."""
    readme = REPO / "README.md"
    assert readme.is_file()
    assert readme.read_text(encoding="utf-8").strip()


def test_the_readme_names_the_versions_the_tests_run_against() -> None:
    """'Supported Home Assistant: <minimum> ... to <current>', as pinned."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    supported = re.search(
        r"\*\*Supported Home Assistant:\*\* (\S+) .*? to (\S+) ", readme, re.DOTALL
    )
    assert supported is not None
    assert supported.groups() == (_pinned("minimum"), _pinned("current"))
