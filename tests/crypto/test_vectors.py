"""Known-answer vectors pinning every format, cross-checked against the raw primitives.

The hex below was produced once by this package; each vector is also recomputed here
straight from `cryptography`, `hmac` and `struct` (and, for Argon2id and X25519, checked
against the RFC test vectors), so the vectors are not merely self-referential. If one of
these fails, a stored ciphertext somewhere has stopped decrypting: bump a version byte
instead of editing the hex.
"""

import hashlib
import hmac
import struct

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import aead, keys, records, tags
from crypto.kdf import KdfParams, derive_master_key

KEY = bytes.fromhex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
NONCE = bytes.fromhex("a0a1a2a3a4a5a6a7a8a9aaab")
LINK_SECRET = bytes.fromhex("f0e1d2c3b4a5968778695a4b3c2d1e0f")

# RFC 7748 section 6.1: Alice plays the ephemeral sender, Bob the recipient.
ALICE_PRIVATE = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
ALICE_PUBLIC = bytes.fromhex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
BOB_PRIVATE = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
BOB_PUBLIC = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
RFC7748_SHARED = bytes.fromhex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


def _field(tag: int, value: bytes) -> bytes:
    """Encode one field by hand, independently of aead.encode_fields."""
    return struct.pack(">BI", tag, len(value)) + value


def _b(value: bytes) -> bytes:
    return _field(1, value)


def _s(value: str) -> bytes:
    return _field(2, value.encode("utf-8"))


def _i(value: int) -> bytes:
    return _field(3, struct.pack(">Q", value))


