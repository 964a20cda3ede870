"""The throttle's key per client, as `make mutate` found it untested."""

from statements.security import client_key

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
