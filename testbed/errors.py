"""What goes wrong around the integration, said so that a person can act on it.

The demo and the benchmark print these messages instead of a traceback, so
each one says what failed and, where it can, what to do about it.
"""

from __future__ import annotations


class SetupError(Exception):
    """A step cannot be done; the message says why and what to do."""


class ApiError(SetupError):
    """Home Assistant answered a request with an error status."""
