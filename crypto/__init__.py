"""Pure cryptography for joint statements: bytes and keys in, bytes out; no app imports.

Key hierarchy:
- Account secret (codename or passphrase) -> kdf.derive_master_key (Argon2id, per-account salt).
- Master key -> keys.unwrap_secret: the account's X25519 private key and author secret.
- Room key (random, per room and key version) -> keys.seal_to_public_key for each member,
  and keys.wrap_with_link_secret for invitation links (HKDF of a high-entropy link secret).
- Records -> records.encrypt_record under the room key, bound to (kind, id, room, version).
- Author secret -> tags.author_tag replaces account ids; tags.lookup_id indexes secrets.
- Everything encrypted goes through aead: one versioned AES-256-GCM envelope.
Failures to decrypt or verify raise CryptoError; misuse (bad key sizes) raises ValueError.
"""

from crypto.errors import CryptoError

__all__ = ["CryptoError"]
