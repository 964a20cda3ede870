"""Statements committed to the log before they are public, and revealed at their time.

A statement scheduled for release on a date (an embargo) must enter the public log
without anyone holding the signing key at the release, and without the log saying what
it is before then. So, when it is scheduled, the log gains a leaf that holds only a
*commitment* to it:

    commitment = SHA-256("joint-statement commitment v1" || 0x00 || salt || statement)

where `salt` is 32 fresh random bytes and `statement` the RFC 8785 canonical JSON of the
signed statement. The leaf is the canonical JSON of {"format": COMMITMENT_FORMAT,
"commitment": <lowercase hex>}, appended and checkpointed as any other, so every signed
checkpoint is of a size the log really had. The random salt makes the commitment hiding:
without it nobody can test a guess of the text (a leaked draft, a list of names) against
the leaf. At the release the bundle carries the salt (`log.commitment_salt`), and the
verifier recomputes the leaf from the statement and the salt before checking its
inclusion.

A scheduled statement that is called off, or moved to another time, gets a *withdrawal*
leaf naming its commitment ({"format": WITHDRAWAL_FORMAT, "commitment": ...}): a log
monitor knows that commitment will never be opened on this site. No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets

import rfc8785

COMMITMENT_FORMAT = "joint-statement-commitment/1"
WITHDRAWAL_FORMAT = "joint-statement-withdrawal/1"
SALT_BYTES = 32
# Domain separation from every other SHA-256 this project takes (RFC 9162 leaves start
# with 0x00 too, but then hold JSON, never this prefix).
_DOMAIN = b"joint-statement commitment v1\x00"
_HEX = re.compile(r"[0-9a-f]{64}")


def new_salt() -> bytes:
    """Fresh random bytes for one commitment."""
    return secrets.token_bytes(SALT_BYTES)


def commitment(salt: bytes, statement: bytes) -> str:
    """The commitment to a statement's canonical bytes under a salt, as lowercase hex."""
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt must be {SALT_BYTES} bytes")
    return hashlib.sha256(_DOMAIN + salt + statement).hexdigest()


def _leaf(entry_format: str, value: str) -> bytes:
    if not _HEX.fullmatch(value):
        raise ValueError("a commitment is 64 lowercase hex digits")
    return rfc8785.dumps({"format": entry_format, "commitment": value})


def commitment_leaf(value: str) -> bytes:
    """The log leaf that commits to a statement before its release."""
    return _leaf(COMMITMENT_FORMAT, value)


def withdrawal_leaf(value: str) -> bytes:
    """The log leaf saying a commitment will never be opened."""
    return _leaf(WITHDRAWAL_FORMAT, value)


def committed(leaf: bytes) -> str | None:
    """The commitment a commitment leaf holds; None for any other leaf."""
    try:
        entry = json.loads(leaf)
    except ValueError:
        return None
    if not isinstance(entry, dict) or entry.keys() != {"format", "commitment"}:
        return None
    value = entry["commitment"]
    if entry["format"] != COMMITMENT_FORMAT or not isinstance(value, str):
        return None
    if not _HEX.fullmatch(value) or commitment_leaf(value) != leaf:
        return None
    return value
