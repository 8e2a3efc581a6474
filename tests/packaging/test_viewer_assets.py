"""The viewer page's script modules: every one is served and preloaded.

A module missing from `VIEWER_MODULES` would be a 404 in the officer's
browser (the page would never load); one missing from index.html's preloads
would cost the page a round trip per import on a slow network.
"""

from __future__ import annotations

from pathlib import Path
import re

from custom_components.school_emergency_share.web.pages import (
    STATIC_FILES,
    VIEWER_DIR,
    VIEWER_MODULES,
)

IMPORT = re.compile(r'from "\./([a-z]+)\.js";')


def test_every_module_is_served_and_preloaded() -> None:
    """The modules on disk, the ones served and the ones preloaded agree."""
    on_disk = {path.stem for path in Path(VIEWER_DIR).glob("*.js")}
    page = (Path(VIEWER_DIR) / "index.html").read_text(encoding="utf-8")
    preloaded = set(
        re.findall(r'<link rel="modulepreload" href="[^"]*/static/([a-z]+)\.js">', page)
    )

    assert set(VIEWER_MODULES) == on_disk
    assert {f"{module}.js" for module in VIEWER_MODULES} <= set(STATIC_FILES)
    assert preloaded == on_disk - {"viewer"}  # the entry point is the script


def test_every_import_names_a_served_module() -> None:
    """`import … from "./x.js"` only ever names a module the server serves."""
    for module in VIEWER_MODULES:
        text = (Path(VIEWER_DIR) / f"{module}.js").read_text(encoding="utf-8")
        for imported in IMPORT.findall(text):
            assert imported in VIEWER_MODULES, (module, imported)
