"""Viewer denials never reach Home Assistant's login-failure handling.

Home Assistant's IP-ban middleware takes every `HTTPUnauthorized` that leaves
a handler for a failed login: it logs the URL (a viewer link's token), tells
every user "Login attempt failed", and at the threshold bans the address from
all of Home Assistant. A district that set `ip_ban_enabled` with a low
threshold must not ban a dispatch centre whose old tabs retry a revoked link,
nor learn tokens from its log. Here, with a threshold of 3: 20 requests on a
revoked link from one address and 20 random tokens from another.
"""

from __future__ import annotations

import secrets

import pytest

from testbed.deployment import URL_PREFIX

from .site import Site

pytestmark = [
    pytest.mark.realhass,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(180),
]

HTTP = {"ip_ban_enabled": True, "login_attempts_threshold": 3}
DISPATCH = "127.0.0.4"  # an old tab on a revoked link
GUESSER = "127.0.0.5"  # random tokens


async def test_revoked_links_and_guesses_ban_nobody_log_no_token_notify_nobody(
    site: Site,
) -> None:
    """401s and 429s as the contract says, and nothing of Home Assistant's own."""
    dep = site.deployment
    revoked = await dep.link("Old dispatch tab", standing=True)
    await dep.service("revoke_viewer_link", link_id=revoked.link_id)
    guesses = [secrets.token_urlsafe(24) for _ in range(20)]

    for _ in range(20):
        status, _, _ = await dep.viewer_get(
            f"{revoked.path}/cameras.json", address=DISPATCH
        )
        assert status == 401
    statuses = []
    for guess in guesses:
        status, _, _ = await dep.viewer_get(
            f"{URL_PREFIX}/{guess}/cameras.json", address=GUESSER
        )
        statuses.append(status)

    # Our own lockout, not Home Assistant's ban: 401 until 20, then 429.
    assert set(statuses) == {401}
    status, _, _ = await dep.viewer_get(
        f"{URL_PREFIX}/{secrets.token_urlsafe(24)}/cameras.json", address=GUESSER
    )
    assert status == 429
    # Nobody is banned: both addresses still reach Home Assistant itself and
    # a working link.
    for address in (DISPATCH, GUESSER):
        status, _, _ = await dep.viewer_get(
            f"{site.standing.path}/cameras.json", address=address
        )
        assert status == 403  # no session: the link works, the address is not banned
        status, _, _ = await dep.viewer_get("/manifest.json", address=address)
        assert status == 200
    bans = site.hass.config_dir / "ip_bans.yaml"
    assert not bans.exists() or not bans.read_text().strip()
    # No "Login attempt failed" for every user to read.
    notifications = await dep.client.ws("persistent_notification/get")
    assert not [
        n for n in notifications if "login" in str(n.get("title", "")).lower()
    ], notifications
    # No token in Home Assistant's log, nor a failed-login line for these.
    log = site.hass.log_file.read_text(errors="replace")
    token = revoked.path.rsplit("/", 1)[-1]
    assert token not in log
    assert not [guess for guess in guesses if guess in log]
    assert "invalid authentication" not in log
