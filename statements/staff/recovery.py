"""Recovery codes: single-use codes a coordinator or admin may type in place of a TOTP code.

Issued at enrolment and shown once; kept only as slow (Argon2id) hashes, so a copy of
the database does not hand them out. A code is used up by deleting its hash in a
compare-and-delete, so two requests racing with one code cannot both sign in. Takes a
Session, never commits, never imports flask.
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crypto.kdf import KdfParams, derive_master_key, new_salt
from statements.auth import service, staff
from statements.auth.errors import AccountDisabled, InvalidUsername, LoginFailed
from statements.auth.keys import unlock
from statements.models import Account, AuditAction, RecoveryCode, Role
from statements.staff import audit

CODE_COUNT = 8
# Sixteen characters of base32: 80 bits, far beyond guessing even offline.
_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_CODE_CHARS = 16
_TYPED = re.compile(r"[a-z2-7]{16}")


def _new_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(_CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, _CODE_CHARS, 4))


def normalize_code(typed: str) -> str | None:
    """A typed recovery code without spaces, dashes or capitals; None if it cannot be one."""
    text = re.sub(r"[\s-]", "", typed).lower()
    return text if _TYPED.fullmatch(text) else None


def looks_like_recovery_code(typed: str) -> bool:
    """True when what was typed in the code field is a recovery code, not a TOTP code."""
    return normalize_code(typed) is not None


def _hash(code: str, salt: bytes, params: KdfParams) -> bytes:
    return derive_master_key(code.encode(), salt, params)


def issue_codes(db: Session, config: service.AuthConfig, account: Account) -> list[str]:
    """A fresh set of codes for an account; the codes it had before stop working."""
    if not account.is_staff:
        raise ValueError("only coordinators and admins have recovery codes")
    db.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    salt = new_salt()
    codes = [_new_code() for _ in range(CODE_COUNT)]
    for code in codes:
        db.add(
            RecoveryCode(
                account_id=account.id,
                code_hash=_hash(code.replace("-", ""), salt, config.kdf),
                salt=salt,
                kdf_params=config.kdf.to_json(),
            )
        )
    db.flush()
    return codes


def codes_left(db: Session, account: Account) -> int:
    """How many unused recovery codes an account has."""
    return len(
        list(
            db.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.account_id == account.id))
        )
    )


def complete_enrolment(
    db: Session,
    config: service.AuthConfig,
    token: str,
    passphrase: str,
    totp_secret: str,
    code: str,
    now: datetime,
) -> tuple[Account, service.UnlockedKeys, list[str]]:
    """Enrol an invited (or reset) staff account, and give it its recovery codes."""
    account, keys = service.complete_enrolment(
        db, config, token, passphrase, totp_secret, code, now
    )
    codes = issue_codes(db, config, account)
    audit.record(db, account, AuditAction.ACCOUNT_ENROLLED, account.username, now.date())
    return account, keys, codes


def replace_codes(
    db: Session,
    config: service.AuthConfig,
    identity: service.Identity,
    passphrase: str,
    code: str,
    now: datetime,
) -> list[str]:
    """New recovery codes for a signed-in staff member who proves passphrase and TOTP."""
    account, _keys, _master_key = staff.verify_staff(  # the same check as a passphrase change
        db, identity.account, config, passphrase, code, now
    )
    codes = issue_codes(db, config, account)
    audit.record(db, account, AuditAction.RECOVERY_CODES_REPLACED, account.username, now.date())
    return codes


def login_with_code(
    db: Session,
    config: service.AuthConfig,
    typed_username: str,
    passphrase: str,
    typed_code: str,
    today: date,
) -> tuple[Account, service.UnlockedKeys]:
    """Sign in with username, passphrase and a recovery code, which is then used up.

    Every attempt costs the same two derivations (the code's hash, then the passphrase),
    whether the account exists, has codes left, or the passphrase is right.
    """
    if len(passphrase) > service.MAX_PASSPHRASE:
        raise LoginFailed
    try:
        username = service.normalize_username(typed_username)
    except InvalidUsername:
        username = ""
    account = (
        db.scalar(select(Account).where(Account.username == username, Account.role != Role.MEMBER))
        if username
        else None
    )
    rows = (
        list(db.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id)))
        if account is not None
        else []
    )
    code = normalize_code(typed_code) or "x"
    if rows:
        digest = _hash(code, rows[0].salt, KdfParams.from_json(rows[0].kdf_params))
    else:
        _hash(code, b"\x00" * 16, config.kdf)
        digest = b""
    account, keys, _master_key = unlock(  # the same check as a login
        account, passphrase.encode(), config
    )
    matched = next((row for row in rows if hmac.compare_digest(row.code_hash, digest)), None)
    if matched is None:
        raise LoginFailed
    if account.disabled:
        raise AccountDisabled
    result = db.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.account_id == account.id, RecoveryCode.code_hash == matched.code_hash)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise LoginFailed
    db.expunge(matched)
    audit.record(db, account, AuditAction.RECOVERY_CODE_USED, account.username, today)
    return account, keys
