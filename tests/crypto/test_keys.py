"""Tests for key generation, wrapping, sealing to public keys, and link-secret wrapping."""

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import aead, keys
from crypto.errors import CryptoError

FAST = settings(max_examples=50, deadline=None, database=None)
KEK = bytes(range(32))
OTHER_KEK = bytes(range(1, 33))
LINK = bytes(range(16))
SECRET = b"room key: 32 bytes of randomness"
ALICE = keys.generate_keypair()
BOB = keys.generate_keypair()

# Points of small order on Curve25519 (from the libsodium blocklist); any exchange with
# them gives the all-zero shared secret.
LOW_ORDER_POINTS = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
    bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


# Every way of protecting a secret, as (protect, unprotect) with the matching key, so
# the shared rejection tests run against each of them.
Protect = Callable[..., bytes]
SCHEMES: dict[str, tuple[Protect, Protect, bytes, bytes]] = {
    "wrap": (keys.wrap_secret, keys.unwrap_secret, KEK, KEK),
    "seal": (keys.seal_to_public_key, keys.open_sealed, ALICE.public_key, ALICE.private_key),
    "link": (keys.wrap_with_link_secret, keys.unwrap_with_link_secret, LINK, LINK),
}
WRONG_KEY = {"wrap": OTHER_KEK, "seal": BOB.private_key, "link": bytes(range(2, 18))}
scheme_names = pytest.mark.parametrize("name", sorted(SCHEMES))


def _protect(name: str, secret: bytes = SECRET, purpose: str = "room", owner: str = "r1") -> bytes:
    protect, _, key, _ = SCHEMES[name]
    return protect(key, secret, purpose=purpose, owner=owner)


def _unprotect(
    name: str, blob: bytes, purpose: str = "room", owner: str = "r1", key: bytes | None = None
) -> bytes:
    _, unprotect, _, default_key = SCHEMES[name]
    return unprotect(default_key if key is None else key, blob, purpose=purpose, owner=owner)


def test_new_key() -> None:
    assert len(keys.new_key()) == keys.KEY_BYTES == 32
    assert keys.new_key() != keys.new_key()


def test_generate_keypair() -> None:
    pair = keys.generate_keypair()
    assert len(pair.private_key) == len(pair.public_key) == 32
    assert keys.public_key_of(pair.private_key) == pair.public_key
    assert pair != keys.generate_keypair()


def test_public_key_of_matches_cryptography() -> None:
    private = X25519PrivateKey.from_private_bytes(bytes(range(32)))
    expected = private.public_key().public_bytes_raw()
    assert keys.public_key_of(bytes(range(32))) == expected


@pytest.mark.parametrize("length", [0, 31, 33])
def test_public_key_of_rejects_wrong_length(length: int) -> None:
    with pytest.raises(ValueError, match="private_key must be 32 bytes"):
        keys.public_key_of(bytes(length))


@scheme_names
def test_round_trip(name: str) -> None:
    assert _unprotect(name, _protect(name)) == SECRET


@scheme_names
def test_empty_secret_round_trips(name: str) -> None:
    assert _unprotect(name, _protect(name, secret=b"")) == b""


@scheme_names
def test_output_is_randomised(name: str) -> None:
    assert _protect(name) != _protect(name)


@scheme_names
def test_wrong_key_fails(name: str) -> None:
    blob = _protect(name)
    with pytest.raises(CryptoError):
        _unprotect(name, blob, key=WRONG_KEY[name])


@scheme_names
def test_wrong_purpose_fails(name: str) -> None:
    blob = _protect(name)
    with pytest.raises(CryptoError):
        _unprotect(name, blob, purpose="totp")


@scheme_names
def test_wrong_owner_fails(name: str) -> None:
    blob = _protect(name)
    with pytest.raises(CryptoError):
        _unprotect(name, blob, owner="r2")


@scheme_names
def test_purpose_and_owner_cannot_shift(name: str) -> None:
    blob = _protect(name, purpose="roomr", owner="1")
    with pytest.raises(CryptoError):
        _unprotect(name, blob, purpose="room", owner="r1")


