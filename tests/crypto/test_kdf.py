"""Tests for Argon2id master-key derivation and its stored parameters."""

import contextlib
import json
import threading
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.kdf import SALT_BYTES, KdfParams, derive_master_key, new_salt

FAST = settings(max_examples=50, deadline=None, database=None)
CHEAP = KdfParams(memory_kib=8, iterations=1, lanes=1)
SALT = bytes(range(16))


def test_defaults() -> None:
    params = KdfParams()
    assert (params.algorithm, params.memory_kib, params.iterations, params.lanes) == (
        "argon2id",
        65536,
        3,
        1,
    )


def test_to_json_is_compact_and_sorted() -> None:
    assert KdfParams().to_json() == (
        '{"algorithm":"argon2id","iterations":3,"lanes":1,"memory_kib":65536}'
    )


def test_json_round_trip() -> None:
    assert KdfParams.from_json(CHEAP.to_json()) == CHEAP


def test_from_json_accepts_any_key_order_and_whitespace() -> None:
    text = '{ "lanes": 1, "memory_kib": 8, "iterations": 1, "algorithm": "argon2id" }'
    assert KdfParams.from_json(text) == CHEAP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"algorithm": "argon2i"}, "unsupported KDF algorithm"),
        ({"algorithm": "scrypt"}, "unsupported KDF algorithm"),
        ({"algorithm": ""}, "unsupported KDF algorithm"),
        ({"memory_kib": 7, "lanes": 1}, "memory_kib"),
        ({"memory_kib": 31, "lanes": 4}, "memory_kib"),
        ({"memory_kib": 2**32, "lanes": 1}, "memory_kib"),
        ({"iterations": 0}, "iterations"),
        ({"iterations": -1}, "iterations"),
        ({"iterations": 2**32}, "iterations"),
        ({"lanes": 0}, "lanes"),
        ({"lanes": 256, "memory_kib": 8 * 256}, "lanes"),
        ({"lanes": True}, "must be ints"),
        ({"iterations": 1.0}, "must be ints"),
        ({"memory_kib": "65536"}, "must be ints"),
    ],
)
def test_params_reject_bad_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        KdfParams(**kwargs)  # type: ignore[arg-type]


def test_params_accept_boundaries() -> None:
    KdfParams(memory_kib=8 * 255, iterations=1, lanes=255)
    KdfParams(memory_kib=32, iterations=1, lanes=4)


def test_params_are_frozen() -> None:
    with pytest.raises(AttributeError):
        CHEAP.lanes = 2  # type: ignore[misc]


def _good() -> dict[str, object]:
    return {"algorithm": "argon2id", "memory_kib": 8, "iterations": 1, "lanes": 1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "{",
        "[]",
        "null",
        "42",
        '"argon2id"',
        '{"algorithm":"argon2id","memory_kib":8,"iterations":1}',  # missing key
        json.dumps({**_good(), "extra": 1}),
        json.dumps({**_good(), "algorithm": "argon2d"}),
        json.dumps({**_good(), "memory_kib": 4}),
        json.dumps({**_good(), "iterations": 0}),
        json.dumps({**_good(), "lanes": 0}),
        json.dumps({**_good(), "lanes": 300}),
        json.dumps({**_good(), "lanes": True}),
        json.dumps({**_good(), "lanes": None}),
        json.dumps({**_good(), "lanes": "1"}),
        json.dumps({**_good(), "iterations": 1.5}),
        json.dumps({**_good(), "algorithm": 1}),
        '{"algorithm":"argon2id","memory_kib":NaN,"iterations":1,"lanes":1}',
        '{"algorithm":"argon2id","memory_kib":8,"iterations":1,"lanes":1,"lanes":2}',
        "[" * 100_000,
    ],
)
def test_from_json_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        KdfParams.from_json(text)


@FAST
@given(text=st.text(max_size=200))
def test_from_json_arbitrary_text_only_raises_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        KdfParams.from_json(text)


@FAST
@given(
    memory_kib=st.integers(min_value=8, max_value=2**20),
    iterations=st.integers(min_value=1, max_value=10),
    lanes=st.integers(min_value=1, max_value=8),
)
def test_json_round_trip_property(memory_kib: int, iterations: int, lanes: int) -> None:
    params = KdfParams(memory_kib=max(memory_kib, 8 * lanes), iterations=iterations, lanes=lanes)
    assert KdfParams.from_json(params.to_json()) == params


def test_new_salt() -> None:
    assert len(new_salt()) == SALT_BYTES == 16
    assert new_salt() != new_salt()


def test_derive_is_deterministic_and_32_bytes() -> None:
    key = derive_master_key(b"correct horse battery staple", SALT, CHEAP)
    assert len(key) == 32
    assert key == derive_master_key(b"correct horse battery staple", SALT, CHEAP)


def test_derive_depends_on_every_input() -> None:
    base = derive_master_key(b"secret", SALT, CHEAP)
    assert derive_master_key(b"secreT", SALT, CHEAP) != base
    assert derive_master_key(b"secret", bytes(16), CHEAP) != base
    assert derive_master_key(b"secret", SALT, replace(CHEAP, memory_kib=16)) != base
    assert derive_master_key(b"secret", SALT, replace(CHEAP, iterations=2)) != base
    assert derive_master_key(b"secret", SALT, replace(CHEAP, memory_kib=16, lanes=2)) != base


@pytest.mark.parametrize("length", [0, 8, 15, 17, 32])
def test_derive_rejects_wrong_salt_length(length: int) -> None:
    with pytest.raises(ValueError, match="salt must be 16 bytes"):
        derive_master_key(b"secret", bytes(length), CHEAP)


def test_derive_rejects_empty_secret() -> None:
    with pytest.raises(ValueError, match="secret must not be empty"):
        derive_master_key(b"", SALT, CHEAP)


@FAST
@given(secret=st.binary(min_size=1, max_size=64), salt=st.binary(min_size=16, max_size=16))
def test_derive_property(secret: bytes, salt: bytes) -> None:
    key = derive_master_key(secret, salt, CHEAP)
    assert len(key) == 32
    assert key == derive_master_key(secret, salt, CHEAP)


def test_at_least_compares_every_cost() -> None:
    base = KdfParams(memory_kib=1024, iterations=2, lanes=1)
    assert base.at_least(base)
    assert KdfParams(memory_kib=2048, iterations=2, lanes=1).at_least(base)
    assert not KdfParams(memory_kib=2048, iterations=1, lanes=1).at_least(base)
    assert not base.at_least(KdfParams(memory_kib=1024, iterations=3, lanes=1))


def test_concurrent_derivations_with_the_defaults_finish() -> None:
    """Several threads deriving at once (a threaded server) must not wait on each other forever.

    Not a speed test: the generous join timeout only turns a deadlock into a failure.
    """
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(derive_master_key(b"x", SALT, KdfParams())))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert len(set(results)) == 1
    assert len(results) == 4
