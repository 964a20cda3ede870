"""The throttle's address-hashing key is random, shared through Redis, never configured."""

from __future__ import annotations

import secrets

from statements.security import ThrottleSecret
from tests.conftest import TEST_REDIS_URL


def test_without_redis_each_process_draws_its_own() -> None:
    first, second = ThrottleSecret(None, "p"), ThrottleSecret(None, "p")
    assert first.current() == first.current()
    assert first.current() != second.current()
    assert len(first.current()) == 32


def test_workers_share_one_key_through_redis() -> None:
    prefix = f"test-{secrets.token_hex(8)}"
    first = ThrottleSecret(TEST_REDIS_URL, prefix)
    second = ThrottleSecret(TEST_REDIS_URL, prefix)
    if TEST_REDIS_URL:
        assert first.current() == second.current()
    else:
        assert first.current() != second.current()


def test_an_unreachable_redis_falls_back_to_a_process_key() -> None:
    secret = ThrottleSecret("redis://127.0.0.1:1/0", "p")
    assert secret.current() == secret.current()
    assert len(secret.current()) == 32
