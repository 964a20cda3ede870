"""The public append-only log of publication events (RFC 9162 hashing, C2SP checkpoints).

Takes a Session, never commits. Each append stores the leaf and a checkpoint signed at the
new size, so every size the log ever had has a signed tree head to prove against.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.signing import SigningKey, checkpoint_body, sign_note
from statements.models import LogCheckpoint, LogEntry
from statements.publishing import prepared, tree
from statements.publishing.errors import LogRangeError

STATEMENT = "statement"
KEY_ROTATION = "key-rotation"
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
    db: Session, kind: str, leaf: bytes, key: SigningKey, origin: str
) -> tuple[int, list[bytes], str]:
    """Add a leaf; return its position, every leaf hash after it, and the new checkpoint."""
    hashes = leaf_hashes(db)
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
    # The key is unsealed now: embargoed statements get their new places signed.
    prepared.prepare(db, hashes, key, origin)
    return position, hashes, signed


def append_prepared(db: Session, leaf: bytes, position: int, signed_checkpoint: str) -> None:
    """Add a leaf whose checkpoint was signed beforehand for this very place (an embargo)."""
    if size(db) != position:
        raise LogRangeError
    hashed = leaf_hash(leaf)
    db.add(LogEntry(position=position, kind=STATEMENT, leaf=leaf, leaf_hash=hashed))
    tree.append(db, position, hashed)
    db.add(LogCheckpoint(tree_size=position + 1, signed_note=signed_checkpoint))
    db.flush()


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
