"""Encryption of stored records, bound to the row they belong to."""

from dataclasses import dataclass

from crypto import aead
from crypto.errors import CryptoError

_RECORD_LABEL = b"statements/record/v1"


@dataclass(frozen=True)
class RecordContext:
    """Where a ciphertext lives; bound as associated data so it cannot move to another row."""

    kind: str
    record_id: str
    room_id: str
    key_version: int

    def __post_init__(self) -> None:
        # An empty id almost always means "encrypted before the row had an id", which
        # would let the ciphertext be replayed into any row of that kind.
        if not (self.kind and self.record_id and self.room_id):
            raise ValueError("kind, record_id and room_id must not be empty")
        if isinstance(self.key_version, bool) or not isinstance(self.key_version, int):
            raise ValueError("key_version must be an int")
        if self.key_version < 0:
            raise ValueError("key_version must not be negative")

    def associated_data(self) -> bytes:
        """Return the unambiguous associated data for this record."""
        return aead.encode_fields(
            _RECORD_LABEL, self.kind, self.record_id, self.room_id, self.key_version
        )


def encrypt_record(key: bytes, plaintext: bytes, context: RecordContext) -> bytes:
    """Encrypt a record's bytes under a room key, bound to its context."""
    return aead.encrypt(key, plaintext, context.associated_data())


def decrypt_record(key: bytes, blob: bytes, context: RecordContext) -> bytes:
    """Decrypt a record's bytes, raising CryptoError if key, context or blob is wrong."""
    return aead.decrypt(key, blob, context.associated_data())


def encrypt_text(key: bytes, text: str, context: RecordContext) -> bytes:
    """Encrypt a record's text (UTF-8) under a room key, bound to its context."""
    return encrypt_record(key, text.encode("utf-8"), context)


def decrypt_text(key: bytes, blob: bytes, context: RecordContext) -> str:
    """Decrypt a record's text, raising CryptoError if it fails to verify or decode."""
    plaintext = decrypt_record(key, blob, context)
    try:
        return plaintext.decode("utf-8")
    except UnicodeDecodeError:
        # Only reachable if bytes that are not text were stored under this context;
        # callers handle one failure type, not a stray UnicodeDecodeError.
        raise CryptoError("Decryption or verification failed.") from None