@scheme_names
def test_every_truncation_fails(name: str) -> None:
    blob = _protect(name)
    for length in range(len(blob)):
        with pytest.raises(CryptoError):
            _unprotect(name, blob[:length])


@scheme_names
def test_appended_byte_fails(name: str) -> None:
    with pytest.raises(CryptoError):
        _unprotect(name, _protect(name) + b"\x00")


@scheme_names
@pytest.mark.parametrize("version", [0, 2, 0xFF])
def test_unknown_version_byte_fails(name: str, version: int) -> None:
    blob = _protect(name)
    with pytest.raises(CryptoError):
        _unprotect(name, bytes([version]) + blob[1:])


@scheme_names
@pytest.mark.parametrize("field", ["purpose", "owner"])
def test_empty_purpose_or_owner_is_value_error(name: str, field: str) -> None:
    labels = {"purpose": "room", "owner": "r1", field: ""}
    protect, unprotect, key, unkey = SCHEMES[name]
    with pytest.raises(ValueError, match=f"{field} must not be empty"):
        protect(key, SECRET, **labels)
    blob = _protect(name)
    with pytest.raises(ValueError, match=f"{field} must not be empty"):
        unprotect(unkey, blob, **labels)


@pytest.mark.parametrize("length", [0, 16, 31, 33])
def test_wrap_rejects_wrong_kek_length(length: int) -> None:
    with pytest.raises(ValueError, match="kek must be 32 bytes"):
        keys.wrap_secret(bytes(length), SECRET, purpose="p", owner="o")
    blob = keys.wrap_secret(KEK, SECRET, purpose="p", owner="o")
    with pytest.raises(ValueError, match="kek must be 32 bytes"):
        keys.unwrap_secret(bytes(length), blob, purpose="p", owner="o")


def test_wrap_is_an_aead_envelope_with_documented_aad() -> None:
    blob = keys.wrap_secret(KEK, SECRET, purpose="p", owner="o")
    aad = aead.encode_fields(b"statements/wrap/v1", "p", "o")
    assert aead.decrypt(KEK, blob, aad) == SECRET


# sealing


def test_sealed_layout() -> None:
    sealed = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    assert sealed[0] == keys.SEAL_VERSION == 1
    assert sealed[33] == aead.FORMAT_VERSION
    assert len(sealed) == 1 + 32 + 1 + 12 + len(SECRET) + 16


def test_sealed_to_alice_does_not_open_for_bob() -> None:
    sealed = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    with pytest.raises(CryptoError):
        keys.open_sealed(BOB.private_key, sealed, purpose="p", owner="o")


@pytest.mark.parametrize("length", [0, 31, 33])
def test_seal_rejects_wrong_public_key_length(length: int) -> None:
    with pytest.raises(ValueError, match="recipient_public_key must be 32 bytes"):
        keys.seal_to_public_key(bytes(length), SECRET, purpose="p", owner="o")


@pytest.mark.parametrize("length", [0, 31, 33])
def test_open_rejects_wrong_private_key_length(length: int) -> None:
    sealed = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    with pytest.raises(ValueError, match="recipient_private_key must be 32 bytes"):
        keys.open_sealed(bytes(length), sealed, purpose="p", owner="o")


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_seal_to_low_order_point_is_rejected(point: bytes) -> None:
    with pytest.raises(CryptoError):
        keys.seal_to_public_key(point, SECRET, purpose="p", owner="o")


@pytest.mark.parametrize("point", LOW_ORDER_POINTS)
def test_open_with_low_order_ephemeral_is_rejected(point: bytes) -> None:
    sealed = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    forged = sealed[:1] + point + sealed[33:]
    with pytest.raises(CryptoError):
        keys.open_sealed(ALICE.private_key, forged, purpose="p", owner="o")


def test_swapped_ephemeral_key_fails() -> None:
    a = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    b = keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o")
    with pytest.raises(CryptoError):
        keys.open_sealed(ALICE.private_key, a[:33] + b[33:], purpose="p", owner="o")


