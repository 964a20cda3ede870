"""Memory-hard derivation of an account's master key from its secret (Argon2id)."""

import json
import os
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

SALT_BYTES = 16
MASTER_KEY_BYTES = 32

# Argon2 (RFC 9106) caps these at 2**32 - 1; checking here turns an absurd stored value
# into a ValueError instead of an OverflowError from the Rust binding.
_MAX_U32 = 0xFFFF_FFFF
_FIELDS = frozenset({"algorithm", "memory_kib", "iterations", "lanes"})


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost parameters, stored beside each account so they can be raised later."""

    algorithm: str = "argon2id"
    memory_kib: int = 65536
    iterations: int = 3
    # One lane: with more, OpenSSL runs Argon2 on a thread pool capped at the CPU count,
    # and concurrent derivations in one process (a threaded server) can wait forever.
    lanes: int = 1

    def __post_init__(self) -> None:
        # Everything is a ValueError (even wrong types) so that from_json, fed a row
        # from the database, has a single failure mode.
        if self.algorithm != "argon2id":
            raise ValueError(f"unsupported KDF algorithm {self.algorithm!r}")
        if not (_is_int(self.memory_kib) and _is_int(self.iterations) and _is_int(self.lanes)):
            raise ValueError("memory_kib, iterations and lanes must be ints")
        if not 1 <= self.lanes <= 255:
            raise ValueError("lanes must be between 1 and 255")
        if not 8 * self.lanes <= self.memory_kib <= _MAX_U32:
            raise ValueError("memory_kib must be between 8 * lanes and 2**32 - 1")
        if not 1 <= self.iterations <= _MAX_U32:
            raise ValueError("iterations must be between 1 and 2**32 - 1")

    def at_least(self, other: "KdfParams") -> bool:
        """True when these parameters cost at least as much as other's, in every dimension."""
        return (
            self.memory_kib >= other.memory_kib
            and self.iterations >= other.iterations
            and self.lanes >= other.lanes
        )

    def to_json(self) -> str:
        """Serialise as compact JSON with sorted keys, for storage next to the salt."""
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "KdfParams":
        """Parse parameters stored by to_json, raising ValueError on anything malformed."""
        try:
            data = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
        except RecursionError:
            # Deeply nested input exhausts the parser's stack; still just malformed.
            raise ValueError("KDF parameters are not valid JSON") from None
        # json.JSONDecodeError is already a ValueError, so it propagates as is.
        if not isinstance(data, dict):
            raise ValueError("KDF parameters must be a JSON object")
        # Exact keys, no defaults: silently filling a missing field from today's
        # defaults would derive a different key once the defaults are raised.
        if set(data) != _FIELDS:
            raise ValueError(f"KDF parameters must have exactly the keys {sorted(_FIELDS)}")
        return cls(**data)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r} in KDF parameters")
        result[key] = value
    return result


def new_salt() -> bytes:
    """Return a fresh random per-account salt."""
    return os.urandom(SALT_BYTES)


def derive_master_key(secret: bytes, salt: bytes, params: KdfParams) -> bytes:
    """Derive the 32-byte master key from an account secret with Argon2id."""
    if not secret:
        raise ValueError("secret must not be empty")
    if len(salt) != SALT_BYTES:
        raise ValueError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    kdf = Argon2id(
        salt=salt,
        length=MASTER_KEY_BYTES,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
    )
    return kdf.derive(secret)
