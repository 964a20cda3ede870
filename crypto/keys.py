"""Key generation and key wrapping: under a symmetric key, a public key, or a link secret."""

import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import aead
from crypto.errors import CryptoError

KEY_BYTES = aead.KEY_BYTES
SEAL_VERSION = 1
LINK_SECRET_MIN_BYTES = 16

_WRAP_LABEL = b"statements/wrap/v1"
_SEAL_LABEL = b"statements/seal/v1"
_LINK_LABEL = b"statements/link/v1"
# HKDF salt for link secrets: a fixed domain label, since the link secret itself already
# carries the entropy and there is nowhere to store a per-link random salt.
_LINK_HKDF_SALT = b"statements/link/v1/hkdf-salt"

_SEAL_PREFIX = bytes([SEAL_VERSION])
_SEAL_HEADER_BYTES = 1 + KEY_BYTES
_ALL_ZERO = bytes(KEY_BYTES)


@dataclass(frozen=True)
class Keypair:
    """A raw 32-byte X25519 private key and its public key."""

    private_key: bytes
    public_key: bytes


def _check_key(name: str, key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"{name} must be {KEY_BYTES} bytes, got {len(key)}")


def _check_labels(purpose: str, owner: str) -> None:
    # Both are the only thing keeping a secret wrapped for one use from being accepted
    # for another, so an empty one is a bug, not a default.
    if not purpose:
        raise ValueError("purpose must not be empty")
    if not owner:
        raise ValueError("owner must not be empty")


def new_key() -> bytes:
    """Return a fresh random 32-byte symmetric key."""
    return os.urandom(KEY_BYTES)


def generate_keypair() -> Keypair:
    """Generate a fresh X25519 keypair as raw bytes."""
    private = X25519PrivateKey.generate()
    return Keypair(
        private_key=private.private_bytes_raw(),
        public_key=private.public_key().public_bytes_raw(),
    )


def public_key_of(private_key: bytes) -> bytes:
    """Return the raw X25519 public key of a raw private key."""
    _check_key("private_key", private_key)
    return X25519PrivateKey.from_private_bytes(private_key).public_key().public_bytes_raw()


def _wrap_aad(purpose: str, owner: str) -> bytes:
    return aead.encode_fields(_WRAP_LABEL, purpose, owner)


def _wrap_secret(
    kek: bytes, secret: bytes, *, purpose: str, owner: str, _nonce: bytes | None = None
) -> bytes:
    _check_key("kek", kek)
    _check_labels(purpose, owner)
    return aead.encrypt(kek, secret, _wrap_aad(purpose, owner), _nonce=_nonce)


def wrap_secret(kek: bytes, secret: bytes, *, purpose: str, owner: str) -> bytes:
    """Encrypt a secret under a symmetric key-encryption key, bound to purpose and owner."""
    return _wrap_secret(kek, secret, purpose=purpose, owner=owner)


def unwrap_secret(kek: bytes, wrapped: bytes, *, purpose: str, owner: str) -> bytes:
    """Decrypt a secret wrapped by wrap_secret, raising CryptoError on any mismatch."""
    _check_key("kek", kek)
    _check_labels(purpose, owner)
    return aead.decrypt(kek, wrapped, _wrap_aad(purpose, owner))


def _seal_key(
    private: X25519PrivateKey, peer_public: bytes, eph_pub: bytes, recipient_pub: bytes, info: bytes
) -> bytes:
    try:
        shared = private.exchange(X25519PublicKey.from_public_bytes(peer_public))
    except ValueError:
        # OpenSSL refuses low-order points; to a caller that is just a bad ciphertext
        # (or a bad public key), never a programming error.
        raise CryptoError("Decryption or verification failed.") from None
    # Belt and braces in case a backend ever returns the all-zero secret instead of
    # failing: that secret is known to everyone, so nothing keyed by it is private.
    if hmac.compare_digest(shared, _ALL_ZERO):
        raise CryptoError("Decryption or verification failed.")
    # Salting with both public keys binds the derived key to this exact exchange.
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=eph_pub + recipient_pub, info=info
    ).derive(shared)