def test_ephemeral_key_high_bit_is_bound() -> None:
    # X25519 ignores the top bit of a public key, so flipping it gives the same shared
    # secret; only binding the transmitted bytes (HKDF salt and AAD) makes this fail.
    sealed = bytearray(keys.seal_to_public_key(ALICE.public_key, SECRET, purpose="p", owner="o"))
    sealed[32] ^= 0x80
    with pytest.raises(CryptoError):
        keys.open_sealed(ALICE.private_key, bytes(sealed), purpose="p", owner="o")


def test_private_seal_rejects_bad_ephemeral_key_length() -> None:
    with pytest.raises(ValueError, match="_ephemeral_private_key must be 32 bytes"):
        keys._seal_to_public_key(
            ALICE.public_key, SECRET, purpose="p", owner="o", _ephemeral_private_key=bytes(31)
        )


# link secrets


@pytest.mark.parametrize("length", [0, 8, 15])
def test_short_link_secret_is_value_error(length: int) -> None:
    with pytest.raises(ValueError, match="link_secret must be at least 16 bytes"):
        keys.wrap_with_link_secret(bytes(length), SECRET, purpose="p", owner="o")
    blob = keys.wrap_with_link_secret(LINK, SECRET, purpose="p", owner="o")
    with pytest.raises(ValueError, match="link_secret must be at least 16 bytes"):
        keys.unwrap_with_link_secret(bytes(length), blob, purpose="p", owner="o")


def test_long_link_secret_is_accepted() -> None:
    link = bytes(range(64))
    blob = keys.wrap_with_link_secret(link, SECRET, purpose="p", owner="o")
    assert keys.unwrap_with_link_secret(link, blob, purpose="p", owner="o") == SECRET


def test_link_secret_prefix_does_not_unwrap() -> None:
    link = bytes(range(17))
    blob = keys.wrap_with_link_secret(link, SECRET, purpose="p", owner="o")
    with pytest.raises(CryptoError):
        keys.unwrap_with_link_secret(link[:16], blob, purpose="p", owner="o")


def test_schemes_do_not_cross() -> None:
    # A link secret that happens to equal a KEK must not open a wrap_secret blob.
    blob = keys.wrap_secret(KEK, SECRET, purpose="p", owner="o")
    with pytest.raises(CryptoError):
        keys.unwrap_with_link_secret(KEK, blob, purpose="p", owner="o")


# properties


@FAST
@given(
    name=st.sampled_from(sorted(SCHEMES)),
    secret=st.binary(max_size=256),
    purpose=st.text(min_size=1, max_size=16),
    owner=st.text(min_size=1, max_size=16),
)
def test_round_trip_property(name: str, secret: bytes, purpose: str, owner: str) -> None:
    blob = _protect(name, secret=secret, purpose=purpose, owner=owner)
    assert _unprotect(name, blob, purpose=purpose, owner=owner) == secret


@FAST
@given(name=st.sampled_from(sorted(SCHEMES)), secret=st.binary(max_size=64), data=st.data())
def test_any_flipped_bit_fails(name: str, secret: bytes, data: st.DataObject) -> None:
    blob = bytearray(_protect(name, secret=secret))
    index = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="index")
    blob[index] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    with pytest.raises(CryptoError):
        _unprotect(name, bytes(blob))


@FAST
@given(name=st.sampled_from(sorted(SCHEMES)), blob=st.binary(max_size=100))
def test_arbitrary_blobs_only_raise_crypto_error(name: str, blob: bytes) -> None:
    with pytest.raises(CryptoError):
        _unprotect(name, blob)


@FAST
@given(
    name=st.sampled_from(sorted(SCHEMES)),
    labels=st.tuples(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8)),
    other=st.tuples(st.text(min_size=1, max_size=8), st.text(min_size=1, max_size=8)),
)
def test_distinct_labels_never_open(
    name: str, labels: tuple[str, str], other: tuple[str, str]
) -> None:
    blob = _protect(name, purpose=labels[0], owner=labels[1])
    if labels == other:
        assert _unprotect(name, blob, purpose=other[0], owner=other[1]) == SECRET
    else:
        with pytest.raises(CryptoError):
            _unprotect(name, blob, purpose=other[0], owner=other[1])
