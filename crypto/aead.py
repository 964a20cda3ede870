"""The one versioned AES-256-GCM envelope every other module encrypts with.

Layout: version byte (0x01) || 12-byte random nonce || ciphertext || 16-byte tag.
"""

import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from crypto.errors import CryptoError

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16

_VERSION_PREFIX = bytes([FORMAT_VERSION])
_HEADER_BYTES = 1 + NONCE_BYTES
_MIN_BLOB_BYTES = _HEADER_BYTES + TAG_BYTES

# Type tags for encode_fields: a bytes field and a str field with equal contents must
# still encode differently, or b"1" and "1" would be interchangeable in a context.
_TAG_BYTES_FIELD = 0x01
_TAG_STR_FIELD = 0x02
_TAG_INT_FIELD = 0x03
_MAX_FIELD_BYTES = 0xFFFF_FFFF
_MAX_INT_FIELD = 0xFFFF_FFFF_FFFF_FFFF


def _check_key(key: bytes) -> None:
    if len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes, got {len(key)}")


def encrypt(key: bytes, plaintext: bytes, aad: bytes, *, _nonce: bytes | None = None) -> bytes:
    """Encrypt and authenticate plaintext and aad under key into a versioned envelope."""
    _check_key(key)
    if _nonce is None:
        # Random 96-bit nonces: safe for far more messages than one room key will see
        # (the birthday bound is ~2**32 messages per key), and no counter state to lose.
        nonce = os.urandom(NONCE_BYTES)
    else:
        if len(_nonce) != NONCE_BYTES:
            raise ValueError(f"nonce must be {NONCE_BYTES} bytes, got {len(_nonce)}")
        nonce = _nonce
    return _VERSION_PREFIX + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def decrypt(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Return the plaintext of an envelope, or raise CryptoError if it does not verify."""
    _check_key(key)
    # Check length before slicing so a truncated blob is a CryptoError, not a short nonce
    # that AESGCM would reject with its own ValueError.
    if len(blob) < _MIN_BLOB_BYTES or blob[0] != FORMAT_VERSION:
        raise CryptoError("Decryption or verification failed.")
    nonce = blob[1:_HEADER_BYTES]
    try:
        return AESGCM(key).decrypt(nonce, blob[_HEADER_BYTES:], aad)
    except InvalidTag:
        # `from None`: the chained InvalidTag adds nothing and should not reach logs.
        raise CryptoError("Decryption or verification failed.") from None


def encode_fields(*fields: str | bytes | int) -> bytes:
    """Encode fields unambiguously (type tag, 4-byte length, value) for AAD or HMAC input."""
    parts: list[bytes] = []
    for field in fields:
        # bool is a subclass of int; refusing it keeps True from silently meaning 1.
        if isinstance(field, bool):
            raise TypeError("bool is not a valid field; pass an int explicitly")
        if isinstance(field, bytes):
            tag, value = _TAG_BYTES_FIELD, field
        elif isinstance(field, str):
            tag, value = _TAG_STR_FIELD, field.encode("utf-8")
        elif isinstance(field, int):
            if not 0 <= field <= _MAX_INT_FIELD:
                raise ValueError("int field must fit in 8 bytes unsigned")
            tag, value = _TAG_INT_FIELD, field.to_bytes(8, "big")
        else:
            raise TypeError(f"unsupported field type {type(field).__name__}")
        if len(value) > _MAX_FIELD_BYTES:
            raise ValueError("field too long to encode")
        parts.append(struct.pack(">BI", tag, len(value)) + value)
    return b"".join(parts)