def _gcm(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Build a version-1 envelope directly with AESGCM."""
    return b"\x01" + NONCE + AESGCM(key).encrypt(NONCE, plaintext, aad)


def _hkdf(key_material: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(key_material)


# encode_fields

RECORD_AAD = bytes.fromhex(
    "010000001473746174656d656e74732f7265636f72642f7631"  # b"statements/record/v1"
    "020000000c636f6e747269627574696f6e"  # "contribution"
    "0200000003632d31"  # "c-1"
    "0200000003722d31"  # "r-1"
    "03000000080000000000000001"  # 1
)


def test_encode_fields_vectors() -> None:
    fields = (b"statements/record/v1", "contribution", "c-1", "r-1", 1)
    assert aead.encode_fields(*fields) == RECORD_AAD
    by_hand = _b(b"statements/record/v1") + _s("contribution") + _s("c-1") + _s("r-1") + _i(1)
    assert by_hand == RECORD_AAD
    odd = bytes.fromhex("010000000200ff0200000002c3a90300000008ffffffffffffffff0200000000")
    assert aead.encode_fields(b"\x00\xff", "é", 2**64 - 1, "") == odd
    assert odd == _b(b"\x00\xff") + _s("é") + _i(2**64 - 1) + _s("")


# Argon2id


def test_argon2id_primitive_matches_rfc9106() -> None:
    # RFC 9106 section 5.3; proves the primitive itself (and its argument names) is right.
    kdf = Argon2id(
        salt=b"\x02" * 16,
        length=32,
        iterations=3,
        lanes=4,
        memory_cost=32,
        ad=b"\x04" * 12,
        secret=b"\x03" * 8,
    )
    expected = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    assert kdf.derive(b"\x01" * 32).hex() == expected


def test_derive_master_key_vectors() -> None:
    secret = b"correct horse battery staple"
    salt = bytes(range(16))
    cheap = KdfParams(memory_kib=8, iterations=1, lanes=1)
    expected = "d17ea6341ca93da6079ea2f64dc4aa31dd1aaf9caa67fb42ac4afd0714706f26"
    assert derive_master_key(secret, salt, cheap).hex() == expected
    # Distinct values for every parameter, so swapping two of them would show.
    params = KdfParams(memory_kib=32, iterations=2, lanes=4)
    expected = "f333871a0a73a71020b3ab5080c93900aaa7b785e2f5ba6afc9a695ec9dcb11d"
    assert derive_master_key(secret, salt, params).hex() == expected
    direct = Argon2id(salt=salt, length=32, iterations=2, lanes=4, memory_cost=32)
    assert direct.derive(secret).hex() == expected


# AEAD envelope

AEAD_VECTOR = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaab8c77154331eb71cb0311e2be6214b43ff14a944a363939839b396700e8b77b"
)


def test_aead_vector() -> None:
    assert aead.encrypt(KEY, b"joint statement", b"aad", _nonce=NONCE) == AEAD_VECTOR
    assert aead.decrypt(KEY, AEAD_VECTOR, b"aad") == b"joint statement"
    assert _gcm(KEY, b"joint statement", b"aad") == AEAD_VECTOR


# records

RECORD_VECTOR = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaabb17d5c4e24a76e9f040af5f3741ba6bb50dc3863e1d62509b283fb1b0e9d"
    "bfa541a94da92194e4b2e7"
)


def test_record_vector() -> None:
    context = records.RecordContext(
        kind="contribution", record_id="c-1", room_id="r-1", key_version=1
    )
    assert context.associated_data() == RECORD_AAD
    plaintext = b"We call for safe passage."
    # encrypt_record has no nonce hook (by design), so pin it through its exact AAD.
    assert aead.encrypt(KEY, plaintext, context.associated_data(), _nonce=NONCE) == RECORD_VECTOR
    assert _gcm(KEY, plaintext, RECORD_AAD) == RECORD_VECTOR
    assert records.decrypt_record(KEY, RECORD_VECTOR, context) == plaintext
    assert records.decrypt_text(KEY, RECORD_VECTOR, context) == plaintext.decode()


# wrapping under a symmetric key

WRAP_VECTOR = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaabbbb37453278188f41b84f85884face381f97e839b4aff4918021ada18023"
    "95ea06eb571e50ec04df195e0f817e69bd77"
)


def test_wrap_secret_vector() -> None:
    purpose, owner = "x25519-private-key", "account-1"
    wrapped = keys._wrap_secret(KEY, BOB_PRIVATE, purpose=purpose, owner=owner, _nonce=NONCE)
    assert wrapped == WRAP_VECTOR
    assert keys.unwrap_secret(KEY, WRAP_VECTOR, purpose=purpose, owner=owner) == BOB_PRIVATE
    aad = _b(b"statements/wrap/v1") + _s(purpose) + _s(owner)
    assert _gcm(KEY, BOB_PRIVATE, aad) == WRAP_VECTOR


# sealing to a public key

SEAL_VECTOR = bytes.fromhex(
    "01"  # seal version
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"  # ephemeral public
    "01a0a1a2a3a4a5a6a7a8a9aaab"  # envelope version and nonce
    "7b1bdc8a8f53c021f3cbe173efc10e39ecf552bf656f729498d732e4092708dd"  # ciphertext
    "78bba330ff48c9a729edcd8478f255af"  # tag
)


def test_seal_vector() -> None:
    purpose, owner = "room-key", "room-1"
    assert keys.public_key_of(ALICE_PRIVATE) == ALICE_PUBLIC
    assert keys.public_key_of(BOB_PRIVATE) == BOB_PUBLIC
    sealed = keys._seal_to_public_key(
        BOB_PUBLIC,
        KEY,
        purpose=purpose,
        owner=owner,
        _ephemeral_private_key=ALICE_PRIVATE,
        _nonce=NONCE,
    )
    assert sealed == SEAL_VECTOR
    assert keys.open_sealed(BOB_PRIVATE, SEAL_VECTOR, purpose=purpose, owner=owner) == KEY


def test_seal_vector_from_primitives() -> None:
    alice = X25519PrivateKey.from_private_bytes(ALICE_PRIVATE)
    shared = alice.exchange(X25519PublicKey.from_public_bytes(BOB_PUBLIC))
    assert shared == RFC7748_SHARED
    info = _b(b"statements/seal/v1") + _s("room-key") + _s("room-1")
    key = _hkdf(shared, ALICE_PUBLIC + BOB_PUBLIC, info)
    envelope = _gcm(key, KEY, ALICE_PUBLIC + BOB_PUBLIC + info)
    assert b"\x01" + ALICE_PUBLIC + envelope == SEAL_VECTOR


# wrapping under an invitation link's secret

LINK_VECTOR = bytes.fromhex(
    "01a0a1a2a3a4a5a6a7a8a9aaab1f0d83edb0629bb6c9d1c045745d89dffb8cc8e2b6b2862c38d1c1ece7ee"
    "cccc871f9ddfe8c8e253939cad17dec12854"
)


def test_link_vector() -> None:
    purpose, owner = "room-key", "invitation-1"
    wrapped = keys._wrap_with_link_secret(
        LINK_SECRET, KEY, purpose=purpose, owner=owner, _nonce=NONCE
    )
    assert wrapped == LINK_VECTOR
    unwrapped = keys.unwrap_with_link_secret(LINK_SECRET, LINK_VECTOR, purpose=purpose, owner=owner)
    assert unwrapped == KEY
    info = _b(b"statements/link/v1") + _s(purpose) + _s(owner)
    key = _hkdf(LINK_SECRET, b"statements/link/v1/hkdf-salt", info)
    assert _gcm(key, KEY, info) == LINK_VECTOR


# tags


def test_author_tag_vector() -> None:
    expected = "00ffd3ab38bff782e33120c3e7b201252e5d07ae55fb87c70fac0d8d606621d4"
    assert tags.author_tag(KEY, "support", "statement-1").hex() == expected
    message = _b(b"statements/tag/v1") + _s("support") + _s("statement-1")
    assert hmac.new(KEY, message, hashlib.sha256).hexdigest() == expected


def test_lookup_id_vector() -> None:
    secret = b"seven word diceware codename goes right here"
    expected = "3547868014e3ff3f87ef902c04dad746276aca95462d1aaeeb6d40213db99d9c"
    assert tags.lookup_id(LINK_SECRET, secret).hex() == expected
    message = _b(b"statements/lookup/v1") + _b(secret)
    assert hmac.new(LINK_SECRET, message, hashlib.sha256).hexdigest() == expected
