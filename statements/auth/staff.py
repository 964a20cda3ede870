"""Coordinators and admins: usernames, passphrases, TOTP, enrolment and administration.

Takes a Session, never commits, never imports flask.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from datetime import datetime, timedelta

import pyotp
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crypto.keys import wrap_secret
from statements.auth.errors import (
    AccountDisabled,
    AccountNotFound,
    EnrolmentInvalid,
    InvalidUsername,
    LastAdmin,
    LoginFailed,
    TotpInvalid,
    UsernameTaken,
    WeakPassphrase,
)
from statements.auth.keys import (
    TOTP_STATE,
    AuthConfig,
    Identity,
    UnlockedKeys,
    new_master_key,
    provision,
    read_totp,
    rekey_if_weaker,
    unlock,
    wrap_keys,
    write_totp,
)
from statements.auth.sessions import end_all_sessions
from statements.models import Account, Role, SigningKeyWrap, random_id

MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 1024
ENROLMENT_DAYS = 7
TOTP_ISSUER = "Joint statements"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,31}$")


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
    master_key = new_master_key(account, passphrase.encode(), config)
    keys = provision(account, master_key)
    write_totp(account, master_key, totp_secret.upper(), step)
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


def verify_staff(
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
    account, keys, master_key = unlock(account, passphrase.encode(), config)
    totp_secret, last_step = read_totp(account, master_key)
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
    account, keys, master_key = verify_staff(db, account, config, passphrase, code, now)
    rekey_if_weaker(account, passphrase.encode(), keys, master_key, config)
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
    account, keys, master_key = verify_staff(db, identity.account, config, old, code, now)
    check_passphrase(new, account.username or "")
    totp_secret, last_step = read_totp(account, master_key)
    master_key = new_master_key(account, new.encode(), config)
    wrap_keys(account, master_key, keys)
    write_totp(account, master_key, totp_secret, last_step)
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
