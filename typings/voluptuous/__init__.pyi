# What `import voluptuous` is when mypy runs: the current environment's Home
# Assistant (2026.x) imports voluptuous as probatio's drop-in shim
# (`homeassistant/__init__.py`: `install_as_voluptuous()`), and its service and
# config-flow signatures take probatio's schemas. The shim is filled in at run
# time, so mypy is told here; the minimum environment runs the real voluptuous,
# whose API probatio mirrors.
from probatio import *  # noqa: F403
