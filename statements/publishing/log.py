"""The public append-only log of publication events (RFC 9162 hashing, C2SP checkpoints).

Takes a Session, never commits. Each append stores the leaf and a checkpoint signed at the
new size, so every size the log ever had has a signed tree head to prove against. Nothing
is signed for a size the log has not reached: a scheduled statement enters as a
commitment, appended like any other leaf (crypto/reveal.py).
"""

from __future__ import annotations

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.reveal import committed, withdrawal_leaf
from crypto.signing import SigningKey, checkpoint_body, sign_note
from statements.models import (
    EmbargoWithdrawal,
    LogCheckpoint,
    LogEntry,
    LogKind,
    PublishedVersion,
)
from statements.publishing import tree
from statements.publishing.errors import LogRangeError

STATEMENT = LogKind.STATEMENT
KEY_ROTATION = LogKind.KEY_ROTATION
COMMITMENT = LogKind.COMMITMENT
WITHDRAWAL = LogKind.WITHDRAWAL
# Positions and sizes are 32-bit integer columns (as the routes' int(max=...) say): a number
# from outside, such as a pasted bundle's, is refused here before PostgreSQL refuses it.
MAX_POSITION = 2**31 - 1


def size(db: Session) -> int:
    """The number of entries in the log."""
    return db.scalar(select(func.count()).select_from(LogEntry)) or 0


def leaf_hashes(db: Session) -> list[bytes]:
    """Every leaf hash, in log order."""
    return list(db.scalars(select(LogEntry.leaf_hash).order_by(LogEntry.position)))


def append(
    db: Session, kind: LogKind, leaf: bytes, key: SigningKey, origin: str
) -> tuple[int, list[bytes], str]:
    """Add a leaf; return its position, every leaf hash after it, and the new checkpoint.

    Withdrawals that waited for someone holding the key (statements/models/publishing.py,
    EmbargoWithdrawal) go in first.
    """
    hashes = leaf_hashes(db)
    for waiting in db.scalars(select(EmbargoWithdrawal).order_by(EmbargoWithdrawal.position)):
        held = entry(db, waiting.position) if waiting.position < len(hashes) else b""
        if (value := committed(held)) is not None:
            _append_one(db, hashes, WITHDRAWAL, withdrawal_leaf(value), key, origin)
    db.execute(delete(EmbargoWithdrawal))
    position = len(hashes)
    signed = _append_one(db, hashes, kind, leaf, key, origin)
    return position, hashes, signed


def _append_one(
    db: Session, hashes: list[bytes], kind: LogKind, leaf: bytes, key: SigningKey, origin: str
) -> str:
    position = len(hashes)
    hashed = leaf_hash(leaf)
    # Two writers computing the same position collide on the primary key and one rolls
    # back whole, rather than both landing (callers also hold the signing key's row lock).
    db.add(LogEntry(position=position, kind=kind, leaf=leaf, leaf_hash=hashed))
    tree.append(db, position, hashed)
    hashes.append(hashed)
    body = checkpoint_body(origin, len(hashes), root_from_leaf_hashes(hashes))
    signed = sign_note(body, origin, key.private_key, key.public_key)
    db.add(LogCheckpoint(tree_size=len(hashes), signed_note=signed))
    db.flush()
    return signed


def bundle_at(db: Session, position: int) -> bytes:
    """The bundle of the published version whose entry is at a position (a statement, or
    the commitment to one since released); LogRangeError for any other entry."""
    if not 0 <= position <= MAX_POSITION:
        raise LogRangeError
    bundle = db.scalar(
        select(PublishedVersion.bundle).where(PublishedVersion.log_position == position)
    )
    if bundle is None:
        raise LogRangeError
    return bytes(bundle)


RELEASED = "released"
WITHDRAWN = "withdrawn"
WAITING = "waiting"


def commitment_state(db: Session, position: int, leaf: bytes) -> str | None:
    """What became of the commitment at a position: RELEASED (its statement is
    published), WITHDRAWN (called off or moved, in the log or waiting to be), or WAITING
    (scheduled, not yet published). None when the leaf is not a commitment."""
    value = committed(leaf)
    if value is None:
        return None
    if db.scalar(select(PublishedVersion.slug).where(PublishedVersion.log_position == position)):
        return RELEASED
    withdrawal = leaf_hash(withdrawal_leaf(value))
    found = select(LogEntry.position).where(
        LogEntry.kind == WITHDRAWAL, LogEntry.leaf_hash == withdrawal
    )
    waiting = db.get(EmbargoWithdrawal, position)
    if db.scalar(found.limit(1)) is not None or waiting is not None:
        return WITHDRAWN
    return WAITING


def checkpoint(db: Session, tree_size: int | None = None) -> str:
    """The signed checkpoint at a size (the latest by default)."""
    query = select(LogCheckpoint.signed_note)
    if tree_size is not None and not 0 < tree_size <= MAX_POSITION:
        raise LogRangeError
    if tree_size is None:
        query = query.order_by(LogCheckpoint.tree_size.desc()).limit(1)
    else:
        query = query.where(LogCheckpoint.tree_size == tree_size)
    note = db.scalar(query)
    if note is None:
        raise LogRangeError
    return note


def entry(db: Session, position: int) -> bytes:
    """The canonical bytes of the leaf at a position."""
    if not 0 <= position <= MAX_POSITION:
        raise LogRangeError
    leaf = db.scalar(select(LogEntry.leaf).where(LogEntry.position == position))
    if leaf is None:
        raise LogRangeError
    return leaf


def inclusion(db: Session, index: int, tree_size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of a leaf in the tree of a given size."""
    if not 0 <= index < tree_size <= size(db):
        raise LogRangeError
    # From the stored subtrees (statements/publishing/tree.py), not from every leaf.
    return tree.inclusion_proof(db, index, tree_size)


def consistency(db: Session, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof between two sizes of the log."""
    if not 0 < first <= second <= size(db):
        raise LogRangeError
    return tree.consistency_proof(db, first, second)
