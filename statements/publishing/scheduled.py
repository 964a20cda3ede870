"""Scheduled statements in the log: committed when scheduled, withdrawn when called off.

Whoever schedules a statement holds the signing key for that request. The statement is
signed then, and a commitment to it (a salted hash, crypto/reveal.py) is appended to the
log and checkpointed like any other entry; the bundle's log part points at that entry and
carries the salt. At its time the release only stores that bundle: the server never
needs the key, and no checkpoint is ever signed for a size the log has not reached.
Calling it off, or moving it, appends a withdrawal of the commitment. Takes a Session,
never commits, never imports flask.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle import make_bundle, make_log_entry
from crypto.bundle_format import canonical
from crypto.reveal import commitment, commitment_leaf, committed, new_salt, withdrawal_leaf
from crypto.signing import SigningKey
from statements.models import Embargo, EmbargoWithdrawal
from statements.publishing import log


def commit(
    db: Session, statement: Mapping[str, Any], key: SigningKey, origin: str
) -> tuple[int, bytes]:
    """Append the commitment to a statement; return its place and the statement's bundle."""
    salt = new_salt()
    leaf = commitment_leaf(commitment(salt, canonical(statement)))
    position, hashes, checkpoint = log.append(db, log.COMMITMENT, leaf, key, origin)
    bundle = make_bundle(statement, key, make_log_entry(hashes, position, origin, checkpoint, salt))
    return position, canonical(bundle)


def withdraw(db: Session, position: int, key: SigningKey | None, origin: str) -> None:
    """Say in the log that the commitment at `position` will never be opened.

    Without the key the withdrawal waits for the next entry anyone appends.
    """
    if key is None:
        if db.get(EmbargoWithdrawal, position) is None:
            db.add(EmbargoWithdrawal(position=position))
            db.flush()
        return
    value = committed(log.entry(db, position))
    if value is not None:
        log.append(db, log.WITHDRAWAL, withdrawal_leaf(value), key, origin)


def sign_again(db: Session, key: SigningKey, origin: str) -> None:
    """After a key rotation: each waiting statement's bundle, signed by the new key.

    Its commitment stays where it is; the proof now leads to the latest checkpoint, which
    the new key signed, so the bundle verifies under the key valid on its release day.
    """
    rows = list(db.scalars(select(Embargo).where(Embargo.bundle.is_not(None))))
    if not rows:
        return
    hashes = log.leaf_hashes(db)
    checkpoint = log.checkpoint(db)
    for row in rows:
        old = json.loads(row.bundle or b"{}")
        if row.commitment_position is None or "commitment_salt" not in old.get("log", {}):
            continue
        salt = base64.b64decode(old["log"]["commitment_salt"], validate=True)
        entry = make_log_entry(hashes, row.commitment_position, origin, checkpoint, salt)
        row.bundle = canonical(make_bundle(json.loads(row.statement), key, entry))
    db.flush()
