"""Guessing viewer links against a real server ends in 429, and is on record.

The guesses come from 127.0.0.2 (loopback too): the lockout is per client
address, so the rest of the run, on 127.0.0.1, is not locked out with it.
"""

from __future__ import annotations

import secrets

import pytest

from testbed.deployment import URL_PREFIX

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(120),
]

ATTACKER = "127.0.0.2"
LIMIT = 20  # the most failures the agreement allows (the default)


def _guesses(count: int) -> list[str]:
    """Well-formed unknown tokens and malformed ones, alternately."""
    return [
        secrets.token_urlsafe(24) if number % 2 else f"guess-{number}"
        for number in range(count)
    ]


async def test_guessing_links_ends_in_429_with_retry_after_and_a_lockout_record(
    site: Site,
) -> None:
    """Twenty bad links, then 429 for that address's guesses, on record, no token."""
    dep = site.deployment
    guesses = _guesses(LIMIT)
    for guess in guesses:
        status, _, _ = await dep.viewer_get(
            f"{URL_PREFIX}/{guess}/cameras.json", address=ATTACKER
        )
        assert status == 401

    status, headers, body = await dep.viewer_get(
        f"{URL_PREFIX}/{secrets.token_urlsafe(24)}/cameras.json", address=ATTACKER
    )
    assert status == 429, body
    assert 0 < int(headers["Retry-After"]) <= 600
    assert headers["Cache-Control"] == "no-store"
    # Only guesses are locked out: a working link from that address (police
    # share carrier NAT with the public) answers as ever, "no session" here.
    status, _, _ = await dep.viewer_get(
        f"{site.standing.path}/cameras.json", address=ATTACKER
    )
    assert status == 403
    status, _, _ = await dep.viewer_get(f"{site.standing.path}/cameras.json")
    assert status == 403

    lockout = await dep.wait_for_audit(
        lambda r: r["event"] == "lockout" and r["data"]["address"] == ATTACKER
    )
    assert lockout["data"]["failures"] == LIMIT
    denied = [
        r
        for r in dep.audit_records()
        if r["event"] == "access_denied"
        and r["data"].get("address") == ATTACKER
        and r["data"]["why"] in {"malformed_link", "unknown_link"}
    ]
    # One record for the address's first guess of the window: guessing has a
    # small, fixed cost on disk.
    assert len(denied) == 1
    # Not even a wrong token is written down.
    log = dep.audit_path.read_text()
    assert not [guess for guess in guesses if guess in log]
