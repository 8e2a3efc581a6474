"""Make this repository's `custom_components` the package Home Assistant finds.

pytest-homeassistant-custom-component ships a `custom_components` package of its
own; importing ours first, from the repository root, wins the name.
"""

import custom_components  # noqa: F401
