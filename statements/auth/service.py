"""Accounts, login and login sessions. Takes a Session, never commits, never imports flask."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crypto.errors import CryptoError
from crypto.kdf import KdfParams, derive_master_key, new_salt
from crypto.keys import generate_keypair, new_key, unwrap_secret, wrap_secret
from crypto.tags import lookup_id
from statements.auth import codename as codenames
from statements.auth.errors import (
    AccountDisabled,
    AccountNotFound,
    EnrolmentInvalid,
    InvalidUsername,
    LastAdmin,
    LoginFailed,
    SessionEnded,
    TotpInvalid,
    UsernameTaken,
    WeakPassphrase,
)
from statements.auth.kdf_pool import KdfSlots, Unbounded
from statements.encoding import b64url, unb64url
from statements.models import Account, LoginSession, Role, SigningKeyWrap, random_id

MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 1024
ENROLMENT_DAYS = 7
TOTP_ISSUER = "Joint statements"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")

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


# --- accounts -------------------------------------------------------------------------


def _provision(account: Account, master_key: bytes) -> UnlockedKeys:
    """Give an account fresh keys wrapped under its master key."""
    keypair = generate_keypair()
    keys = UnlockedKeys(private_key=keypair.private_key, author_secret=new_key())
    account.public_key = keypair.public_key
    _wrap_keys(account, master_key, keys)
    return keys


def _wrap_keys(account: Account, master_key: bytes, keys: UnlockedKeys) -> None:
    account.wrapped_private_key = wrap_secret(
        master_key, keys.private_key, purpose=PRIVATE_KEY, owner=account.id
    )
    account.wrapped_author_secret = wrap_secret(
        master_key, keys.author_secret, purpose=AUTHOR_SECRET, owner=account.id
    )


def _derive(config: AuthConfig, secret: bytes, salt: bytes, kdf: KdfParams) -> bytes:
    """Derive a master key in one of the machine's few derivation slots (see kdf_pool)."""
    with config.pool.slot():
        return derive_master_key(secret, salt, kdf)


def _new_master_key(account: Account, secret: bytes, config: AuthConfig) -> bytes:
    account.kdf_salt = new_salt()
    account.kdf_params = config.kdf.to_json()
    return _derive(config, secret, account.kdf_salt, config.kdf)


def create_member(
    db: Session, config: AuthConfig, kind: str = codenames.WORDS
) -> tuple[Account, str, UnlockedKeys]:
    """Create an anonymous member account; return it with its codename, shown once.

    kind is words (seven from the EFF list) or digits (28), as the member chose.
    """
    codename = codenames.generate_kind(kind)
    account = Account(
        id=random_id(),
        role=Role.MEMBER,
        lookup_id=lookup_id(config.pepper, codename.encode()),
    )
    master_key = _new_master_key(account, codename.encode(), config)
    keys = _provision(account, master_key)
    db.add(account)
    db.flush()
    return account, codename, keys


def _unlock(
    account: Account | None, secret: bytes, config: AuthConfig
) -> tuple[Account, UnlockedKeys, bytes]:
    """Derive the master key and unwrap the account's keys, or raise LoginFailed."""
    if account is None or not account.enrolled:
        # Spend the same time as a real attempt, so timing does not reveal the account.
        _derive(config, secret, b"\x00" * 16, config.kdf)
        raise LoginFailed
    if account.kdf_salt is None or account.kdf_params is None:
        raise LoginFailed
    master_key = _derive(config, secret, account.kdf_salt, KdfParams.from_json(account.kdf_params))
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


def _rekey_if_weaker(
    account: Account, secret: bytes, keys: UnlockedKeys, master_key: bytes, config: AuthConfig
) -> bytes:
    """Re-wrap under the current KDF parameters when they have been raised since.

    Never lowers the cost of an account: a mistaken setting must not weaken stored keys.
    """
    current = KdfParams.from_json(account.kdf_params or "")
    if current == config.kdf or not config.kdf.at_least(current):
        return master_key
    totp = _read_totp(account, master_key) if account.wrapped_totp else None
    master_key = _new_master_key(account, secret, config)
    _wrap_keys(account, master_key, keys)
    if totp is not None:
        _write_totp(account, master_key, *totp)
    return master_key


def login_member(
    db: Session, config: AuthConfig, typed_codename: str
) -> tuple[Account, UnlockedKeys]:
    """Log in by codename alone. Unknown and mistyped codenames fail the same way.

    A word outside the word list, or too few words, is refused before any account is
    looked up (codename.normalize), so that answer says nothing about accounts.
    """
    codename = codenames.normalize(typed_codename).encode()
    account = db.scalar(
        select(Account).where(
            Account.lookup_id == lookup_id(config.pepper, codename), Account.role == Role.MEMBER
        )
    )
    account, keys, master_key = _unlock(account, codename, config)
    if account.disabled:
        raise AccountDisabled
    _rekey_if_weaker(account, codename, keys, master_key, config)
    return account, keys


