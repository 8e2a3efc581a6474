"""Hypothesis profiles for the pure core tests.

`default` keeps the whole folder within seconds on a shared two-core machine;
`ci` is the same, derandomized, so a CI run is reproducible; `thorough` is for a
long local hunt (`HYPOTHESIS_PROFILE=thorough`).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Deadlines measure wall time, which a loaded machine stretches: not a property.
settings.register_profile(
    "default",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci", settings.get_profile("default"), derandomize=True, print_blob=True
)
settings.register_profile(
    "thorough", settings.get_profile("default"), max_examples=5_000
)

settings.load_profile(
    os.environ.get(
        "HYPOTHESIS_PROFILE",
        "ci" if os.environ.get("CI", "").lower() == "true" else "default",
    )
)
