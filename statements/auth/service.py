"""Members' accounts: codenames, sign-in, a new codename, practising it. Takes a Session,
never commits, never imports flask.

The rest of the auth service lives beside it, by capability: an account's keys
(keys.py), login sessions (sessions.py), coordinators and admins (staff.py). This module
also names their public API, so that callers import it from one place.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.tags import lookup_id
from statements.auth import codename as codenames
from statements.auth.errors import AccountDisabled
from statements.auth.keys import (
    AUTHOR_SECRET,
    PRIVATE_KEY,
    SESSION_KEYS,
    TOTP_STATE,
    AuthConfig,
    Identity,
    UnlockedKeys,
    new_master_key,
    provision,
    rekey_if_weaker,
    unlock,
    wrap_keys,
)
from statements.auth.sessions import (
    MalformedSessionCookie,
    activity_cookie,
    end_all_sessions,
    end_session,
    parse_cookie,
    purge_expired_sessions,
    resume_session,
    start_session,
)
from statements.auth.staff import (
    ENROLMENT_DAYS,
    MAX_PASSPHRASE,
    MIN_PASSPHRASE,
    TOTP_ISSUER,
    change_passphrase,
    check_passphrase,
    complete_enrolment,
    create_admin,
    enrolment_account,
    invite_staff,
    login_staff,
    member_accounts,
    new_totp_secret,
    normalize_username,
    renew_enrolment,
    set_disabled,
    staff_accounts,
    totp_uri,
    valid_totp_secret,
)
from statements.encoding import b64url
from statements.models import Account, Role, random_id

__all__ = [
    "AUTHOR_SECRET",
    "ENROLMENT_DAYS",
    "MAX_PASSPHRASE",
    "MIN_PASSPHRASE",
    "PRIVATE_KEY",
    "SESSION_KEYS",
    "TOTP_ISSUER",
    "TOTP_STATE",
    "AuthConfig",
    "Identity",
    "MalformedSessionCookie",
    "Practice",
    "UnlockedKeys",
    "activity_cookie",
    "change_passphrase",
    "check_passphrase",
    "complete_enrolment",
    "create_admin",
    "create_member",
    "end_all_sessions",
    "end_session",
    "enrolment_account",
    "invite_staff",
    "login_member",
    "login_staff",
    "member_accounts",
    "new_totp_secret",
    "normalize_username",
    "parse_cookie",
    "parse_positions",
    "practice",
    "practice_passes",
    "purge_expired_sessions",
    "renew_enrolment",
    "replace_codename",
    "resume_session",
    "set_disabled",
    "staff_accounts",
    "start_session",
    "totp_uri",
    "valid_totp_secret",
]


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
    master_key = new_master_key(account, codename.encode(), config)
    keys = provision(account, master_key)
    db.add(account)
    db.flush()
    return account, codename, keys


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
    account, keys, master_key = unlock(account, codename, config)
    if account.disabled:
        raise AccountDisabled
    rekey_if_weaker(account, codename, keys, master_key, config)
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
    account, keys, _old_master_key = unlock(account, current, config)
    if account.disabled:
        raise AccountDisabled
    codename = codenames.generate_kind(kind)
    account.lookup_id = lookup_id(config.pepper, codename.encode())
    master_key = new_master_key(account, codename.encode(), config)
    wrap_keys(account, master_key, keys)
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