def replace_codename(
    db: Session, config: AuthConfig, identity: Identity, typed_current: str, kind: str
) -> str:
    """Give a member a new codename, for when the old one may have been seen; return it.

    The current codename is asked for, so that someone who finds a signed-in phone cannot
    take the account over. The master key is derived anew from the new codename under a
    new salt, the keys it wraps are wrapped again, the old lookup id is replaced (so the
    old codename finds nothing), and every other session ends.
    """
    account = identity.account
    if account.role != Role.MEMBER or account.lookup_id is None:
        raise ValueError("only members have codenames")
    current = codenames.normalize(typed_current).encode()
    # The check is that the codename opens this account's keys; a wrong one costs the
    # same key derivation as the right one.
    account, keys, _old_master_key = _unlock(account, current, config)
    if account.disabled:
        raise AccountDisabled
    codename = codenames.generate_kind(kind)
    account.lookup_id = lookup_id(config.pepper, codename.encode())
    master_key = _new_master_key(account, codename.encode(), config)
    _wrap_keys(account, master_key, keys)
    end_all_sessions(db, account, keep=identity)
    db.flush()
    return codename


# --- practising a new codename -------------------------------------------------------
#
# After a codename is shown, the member types two of its parts before going on. The
# codename is never stored, and two parts cannot be checked against the lookup id (that
# needs all of them), so the form carries the check itself: a MAC, under a server key,
# of the two expected parts, bound to the account and the positions asked for. Nothing
# is written anywhere; the MAC alone says nothing about the words to someone without
# the key, and the page that carries it is not cached or logged.


@dataclass(frozen=True)
class Practice:
    """Which two parts of a codename to type (counted from 1) and the MAC to check them."""

    kind: str
    positions: tuple[int, int]
    check: str


def _practice_mac(
    config: AuthConfig, account_id: str, kind: str, positions: tuple[int, int], answers: list[str]
) -> str:
    if not config.practice_key:
        raise ValueError("no practice key configured")
    fields = ["codename-practice", account_id, kind, f"{positions[0]},{positions[1]}", *answers]
    message = "\x00".join(fields).encode()
    return b64url(hmac.new(config.practice_key, message, hashlib.sha256).digest())


def practice(config: AuthConfig, account_id: str, codename: str) -> Practice:
    """Two parts of a fresh codename, chosen at random, for the member to type back."""
    parts = codenames.parts(codename)
    first, second = sorted(secrets.SystemRandom().sample(range(1, len(parts) + 1), 2))
    kind = codenames.DIGITS if codenames.is_digits(codename) else codenames.WORDS
    answers = [parts[first - 1], parts[second - 1]]
    check = _practice_mac(config, account_id, kind, (first, second), answers)
    return Practice(kind=kind, positions=(first, second), check=check)


def parse_positions(text: str) -> tuple[int, int] | None:
    """The positions a practice form carries ("2,5"), or None if they are not two of 1-7."""
    found = re.fullmatch(r"([1-7]),([1-7])", text)
    if found is None or found.group(1) == found.group(2):
        return None
    return int(found.group(1)), int(found.group(2))


def practice_passes(
    config: AuthConfig,
    account_id: str,
    kind: str,
    positions: tuple[int, int],
    typed: tuple[str, str],
    check: str,
) -> bool:
    """True when the two typed parts are those the practice MAC was made for."""
    answers = [codenames.normalize_part(part, kind) for part in typed]
    expected = _practice_mac(config, account_id, kind, positions, answers)
    return hmac.compare_digest(expected.encode(), check.encode())


# --- coordinators and admins ----------------------------------------------------------


def normalize_username(typed: str) -> str:
    """Usernames are case-insensitive: lower case, 3 to 32 of a-z 0-9 . _ -."""
    username = typed.strip().lower()
    if not _USERNAME.fullmatch(username):
        raise InvalidUsername
    return username


