"""Read tokens: the format of FLAGBOT_READ_TOKENS, scopes, and how a token is presented."""

from __future__ import annotations

import pytest

from bot.exports.access import ReadTokens, Scope, TokenConfigError
from bot.service.config import ConfigError, ServiceConfig

A = "a" * 24
B = "b" * 24


def test_scopes_by_repository_and_environment():
    tokens = ReadTokens.parse(f"{A}=acme/flags/production,\n {B}=acme/flags")
    assert tokens.scope_of(f"Bearer {A}") == Scope("acme/flags", "production")
    assert tokens.scope_of(B) == Scope("acme/flags", None)  # bare, as Unleash SDKs send it
    assert tokens.grant(f"Bearer {A}", "acme/flags", "production").status == 200
    assert tokens.grant(f"Bearer {A}", "acme/flags", "staging").status == 403
    assert tokens.grant(f"Bearer {A}", "acme/other", "production").status == 403
    assert tokens.grant(f"Bearer {B}", "acme/flags", "staging").status == 200
    assert tokens.grant(None, "acme/flags", "production").status == 401
    assert tokens.grant("Bearer ", "acme/flags", "production").status == 401
    assert tokens.grant(f"Bearer {A}x", "acme/flags", "production").status == 401
    assert tokens.grant(f"Bearer {A[:-1]}", "acme/flags", "production").status == 401


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("justatoken", "TOKEN=OWNER/REPO"),
        (f"{A}=acme", "not OWNER/REPO"),
        (f"{A}=acme/flags/prod/extra", "not OWNER/REPO"),
        ("short=acme/flags", "shorter than 16"),
        (f"{A}=acme/flags {A}=acme/other", "listed twice"),
    ],
)
def test_malformed_tokens_fail_start_up_without_showing_the_token(text, says):
    with pytest.raises(TokenConfigError, match=says) as caught:
        ReadTokens.parse(text)
    assert A not in str(caught.value)
    env = {"FLAGBOT_WEBHOOK_SECRET": "s", "GITHUB_TOKEN": "t", "FLAGBOT_READ_TOKENS": text}
    with pytest.raises(ConfigError, match="FLAGBOT_READ_TOKENS"):
        ServiceConfig.from_env(env)


def test_no_tokens_means_nobody_reads():
    tokens = ReadTokens.parse("")
    assert not tokens
    assert tokens.grant(f"Bearer {A}", "acme/flags", "production").status == 401


def test_every_configured_token_is_compared_in_constant_time(monkeypatch):
    """No early exit and no dict lookup on the secret: each presented token is compared with
    hmac.compare_digest against every configured one, found or not."""
    import bot.exports.access as access

    tokens = ReadTokens.parse(" ".join(f"{c * 24}=acme/r{i}" for i, c in enumerate("abcde")))
    calls: list[tuple[bytes, bytes]] = []
    real = access.hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(access.hmac, "compare_digest", counting)
    for presented in ("a" * 24, "e" * 24, "z" * 24):
        calls.clear()
        tokens.scope_of(f"Bearer {presented}")
        assert len(calls) == 5
        assert all(len(a) == len(b) == 32 for a, b in calls)  # digests: equal lengths
