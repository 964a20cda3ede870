"""The throttle's keys, as `make mutate` found them untested."""

import secrets

import pytest
import redis

from statements.security import ThrottleSecret, client_key
from tests.conftest import TEST_REDIS_URL

SECRET = bytes(range(32))


def test_each_address_gets_its_own_throttle_key() -> None:
    # One key for everyone would let a single guesser lock every member out.
    first = client_key(SECRET, "203.0.113.7")
    assert first == client_key(SECRET, "203.0.113.7")
    assert first != client_key(SECRET, "203.0.113.8")
    assert first != client_key(bytes(32), "203.0.113.7")


def test_the_throttle_key_is_short_hex_that_hides_the_address() -> None:
    key = client_key(SECRET, "203.0.113.7")
    assert len(key) == 32
    int(key, 16)


def test_the_key_shared_through_redis_lapses_after_a_day() -> None:
    # A key that never lapsed would tie one address's requests together indefinitely.
    if not TEST_REDIS_URL:
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    prefix = f"test-{secrets.token_hex(8)}"
    store = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        ThrottleSecret(TEST_REDIS_URL, prefix).current()
        lifetime = store.ttl(f"{prefix}:throttle-secret")
        assert 0 < lifetime <= ThrottleSecret.LIFETIME_SECONDS == 24 * 60 * 60
    finally:
        store.delete(f"{prefix}:throttle-secret")
        store.close()


def test_a_malformed_key_in_redis_is_not_used() -> None:
    # Whatever else wrote there (an older version, an operator), a key of the wrong
    # length must not become the throttle's key.
    if not TEST_REDIS_URL:
        pytest.skip("needs Redis: set TEST_REDIS_URL")
    prefix = f"test-{secrets.token_hex(8)}"
    store = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        store.set(f"{prefix}:throttle-secret", b"short", ex=60)
        secret = ThrottleSecret(TEST_REDIS_URL, prefix)
        key = secret.current()
        assert len(key) == 32
        assert key == secret.current()
    finally:
        store.delete(f"{prefix}:throttle-secret")
        store.close()