def check_passphrase(passphrase: str, username: str) -> None:
    """Refuse a passphrase that is short, over-long, or common and easy to guess."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise WeakPassphrase("too_short")
    if len(passphrase) > MAX_PASSPHRASE:
        raise WeakPassphrase("too_long")
    # zxcvbn knows the common-password lists and their variations; score 3 is
    # "safely unguessable" against online and throttled offline attacks.
    # Loaded on first use: its word lists are large, and only staff choose passphrases.
    import zxcvbn

    if zxcvbn.zxcvbn(passphrase, user_inputs=[username])["score"] < 3:
        raise WeakPassphrase("too_common")


def new_totp_secret() -> str:
    """A fresh 160-bit base32 TOTP secret."""
    return pyotp.random_base32()


def totp_uri(secret: str, username: str) -> str:
    """The otpauth:// URI an authenticator app scans."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def valid_totp_secret(secret: str) -> bool:
    """True for a base32 secret of at least 160 bits."""
    try:
        return len(base64.b32decode(secret, casefold=True)) >= 20
    except (binascii.Error, ValueError):
        return False


def _totp_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step the code belongs to, allowing one step of clock drift either way."""
    code = code.strip().replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _read_totp(account: Account, master_key: bytes) -> tuple[str, int]:
    state = json.loads(
        unwrap_secret(master_key, account.wrapped_totp or b"", purpose=TOTP_STATE, owner=account.id)
    )
    return str(state["secret"]), int(state["last_step"])


def _write_totp(account: Account, master_key: bytes, secret: str, last_step: int) -> None:
    state = json.dumps({"secret": secret, "last_step": last_step}).encode()
    account.wrapped_totp = wrap_secret(master_key, state, purpose=TOTP_STATE, owner=account.id)


def _enrol(
    account: Account,
    config: AuthConfig,
    passphrase: str,
    totp_secret: str,
    code: str,
    now: datetime,
) -> UnlockedKeys:
    if account.username is None:
        raise ValueError("only coordinators and admins enrol")
    check_passphrase(passphrase, account.username)
    if not valid_totp_secret(totp_secret):
        raise TotpInvalid
    step = _totp_step(totp_secret, code, now)
    if step is None:
        raise TotpInvalid
    master_key = _new_master_key(account, passphrase.encode(), config)
    keys = _provision(account, master_key)
    _write_totp(account, master_key, totp_secret.upper(), step)
    account.enrolment_token_hash = None
    account.enrolment_expires_at = None
    return keys


def _username_free(db: Session, username: str) -> None:
    if db.scalar(select(Account.id).where(Account.username == username)) is not None:
        raise UsernameTaken


def create_admin(
    db: Session,
    config: AuthConfig,
    username: str,
    passphrase: str,
    totp_secret: str,
    code: str,
    now: datetime,
) -> Account:
    """Create an enrolled admin directly (the command line's first-admin path)."""
    username = normalize_username(username)
    _username_free(db, username)
    account = Account(id=random_id(), role=Role.ADMIN, username=username)
    _enrol(account, config, passphrase, totp_secret, code, now)
    db.add(account)
    db.flush()
    return account


def invite_staff(
    db: Session, typed_username: str, role: Role, now: datetime
) -> tuple[Account, str]:
    """Create a coordinator or admin awaiting enrolment; return it and its one-time token."""
    if role == Role.MEMBER:
        raise ValueError("members create their own accounts")
    username = normalize_username(typed_username)
    _username_free(db, username)
    token = secrets.token_urlsafe(32)
    account = Account(
        id=random_id(),
        role=role,
        username=username,
        enrolment_token_hash=hashlib.sha256(token.encode()).digest(),
        enrolment_expires_at=now + timedelta(days=ENROLMENT_DAYS),
    )
    db.add(account)
    db.flush()
    return account, token


def renew_enrolment(db: Session, account_id: str, now: datetime) -> str:
    """A new enrolment token for an account that has not enrolled yet."""
    account = db.get(Account, account_id)
    if account is None or account.enrolled:
        raise AccountNotFound
    token = secrets.token_urlsafe(32)
    account.enrolment_token_hash = hashlib.sha256(token.encode()).digest()
    account.enrolment_expires_at = now + timedelta(days=ENROLMENT_DAYS)
    db.flush()
    return token


def enrolment_account(db: Session, token: str, now: datetime) -> Account:
    """The account a live enrolment token belongs to."""
    if not token or len(token) > 100:
        raise EnrolmentInvalid
    account = db.scalar(
        select(Account).where(
            Account.enrolment_token_hash == hashlib.sha256(token.encode()).digest()
        )
    )
    if (
        account is None
        or account.enrolled
        or account.disabled
        or account.enrolment_expires_at is None
        or account.enrolment_expires_at < now
    ):
        raise EnrolmentInvalid
    return account


def complete_enrolment(
    db: Session,
    config: AuthConfig,
    token: str,
    passphrase: str,
    totp_secret: str,
    code: str,
    now: datetime,
) -> tuple[Account, UnlockedKeys]:
    """Set the passphrase and TOTP of an invited coordinator or admin."""
    account = enrolment_account(db, token, now)
    keys = _enrol(account, config, passphrase, totp_secret, code, now)
    db.flush()
    return account, keys


def _claim_totp_step(
    db: Session, account: Account, master_key: bytes, totp_secret: str, step: int
) -> None:
    """Record the step just used, unless another request recorded a step first.

    A compare-and-swap on the wrapped state: two requests racing with one code cannot
    both win, on any backend, without holding a lock across the slow key derivation.
    """
    old = account.wrapped_totp
    state = json.dumps({"secret": totp_secret, "last_step": step}).encode()
    new = wrap_secret(master_key, state, purpose=TOTP_STATE, owner=account.id)
    result = db.execute(
        update(Account)
        .where(Account.id == account.id, Account.wrapped_totp == old)
        .values(wrapped_totp=new)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise LoginFailed
    set_committed_value(account, "wrapped_totp", new)


def _verify_staff(
    db: Session,
    account: Account | None,
    config: AuthConfig,
    passphrase: str,
    code: str,
    now: datetime,
) -> tuple[Account, UnlockedKeys, bytes]:
    """Check passphrase and a TOTP code never used before; record the code's step."""
    if len(passphrase) > MAX_PASSPHRASE:
        raise LoginFailed
    account, keys, master_key = _unlock(account, passphrase.encode(), config)
    totp_secret, last_step = _read_totp(account, master_key)
    step = _totp_step(totp_secret, code, now)
    # A code is good once: an observed or phished code cannot be replayed.
    if step is None or step <= last_step:
        raise LoginFailed
    if account.disabled:
        raise AccountDisabled
    _claim_totp_step(db, account, master_key, totp_secret, step)
    return account, keys, master_key


def login_staff(
    db: Session, config: AuthConfig, typed_username: str, passphrase: str, code: str, now: datetime
) -> tuple[Account, UnlockedKeys]:
    """Log in with username, passphrase and a TOTP code never used before."""
    try:
        username = normalize_username(typed_username)
    except InvalidUsername:
        username = ""
    account = (
        db.scalar(select(Account).where(Account.username == username, Account.role != Role.MEMBER))
        if username
        else None
    )
    account, keys, master_key = _verify_staff(db, account, config, passphrase, code, now)
    _rekey_if_weaker(account, passphrase.encode(), keys, master_key, config)
    return account, keys


def change_passphrase(
    db: Session,
    config: AuthConfig,
    identity: Identity,
    old: str,
    new: str,
    code: str,
    now: datetime,
) -> None:
    """Change a coordinator's or admin's passphrase; every other session ends."""
    account, keys, master_key = _verify_staff(db, identity.account, config, old, code, now)
    check_passphrase(new, account.username or "")
    totp_secret, last_step = _read_totp(account, master_key)
    master_key = _new_master_key(account, new.encode(), config)
    _wrap_keys(account, master_key, keys)
    _write_totp(account, master_key, totp_secret, last_step)
    end_all_sessions(db, account, keep=identity)
    db.flush()


# --- administration -------------------------------------------------------------------


def staff_accounts(db: Session) -> list[Account]:
    """Coordinators and admins, by username."""
    return list(
        db.scalars(select(Account).where(Account.role != Role.MEMBER).order_by(Account.username))
    )


def member_accounts(db: Session, page: int, per_page: int = 50) -> tuple[list[Account], int]:
    """A page of member accounts in id order (random, so it reveals nothing) and the total."""
    total = db.scalar(select(func.count()).select_from(Account).where(Account.role == Role.MEMBER))
    rows = db.scalars(
        select(Account)
        .where(Account.role == Role.MEMBER)
        .order_by(Account.id)
        .limit(per_page)
        .offset(max(page - 1, 0) * per_page)
    )
    return list(rows), int(total or 0)


def set_disabled(db: Session, actor: Account, account_id: str, disabled: bool) -> Account:
    """Disable or re-enable an account; disabling ends all its sessions."""
    account = db.get(Account, account_id)
    if account is None:
        raise AccountNotFound
    if disabled and account.role == Role.ADMIN:
        others = db.scalar(
            select(func.count())
            .select_from(Account)
            .where(
                Account.role == Role.ADMIN,
                Account.disabled.is_(False),
                Account.id != account.id,
                Account.wrapped_private_key.is_not(None),
            )
        )
        if account.id == actor.id or not others:
            raise LastAdmin
    account.disabled = disabled
    if disabled:
        end_all_sessions(db, account)
        # Their copy of the signing key goes too. What they could have copied while
        # active is dealt with by rotating the key (the admin's signing-key page).
        db.execute(delete(SigningKeyWrap).where(SigningKeyWrap.account_id == account.id))
    db.flush()
    return account


# --- login sessions -------------------------------------------------------------------
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
