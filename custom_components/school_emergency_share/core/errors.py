"""Why the agreement refuses a request."""

from __future__ import annotations

from enum import StrEnum


class RefusalCode(StrEnum):
    """A refusal; the value is also the translation key users see."""

    AGREEMENT_NOT_IN_FORCE = "agreement_not_in_force"
    USER_NOT_PERMITTED = "user_not_permitted"
    UNATTRIBUTABLE = "unattributable"
    EXPORT_NOT_PERMITTED = "export_not_permitted"
    REASON_REQUIRED = "reason_required"
    DURATION_INVALID = "duration_invalid"
    DURATION_TOO_LONG = "duration_too_long"
    CAMERA_NOT_ELIGIBLE = "camera_not_eligible"
    CAMERA_PRIVATE = "camera_private"
    CAMERA_NOT_IN_SESSION = "camera_not_in_session"
    NO_CAMERAS = "no_cameras"
    ALREADY_ACTIVE = "already_active"
    NO_ACTIVE_SESSION = "no_active_session"
    EXTENSION_OVER_CAP = "extension_over_cap"
    EXTENSION_PAST_AGREEMENT = "extension_past_agreement"
    LABEL_REQUIRED = "label_required"
    LINK_NOT_FOUND = "link_not_found"
    REQUEST_NEEDS_STANDING_LINK = "request_needs_standing_link"
    REQUEST_PENDING = "request_pending"
    REQUEST_NOT_FOUND = "request_not_found"
    REQUEST_NOT_PENDING = "request_not_pending"


class Refusal(Exception):  # noqa: N818 - a refusal is an outcome, not a failure
    """The agreement does not allow what was asked."""

    def __init__(self, code: RefusalCode, **placeholders: str) -> None:
        """Keep the code and the values the translated message names."""
        super().__init__(code.value)
        self.code = code
        self.placeholders = placeholders

    def __repr__(self) -> str:
        """Show the code and placeholders."""
        return f"Refusal({self.code.value}, {self.placeholders})"
