"""Login sessions: the cookie, the sealed server half, idle expiry. Never imports flask."""

from __future__ import annotations

import binascii
import hashlib
import hmac
import math
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from crypto.errors import CryptoError
from crypto.keys import new_key, unwrap_secret, wrap_secret
from statements.auth.errors import SessionEnded
from statements.auth.keys import SESSION_KEYS, AuthConfig, Identity, UnlockedKeys
from statements.encoding import b64url, unb64url
from statements.models import Account, LoginSession

#
# A request never writes to its session row. The row is written once, at sign-in, and
# deleted at sign-out or when it lapses: were it rewritten on every request (to push its
# idle expiry on), it would share a transaction with whatever the request wrote, and a
# copy of the database could group a member's contributions by the session that wrote
# them. Idle expiry lives in the cookie instead: the minute of the last request, with a
# MAC under a server key so a stolen cookie cannot be made to look recently used. The
# row's own expiry is fixed at sign-in (max_hours later, rounded up to the hour).


def _lifetime_end(now: datetime, max_hours: int) -> datetime:
    later = now + timedelta(hours=max_hours)
    return datetime.fromtimestamp(math.ceil(later.timestamp() / 3600) * 3600, tz=UTC)


def _minute(now: datetime) -> int:
    return int(now.timestamp() // 60)


def _activity_mac(config: AuthConfig, session_id: bytes, minute: int) -> bytes:
    message = b"session-activity\x00" + session_id + minute.to_bytes(8, "big")
    return hmac.new(config.activity_key, message, hashlib.sha256).digest()[:16]


def _cookie(config: AuthConfig, session_id: bytes, session_key: bytes, minute: int) -> str:
    mac = _activity_mac(config, session_id, minute)
    return f"{b64url(session_id)}.{b64url(session_key)}.{minute}.{b64url(mac)}"


class MalformedSessionCookie(ValueError):
    """The session cookie is not of our format at all: it was altered."""


def parse_cookie(value: str) -> tuple[bytes, bytes, int, bytes]:
    """Split a session cookie into (session id, session key, minute, activity MAC)."""
    try:
        sid_text, key_text, minute_text, mac_text = value.split(".")
        session_id, session_key = unb64url(sid_text), unb64url(key_text)
        mac = unb64url(mac_text)
        if not minute_text.isdigit() or len(minute_text) > 12:
            raise ValueError("minute")
        minute = int(minute_text)
    except (ValueError, binascii.Error):
        raise MalformedSessionCookie from None
    if len(session_id) != 32 or len(session_key) != 32 or len(mac) != 16:
        raise MalformedSessionCookie
    return session_id, session_key, minute, mac


def _seal_session(
    session_key: bytes, id_hash: bytes, account: Account, keys: UnlockedKeys
) -> bytes:
    # The account id lives only inside the sealed half: a copy of the table at rest
    # cannot tell whose sessions are live, nor line up one account's activity.
    payload = account.id.encode() + account.session_epoch.to_bytes(8, "big") + keys.to_bytes()
    return wrap_secret(session_key, payload, purpose=SESSION_KEYS, owner=id_hash.hex())


def start_session(
    db: Session, config: AuthConfig, account: Account, keys: UnlockedKeys, now: datetime
) -> str:
    """Open a login session and return the cookie value that alone can resume it."""
    purge_expired_sessions(db, now)
    session_id, session_key = secrets.token_bytes(32), new_key()
    id_hash = hashlib.sha256(session_id).digest()
    db.add(
        LoginSession(
            id_hash=id_hash,
            sealed=_seal_session(session_key, id_hash, account, keys),
            expires_at=_lifetime_end(now, config.max_hours),
        )
    )
    db.flush()
    return _cookie(config, session_id, session_key, _minute(now))


def resume_session(db: Session, config: AuthConfig, cookie: str, now: datetime) -> Identity:
    """The identity behind a session cookie. Writes nothing, unless the session has ended.

    Raises MalformedSessionCookie for a cookie that is not ours, SessionEnded for one
    that is unknown, idle too long, past its lifetime, ended by its account, disabled,
    or not opened by its key.
    """
    session_id, session_key, minute, mac = parse_cookie(cookie)
    id_hash = hashlib.sha256(session_id).digest()
    if not hmac.compare_digest(mac, _activity_mac(config, session_id, minute)):
        raise SessionEnded
    row = db.get(LoginSession, id_hash)
    if row is None:
        raise SessionEnded
    idle = _minute(now) - minute
    # A cookie dated a few minutes ahead comes from a worker whose clock runs ahead.
    if row.expires_at <= now or idle >= config.idle_minutes or idle < -5:
        db.delete(row)
        raise SessionEnded
    try:
        payload = unwrap_secret(session_key, row.sealed, purpose=SESSION_KEYS, owner=id_hash.hex())
        account_id, epoch = payload[:32].decode("ascii"), int.from_bytes(payload[32:40], "big")
        keys = UnlockedKeys.from_bytes(payload[40:])
    except (CryptoError, UnicodeDecodeError):
        raise SessionEnded from None
    account = db.get(Account, account_id)
    if account is None or account.disabled or account.session_epoch != epoch:
        db.delete(row)
        raise SessionEnded
    return Identity(
        account=account,
        keys=keys,
        session_id_hash=id_hash,
        session_key=session_key,
        session_id=session_id,
        active_minute=minute,
    )


def activity_cookie(config: AuthConfig, identity: Identity, now: datetime) -> str | None:
    """The session cookie with this request as its last activity; None if unchanged."""
    if not identity.session_id or _minute(now) == identity.active_minute:
        return None
    return _cookie(config, identity.session_id, identity.session_key, _minute(now))


def end_session(db: Session, id_hash: bytes) -> None:
    """Log out: delete the server half of the session."""
    db.execute(delete(LoginSession).where(LoginSession.id_hash == id_hash))


def end_all_sessions(db: Session, account: Account, keep: Identity | None = None) -> None:
    """End every session of an account, except `keep`.

    Rows do not say whose they are, so the account moves to a new session epoch: rows
    sealed with an older one are refused (and deleted) when next presented, or purged
    when they expire. The kept session is sealed again with the new epoch.
    """
    account.session_epoch += 1
    db.flush()
    if keep is not None:
        row = db.get(LoginSession, keep.session_id_hash)
        if row is not None:
            row.sealed = _seal_session(keep.session_key, keep.session_id_hash, account, keep.keys)


def purge_expired_sessions(db: Session, now: datetime) -> int:
    """Delete sessions past their lifetime; returns how many."""
    result = db.execute(delete(LoginSession).where(LoginSession.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
