"""Link tokens: their shape, their stored form and how they are compared."""

from __future__ import annotations

import base64
import hashlib
import string

from hypothesis import given, strategies as st

from custom_components.school_emergency_share.core import links as link_rules
from custom_components.school_emergency_share.core.links import (
    digests_match,
    hash_token,
    is_well_formed,
    new_link_id,
    new_token,
)

URL_SAFE = frozenset(string.ascii_letters + string.digits + "-_")
well_formed = st.text(alphabet=sorted(URL_SAFE), min_size=32, max_size=32)
# Near misses: right length, one character outside the alphabet (non-ASCII
# digits and letters included, which `\w` or `isalnum` would let through).
near_misses = st.tuples(
    well_formed,
    st.integers(0, 31),
    st.characters().filter(lambda c: c not in URL_SAFE),
).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :])


def test_a_new_token_is_32_url_safe_characters_of_192_random_bits() -> None:
    """Well above the 128 bits a guessable credential would need; no padding."""
    tokens = {new_token() for _ in range(500)}
    assert len(tokens) == 500
    for token in tokens:
        assert len(token) == link_rules.TOKEN_LENGTH == 32
        assert set(token) <= URL_SAFE
        assert is_well_formed(token)
        assert len(base64.urlsafe_b64decode(token)) * 8 == 192


def test_a_link_id_is_public_short_hex_and_not_a_token() -> None:
    """The id shown in the dashboard cannot be mistaken for a credential."""
    link_id = new_link_id()
    assert len(link_id) == 12
    assert set(link_id) <= set(string.hexdigits.lower())
    assert not is_well_formed(link_id)


@given(token=well_formed)
def test_the_stored_form_is_the_sha256_hex_of_the_token(token: str) -> None:
    """Deterministic, so a presented token finds its link; the token isn't kept."""
    digest = hash_token(token)
    assert digest == hash_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert len(digest) == link_rules.DIGEST_LENGTH
    assert token not in digest


@given(first=well_formed, second=well_formed)
def test_different_tokens_have_different_digests(first: str, second: str) -> None:
    """Equal digests mean equal tokens (collisions aside)."""
    assert (hash_token(first) == hash_token(second)) is (first == second)
    assert digests_match(hash_token(first), hash_token(second)) is (first == second)


# Every code point, lone surrogates included: JSON can carry "\ud800".
any_text = st.text(st.characters(exclude_categories=()))


@given(first=any_text, second=any_text)
def test_digests_match_is_equality_for_any_text(first: str, second: str) -> None:
    """Whatever storage or a request holds, comparing never raises."""
    assert digests_match(first, second) is (first == second)
    assert digests_match(first, first)


@given(text=any_text)
def test_only_32_url_safe_characters_are_well_formed(text: str) -> None:
    """Anything else is refused before it is hashed."""
    expected = len(text) == 32 and set(text) <= URL_SAFE
    assert is_well_formed(text) is expected


@given(token=well_formed, suffix=st.sampled_from(["\n", " ", "=", "a", "\x00"]))
def test_a_token_with_anything_around_it_is_malformed(token: str, suffix: str) -> None:
    """No trailing newline, padding or extra character slips through."""
    assert is_well_formed(token)
    assert not is_well_formed(token + suffix)
    assert not is_well_formed(suffix + token)
    assert not is_well_formed(token[:-1])


@given(text=near_misses)
def test_one_foreign_character_makes_a_token_malformed(text: str) -> None:
    """Unicode digits and letters are not URL-safe base64."""
    assert len(text) == 32
    assert not is_well_formed(text)
