"""A worked example: one agreement, its people and the messages users read."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
import json
from pathlib import Path
from string import Formatter
from typing import Any

from custom_components.school_emergency_share.core import session as session_rules
from custom_components.school_emergency_share.core.actor import Actor
from custom_components.school_emergency_share.core.agreement import Agreement
from custom_components.school_emergency_share.core.errors import Refusal
from custom_components.school_emergency_share.core.session import (
    ActivationRequest,
    Session,
)

from .strategies import NEW_YORK

INTEGRATION = Path(session_rules.__file__).resolve().parent.parent

AGREEMENT = Agreement(
    school="Lincoln High",
    agency="Metro Police",
    valid_from=date(2026, 3, 1),
    valid_until=date(2026, 6, 30),
    cameras=frozenset(
        {"camera.front_door", "camera.gym", "camera.hall_2f", "camera.locker_room"}
    ),
    private_cameras=frozenset({"camera.locker_room", "camera.nurse"}),
    allowed_users=frozenset({"user-principal"}),
    max_session=timedelta(minutes=60),
    max_extension=timedelta(minutes=30),
    tz=NEW_YORK,
)
SHAREABLE = frozenset({"camera.front_door", "camera.gym", "camera.hall_2f"})
NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # 09:00 in New York
PRINCIPAL = Actor.user("user-principal", "Pat Principal")
VISITOR = Actor.user("user-visitor", "Vic Visitor")


def open_session(
    now: datetime = NOW, agreement: Agreement = AGREEMENT, **request: Any
) -> Session:
    """The principal starts sharing for a fire alarm."""
    return session_rules.activate(
        agreement,
        None,
        PRINCIPAL,
        ActivationRequest(reason=request.pop("reason", "Fire alarm"), **request),
        now=now,
        session_id="session-1",
    )


def _messages(path: Path) -> dict[str, str]:
    exceptions = json.loads(path.read_text(encoding="utf-8"))["exceptions"]
    return {key: value["message"] for key, value in exceptions.items()}


STRINGS = _messages(INTEGRATION / "strings.json")
ENGLISH = _messages(INTEGRATION / "translations" / "en.json")


def fields(message: str) -> set[str]:
    """The placeholders a message names."""
    return {name for _, name, _, _ in Formatter().parse(message) if name}


def seen(refusal: Refusal) -> str:
    """The message a user reads for `refusal`, every placeholder filled in."""
    message = ENGLISH[refusal.code.value]
    assert set(refusal.placeholders) == fields(message), refusal
    return message.format(**refusal.placeholders)
