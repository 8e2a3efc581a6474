"""Typed runtime data: per agreement (entry.runtime_data) and per integration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from homeassistant.config_entries import ConfigEntry
from homeassistant.util.hass_dict import HassKey

from .const import DEFAULT_FAILURE_LIMIT, DOMAIN, FAILURE_WINDOW
from .contexts import ContextMemory
from .core import links as link_rules
from .core.links import ViewerLink
from .core.lockout import FailureRecords, FailureTracker

if TYPE_CHECKING:
    from .manager import AgreementManager

type ShareConfigEntry = ConfigEntry[AgreementManager]


@dataclass(slots=True)
class DomainData:
    """What every agreement shares: recent contexts, failed-link counting, the index."""

    contexts: ContextMemory = field(default_factory=ContextMemory)
    failures: FailureTracker = field(
        default_factory=lambda: FailureTracker(DEFAULT_FAILURE_LIMIT, FAILURE_WINDOW)
    )
    failure_records: FailureRecords = field(
        default_factory=lambda: FailureRecords(FAILURE_WINDOW)
    )
    managers: dict[str, AgreementManager] = field(default_factory=dict)

    def find_link(self, token: str) -> tuple[AgreementManager, ViewerLink] | None:
        """The agreement and link a presented token belongs to."""
        digest = link_rules.hash_token(token)
        for manager in self.managers.values():
            if (link := manager.link_for_hash(digest)) is not None:
                return manager, link
        return None

    def refresh_failure_limit(self) -> None:
        """The strictest loaded agreement sets the limit (at most 20)."""
        limits = [m.agreement.failure_limit for m in self.managers.values()]
        self.failures.set_limit(min(limits, default=DEFAULT_FAILURE_LIMIT))


DATA_DOMAIN: HassKey[DomainData] = HassKey(DOMAIN)
