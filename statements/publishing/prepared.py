"""Embargoed statements made ready to enter the log without the signing key.

Whoever appends to the log holds the signing key unsealed for that request. Right then,
each embargoed statement (statements/publishing/embargo.py) is given the log place it will
take, in release order, with the checkpoint of the log that has it there and its bundle,
signed. At its time, the release only stores what was signed: the server never needs the
key, and a copy of the server still cannot sign anything new. Every append re-prepares
them, since each changes the places and the trees after it. Takes a Session, never commits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.bundle import canonical, make_bundle, make_log_entry
from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.signing import SigningKey, checkpoint_body, sign_note
from statements.models import Embargo


def pending(db: Session, *, lock: bool = False) -> list[Embargo]:
    """Every embargo not yet released, in the order they will enter the log."""
    query = select(Embargo).order_by(Embargo.release_at, Embargo.slug)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(db.scalars(query))


def prepare(db: Session, hashes: Sequence[bytes], key: SigningKey, origin: str) -> None:
    """Sign each embargoed statement's bundle and checkpoint at its place after `hashes`."""
    chain = list(hashes)
    for row in pending(db):
        position = len(chain)
        chain.append(leaf_hash(row.statement))
        body = checkpoint_body(origin, len(chain), root_from_leaf_hashes(chain))
        signed = sign_note(body, origin, key.private_key, key.public_key)
        bundle = make_bundle(
            json.loads(row.statement), key, make_log_entry(chain, position, origin, signed)
        )
        row.position, row.checkpoint, row.bundle = position, signed, canonical(bundle)
    db.flush()
