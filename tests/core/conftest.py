"""Hypothesis profiles for the pure core tests.

`default` (100 examples a property) keeps the folder around ten seconds on a
shared two-core machine, Home Assistant's pytest plugin included; `ci` is the
same, derandomized, so a CI run (CI=true) is reproducible; `thorough` (5,000)
is for a long hunt before a release: `HYPOTHESIS_PROFILE=thorough`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Deadlines measure wall time, which a loaded machine stretches: not a property.
settings.register_profile(
    "default",
    max_examples=100,
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
