"""The core is plain Python: no Home Assistant, no clock, nothing outside itself."""

from __future__ import annotations

import ast
from pathlib import Path
import subprocess
import sys

from custom_components.school_emergency_share import core

CORE = Path(core.__file__).resolve().parent
MODULES = sorted(path for path in CORE.glob("*.py"))
STANDARD = sys.stdlib_module_names


def _imports(path: Path) -> list[tuple[int, str]]:
    """(level, module) for every import statement in the file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend((0, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def test_core_modules_import_only_the_standard_library_and_each_other() -> None:
    """Nothing from Home Assistant or the shell around the core."""
    for path in MODULES:
        for level, module in _imports(path):
            if level:
                assert level == 1, f"{path.name} reaches outside core: {module}"
            else:
                assert module.split(".")[0] in STANDARD, f"{path.name}: {module}"


def test_core_modules_never_read_the_clock() -> None:
    """`now` is always passed in: no datetime.now(), utcnow() or time.time()."""
    for path in MODULES:
        source = path.read_text(encoding="utf-8")
        for call in (".now(", "utcnow(", "time.time(", "monotonic(", "today("):
            assert call not in source, f"{path.name} calls {call}"


def test_the_core_loads_without_home_assistant() -> None:
    """Imported on its own (its parent package stubbed), nothing of HA loads."""
    program = """
import importlib, sys, types
top, integration, *modules = sys.argv[1:]
package = "custom_components.school_emergency_share"
for name, path in (("custom_components", top), (package, integration)):
    stub = types.ModuleType(name)
    stub.__path__ = [path]
    sys.modules[name] = stub
for module in modules:
    importlib.import_module(package + ".core." + module)
print(sorted(m for m in sys.modules if m.split(".")[0] == "homeassistant"))
"""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            program,
            str(CORE.parent.parent),
            str(CORE.parent),
            *(path.stem for path in MODULES if path.stem != "__init__"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert result.stdout.strip() == "[]"