def _seal_to_public_key(
    recipient_public_key: bytes,
    secret: bytes,
    *,
    purpose: str,
    owner: str,
    _ephemeral_private_key: bytes | None = None,
    _nonce: bytes | None = None,
) -> bytes:
    _check_key("recipient_public_key", recipient_public_key)
    _check_labels(purpose, owner)
    if _ephemeral_private_key is None:
        ephemeral = X25519PrivateKey.generate()
    else:
        _check_key("_ephemeral_private_key", _ephemeral_private_key)
        ephemeral = X25519PrivateKey.from_private_bytes(_ephemeral_private_key)
    eph_pub = ephemeral.public_key().public_bytes_raw()
    info = aead.encode_fields(_SEAL_LABEL, purpose, owner)
    key = _seal_key(ephemeral, recipient_public_key, eph_pub, recipient_public_key, info)
    envelope = aead.encrypt(key, secret, eph_pub + recipient_public_key + info, _nonce=_nonce)
    return _SEAL_PREFIX + eph_pub + envelope


def seal_to_public_key(
    recipient_public_key: bytes, secret: bytes, *, purpose: str, owner: str
) -> bytes:
    """Encrypt a secret to an X25519 public key (ephemeral X25519, HKDF-SHA256, AES-GCM)."""
    return _seal_to_public_key(recipient_public_key, secret, purpose=purpose, owner=owner)


def open_sealed(recipient_private_key: bytes, sealed: bytes, *, purpose: str, owner: str) -> bytes:
    """Decrypt a secret sealed to our public key, raising CryptoError on any mismatch."""
    _check_key("recipient_private_key", recipient_private_key)
    _check_labels(purpose, owner)
    if len(sealed) < _SEAL_HEADER_BYTES or sealed[0] != SEAL_VERSION:
        raise CryptoError("Decryption or verification failed.")
    eph_pub = sealed[1:_SEAL_HEADER_BYTES]
    private = X25519PrivateKey.from_private_bytes(recipient_private_key)
    recipient_pub = private.public_key().public_bytes_raw()
    info = aead.encode_fields(_SEAL_LABEL, purpose, owner)
    key = _seal_key(private, eph_pub, eph_pub, recipient_pub, info)
    # aead.decrypt checks the inner envelope's own length and version byte.
    return aead.decrypt(key, sealed[_SEAL_HEADER_BYTES:], eph_pub + recipient_pub + info)


def _link_key_and_aad(link_secret: bytes, purpose: str, owner: str) -> tuple[bytes, bytes]:
    if len(link_secret) < LINK_SECRET_MIN_BYTES:
        raise ValueError(f"link_secret must be at least {LINK_SECRET_MIN_BYTES} bytes")
    _check_labels(purpose, owner)
    info = aead.encode_fields(_LINK_LABEL, purpose, owner)
    # HKDF, not a slow KDF: the link secret is random and high-entropy, so stretching it
    # buys nothing and would make every invitation click cost a memory-hard derivation.
    key = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=_LINK_HKDF_SALT, info=info).derive(
        link_secret
    )
    # The same info doubles as associated data, so purpose and owner are also checked
    # by the tag, not only by key separation.
    return key, info


def _wrap_with_link_secret(
    link_secret: bytes, secret: bytes, *, purpose: str, owner: str, _nonce: bytes | None = None
) -> bytes:
    key, aad = _link_key_and_aad(link_secret, purpose, owner)
    return aead.encrypt(key, secret, aad, _nonce=_nonce)


def wrap_with_link_secret(link_secret: bytes, secret: bytes, *, purpose: str, owner: str) -> bytes:
    """Encrypt a secret under a key derived (HKDF) from an invitation link's secret."""
    return _wrap_with_link_secret(link_secret, secret, purpose=purpose, owner=owner)


def unwrap_with_link_secret(
    link_secret: bytes, wrapped: bytes, *, purpose: str, owner: str
) -> bytes:
    """Decrypt a secret wrapped by wrap_with_link_secret, raising CryptoError on mismatch."""
    key, aad = _link_key_and_aad(link_secret, purpose, owner)
    return aead.decrypt(key, wrapped, aad)
