"""An account's keys: the master key its secret derives, and the keys that key wraps.

Shared by members' sign-in (statements/auth/service.py), coordinators' and admins'
(statements/auth/staff.py) and login sessions (statements/auth/sessions.py). Takes a
Session nowhere, never imports flask.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from crypto.errors import CryptoError
from crypto.kdf import KdfParams, derive_master_key, new_salt
from crypto.keys import generate_keypair, new_key, unwrap_secret, wrap_secret
from statements.auth.errors import LoginFailed
from statements.auth.kdf_pool import KdfSlots, Unbounded
from statements.models import Account

# Purposes bind each wrapped secret to what it is, so one cannot stand in for another.
PRIVATE_KEY = "account-private-key"
AUTHOR_SECRET = "account-author-secret"  # noqa: S105 - a label, not a secret
TOTP_STATE = "account-totp"
SESSION_KEYS = "login-session"


@dataclass(frozen=True)
class AuthConfig:
    """What the auth service needs from the settings."""

    pepper: bytes
    kdf: KdfParams
    idle_minutes: int
    # Authenticates the last-activity time the session cookie carries (see resume_session).
    activity_key: bytes
    # A session ends this long after sign-in, however active: the server half's lifetime.
    max_hours: int = 12
    # Authenticates the two codename parts a practice form expects (see practice).
    practice_key: bytes = b""
    # Bounds concurrent key derivations across the machine's workers (see kdf_pool).
    pool: KdfSlots = field(default_factory=Unbounded)


@dataclass(frozen=True)
class UnlockedKeys:
    """An account's keys while it is logged in."""

    private_key: bytes
    author_secret: bytes

    def to_bytes(self) -> bytes:
        """Serialise for sealing into a login session."""
        return self.private_key + self.author_secret

    @classmethod
    def from_bytes(cls, data: bytes) -> UnlockedKeys:
        """Inverse of to_bytes."""
        if len(data) != 64:
            raise CryptoError("unexpected length of unlocked keys")
        return cls(private_key=data[:32], author_secret=data[32:])


@dataclass(frozen=True)
class Identity:
    """Who a live login session belongs to, with the keys it unlocked."""

    account: Account
    keys: UnlockedKeys
    session_id_hash: bytes
    session_key: bytes
    session_id: bytes = b""
    # The minute of the last activity, as the cookie said (see activity_cookie).
    active_minute: int = 0


def provision(account: Account, master_key: bytes) -> UnlockedKeys:
    """Give an account fresh keys wrapped under its master key."""
    keypair = generate_keypair()
    keys = UnlockedKeys(private_key=keypair.private_key, author_secret=new_key())
    account.public_key = keypair.public_key
    wrap_keys(account, master_key, keys)
    return keys


def wrap_keys(account: Account, master_key: bytes, keys: UnlockedKeys) -> None:
    account.wrapped_private_key = wrap_secret(
        master_key, keys.private_key, purpose=PRIVATE_KEY, owner=account.id
    )
    account.wrapped_author_secret = wrap_secret(
        master_key, keys.author_secret, purpose=AUTHOR_SECRET, owner=account.id
    )


def derive(config: AuthConfig, secret: bytes, salt: bytes, kdf: KdfParams) -> bytes:
    """Derive a master key in one of the machine's few derivation slots (see kdf_pool)."""
    with config.pool.slot():
        return derive_master_key(secret, salt, kdf)


def new_master_key(account: Account, secret: bytes, config: AuthConfig) -> bytes:
    account.kdf_salt = new_salt()
    account.kdf_params = config.kdf.to_json()
    return derive(config, secret, account.kdf_salt, config.kdf)


def unlock(
    account: Account | None, secret: bytes, config: AuthConfig
) -> tuple[Account, UnlockedKeys, bytes]:
    """Derive the master key and unwrap the account's keys, or raise LoginFailed."""
    if account is None or not account.enrolled:
        # Spend the same time as a real attempt, so timing does not reveal the account.
        derive(config, secret, b"\x00" * 16, config.kdf)
        raise LoginFailed
    if account.kdf_salt is None or account.kdf_params is None:
        raise LoginFailed
    master_key = derive(config, secret, account.kdf_salt, KdfParams.from_json(account.kdf_params))
    try:
        keys = UnlockedKeys(
            private_key=unwrap_secret(
                master_key,
                account.wrapped_private_key or b"",
                purpose=PRIVATE_KEY,
                owner=account.id,
            ),
            author_secret=unwrap_secret(
                master_key,
                account.wrapped_author_secret or b"",
                purpose=AUTHOR_SECRET,
                owner=account.id,
            ),
        )
    except CryptoError:
        raise LoginFailed from None
    return account, keys, master_key


def rekey_if_weaker(
    account: Account, secret: bytes, keys: UnlockedKeys, master_key: bytes, config: AuthConfig
) -> bytes:
    """Re-wrap under the current KDF parameters when they have been raised since.

    Never lowers the cost of an account: a mistaken setting must not weaken stored keys.
    """
    current = KdfParams.from_json(account.kdf_params or "")
    if current == config.kdf or not config.kdf.at_least(current):
        return master_key
    totp = read_totp(account, master_key) if account.wrapped_totp else None
    master_key = new_master_key(account, secret, config)
    wrap_keys(account, master_key, keys)
    if totp is not None:
        write_totp(account, master_key, *totp)
    return master_key


def read_totp(account: Account, master_key: bytes) -> tuple[str, int]:
    state = json.loads(
        unwrap_secret(master_key, account.wrapped_totp or b"", purpose=TOTP_STATE, owner=account.id)
    )
    return str(state["secret"]), int(state["last_step"])


def write_totp(account: Account, master_key: bytes, secret: str, last_step: int) -> None:
    state = json.dumps({"secret": secret, "last_step": last_step}).encode()
    account.wrapped_totp = wrap_secret(master_key, state, purpose=TOTP_STATE, owner=account.id)
