"""Tests for record encryption bound to (kind, record id, room id, key version)."""

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import aead
from crypto.errors import CryptoError
from crypto.records import (
    RecordContext,
    decrypt_record,
    decrypt_text,
    encrypt_record,
    encrypt_text,
)

FAST = settings(max_examples=50, deadline=None, database=None)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))
CONTEXT = RecordContext(kind="contribution", record_id="c-1", room_id="r-1", key_version=1)


def test_associated_data_layout() -> None:
    assert CONTEXT.associated_data() == aead.encode_fields(
        b"statements/record/v1", "contribution", "c-1", "r-1", 1
    )


def test_round_trip() -> None:
    blob = encrypt_record(KEY, b"draft text", CONTEXT)
    assert decrypt_record(KEY, blob, CONTEXT) == b"draft text"


def test_text_round_trip() -> None:
    blob = encrypt_text(KEY, "Déclaration commune — خطاب", CONTEXT)
    assert decrypt_text(KEY, blob, CONTEXT) == "Déclaration commune — خطاب"


def test_record_is_an_aead_envelope() -> None:
    blob = encrypt_record(KEY, b"x", CONTEXT)
    assert aead.decrypt(KEY, blob, CONTEXT.associated_data()) == b"x"


def test_wrong_key_fails() -> None:
    blob = encrypt_record(KEY, b"x", CONTEXT)
    with pytest.raises(CryptoError):
        decrypt_record(OTHER_KEY, blob, CONTEXT)


@pytest.mark.parametrize(
    "changes",
    [
        {"kind": "comment"},
        {"record_id": "c-2"},
        {"room_id": "r-2"},
        {"key_version": 2},
        {"key_version": 0},
    ],
)
def test_each_field_of_context_is_bound(changes: dict[str, object]) -> None:
    blob = encrypt_record(KEY, b"x", CONTEXT)
    with pytest.raises(CryptoError):
        decrypt_record(KEY, blob, replace(CONTEXT, **changes))  # type: ignore[arg-type]


def test_fields_cannot_shift_between_each_other() -> None:
    a = RecordContext(kind="ab", record_id="c", room_id="r", key_version=1)
    b = RecordContext(kind="a", record_id="bc", room_id="r", key_version=1)
    blob = encrypt_record(KEY, b"x", a)
    with pytest.raises(CryptoError):
        decrypt_record(KEY, blob, b)


def test_every_truncation_fails() -> None:
    blob = encrypt_text(KEY, "hello", CONTEXT)
    for length in range(len(blob)):
        with pytest.raises(CryptoError):
            decrypt_text(KEY, blob[:length], CONTEXT)


@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_fails(version: int) -> None:
    blob = encrypt_record(KEY, b"x", CONTEXT)
    with pytest.raises(CryptoError):
        decrypt_record(KEY, bytes([version]) + blob[1:], CONTEXT)


def test_decrypt_text_of_non_utf8_is_crypto_error() -> None:
    blob = encrypt_record(KEY, b"\xff\xfe", CONTEXT)
    with pytest.raises(CryptoError):
        decrypt_text(KEY, blob, CONTEXT)


def test_wrong_key_length_is_value_error() -> None:
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        encrypt_record(bytes(16), b"x", CONTEXT)
    blob = encrypt_record(KEY, b"x", CONTEXT)
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        decrypt_record(bytes(16), blob, CONTEXT)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": ""}, "must not be empty"),
        ({"record_id": ""}, "must not be empty"),
        ({"room_id": ""}, "must not be empty"),
        ({"key_version": -1}, "must not be negative"),
        ({"key_version": True}, "must be an int"),
        ({"key_version": "1"}, "must be an int"),
    ],
)
def test_context_rejects_bad_values(kwargs: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {"kind": "k", "record_id": "i", "room_id": "r", "key_version": 1}
    with pytest.raises(ValueError, match=message):
        RecordContext(**{**fields, **kwargs})  # type: ignore[arg-type]


@FAST
@given(plaintext=st.binary(max_size=512))
def test_round_trip_property(plaintext: bytes) -> None:
    assert decrypt_record(KEY, encrypt_record(KEY, plaintext, CONTEXT), CONTEXT) == plaintext


@FAST
@given(text=st.text(max_size=200))
def test_text_round_trip_property(text: str) -> None:
    assert decrypt_text(KEY, encrypt_text(KEY, text, CONTEXT), CONTEXT) == text


_context = st.builds(
    RecordContext,
    kind=st.text(min_size=1, max_size=8),
    record_id=st.text(min_size=1, max_size=8),
    room_id=st.text(min_size=1, max_size=8),
    key_version=st.integers(min_value=0, max_value=2**64 - 1),
)


@FAST
@given(a=_context, b=_context)
def test_distinct_contexts_never_decrypt(a: RecordContext, b: RecordContext) -> None:
    blob = encrypt_record(KEY, b"x", a)
    if a == b:
        assert decrypt_record(KEY, blob, b) == b"x"
    else:
        with pytest.raises(CryptoError):
            decrypt_record(KEY, blob, b)


@FAST
@given(plaintext=st.binary(max_size=64), data=st.data())
def test_any_flipped_bit_fails(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(encrypt_record(KEY, plaintext, CONTEXT))
    index = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="index")
    blob[index] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    with pytest.raises(CryptoError):
        decrypt_record(KEY, bytes(blob), CONTEXT)
