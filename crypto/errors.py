"""Named exceptions of the crypto package."""


class CryptoError(Exception):
    """Decryption or verification failed."""

    # Deliberately one type with no detail: callers (and attackers watching responses)
    # must not learn *why* a ciphertext was rejected (wrong key, tampering, truncation).
