"""Tests for the versioned AES-256-GCM envelope and the field encoding."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import aead
from crypto.errors import CryptoError

FAST = settings(max_examples=50, deadline=None, database=None)
KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
AAD = b"associated"


def test_round_trip_and_layout() -> None:
    blob = aead.encrypt(KEY, b"hello", AAD)
    assert blob[0] == aead.FORMAT_VERSION == 1
    assert len(blob) == 1 + 12 + len(b"hello") + 16
    assert aead.decrypt(KEY, blob, AAD) == b"hello"


def test_fresh_nonce_each_time() -> None:
    assert aead.encrypt(KEY, b"same", AAD) != aead.encrypt(KEY, b"same", AAD)


def test_empty_plaintext_and_aad() -> None:
    assert aead.decrypt(KEY, aead.encrypt(KEY, b"", b""), b"") == b""


def test_fixed_nonce_is_deterministic() -> None:
    nonce = bytes(12)
    assert aead.encrypt(KEY, b"x", AAD, _nonce=nonce) == aead.encrypt(KEY, b"x", AAD, _nonce=nonce)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_encrypt_rejects_wrong_key_length(length: int) -> None:
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        aead.encrypt(bytes(length), b"x", AAD)


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_decrypt_rejects_wrong_key_length(length: int) -> None:
    blob = aead.encrypt(KEY, b"x", AAD)
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        aead.decrypt(bytes(length), blob, AAD)


@pytest.mark.parametrize("length", [0, 8, 11, 13, 16])
def test_encrypt_rejects_wrong_nonce_length(length: int) -> None:
    with pytest.raises(ValueError, match="nonce must be 12 bytes"):
        aead.encrypt(KEY, b"x", AAD, _nonce=bytes(length))


def test_wrong_key_fails() -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(OTHER_KEY, blob, AAD)


def test_wrong_aad_fails() -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(KEY, blob, AAD + b"!")


@pytest.mark.parametrize("version", [0, 2, 0x7F, 0xFF])
def test_unknown_version_byte_fails(version: int) -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(KEY, bytes([version]) + blob[1:], AAD)


def test_every_truncation_fails() -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    for length in range(len(blob)):
        with pytest.raises(CryptoError):
            aead.decrypt(KEY, blob[:length], AAD)


def test_appended_byte_fails() -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    with pytest.raises(CryptoError):
        aead.decrypt(KEY, blob + b"\x00", AAD)


def test_error_does_not_chain_invalid_tag() -> None:
    blob = aead.encrypt(KEY, b"secret", AAD)
    with pytest.raises(CryptoError) as excinfo:
        aead.decrypt(OTHER_KEY, blob, AAD)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


@FAST
@given(plaintext=st.binary(max_size=512), aad=st.binary(max_size=128))
def test_round_trip_property(plaintext: bytes, aad: bytes) -> None:
    assert aead.decrypt(KEY, aead.encrypt(KEY, plaintext, aad), aad) == plaintext


@FAST
@given(plaintext=st.binary(max_size=64), data=st.data())
def test_any_flipped_bit_fails(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(aead.encrypt(KEY, plaintext, AAD))
    index = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="index")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    blob[index] ^= 1 << bit
    with pytest.raises(CryptoError):
        aead.decrypt(KEY, bytes(blob), AAD)


@FAST
@given(blob=st.binary(max_size=64))
def test_arbitrary_blobs_only_raise_crypto_error(blob: bytes) -> None:
    with pytest.raises(CryptoError):
        aead.decrypt(KEY, blob, AAD)


# encode_fields


def test_encode_fields_layout() -> None:
    assert aead.encode_fields(b"ab", "c", 5) == (
        b"\x01\x00\x00\x00\x02ab"
        + b"\x02\x00\x00\x00\x01c"
        + b"\x03\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x05"
    )


def test_encode_fields_empty() -> None:
    assert aead.encode_fields() == b""
    assert aead.encode_fields("") == b"\x02\x00\x00\x00\x00"


def test_encode_fields_splits_are_distinct() -> None:
    assert aead.encode_fields("ab", "c") != aead.encode_fields("a", "bc")
    assert aead.encode_fields("abc") != aead.encode_fields("ab", "c")
    assert aead.encode_fields("a", "") != aead.encode_fields("a")


def test_encode_fields_types_are_distinct() -> None:
    assert aead.encode_fields("1") != aead.encode_fields(b"1")
    assert aead.encode_fields(1) != aead.encode_fields(b"\x00" * 7 + b"\x01")


def test_encode_fields_utf8() -> None:
    assert aead.encode_fields("é") == b"\x02\x00\x00\x00\x02\xc3\xa9"


@pytest.mark.parametrize("value", [-1, 2**64])
def test_encode_fields_rejects_out_of_range_int(value: int) -> None:
    with pytest.raises(ValueError, match="8 bytes unsigned"):
        aead.encode_fields(value)


def test_encode_fields_accepts_int_bounds() -> None:
    assert aead.encode_fields(0).endswith(bytes(8))
    assert aead.encode_fields(2**64 - 1).endswith(b"\xff" * 8)


@pytest.mark.parametrize("value", [True, False, 1.0, None, bytearray(b"x")])
def test_encode_fields_rejects_other_types(value: object) -> None:
    with pytest.raises(TypeError):
        aead.encode_fields(value)  # type: ignore[arg-type]


_field = st.one_of(
    st.binary(max_size=16), st.text(max_size=16), st.integers(min_value=0, max_value=2**64 - 1)
)


@FAST
@given(a=st.lists(_field, max_size=4), b=st.lists(_field, max_size=4))
def test_encode_fields_is_injective(a: list[str | bytes | int], b: list[str | bytes | int]) -> None:
    def typed(fields: list[str | bytes | int]) -> list[tuple[str, str | bytes | int]]:
        return [(type(f).__name__, f) for f in fields]

    if typed(a) != typed(b):
        assert aead.encode_fields(*a) != aead.encode_fields(*b)
    else:
        assert aead.encode_fields(*a) == aead.encode_fields(*b)
