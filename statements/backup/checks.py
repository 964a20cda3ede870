"""What a restored database must pass: every bundle verifies and is in the log, and the
log extends the checkpoint the archive recorded and matches its own latest one."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from crypto.bundle import key_record, keys_document
from crypto.bundle_checks import log_leaf, verify_bundle
from crypto.bundle_reading import parse_keys
from crypto.merkle import leaf_hash, root_from_leaf_hashes
from crypto.signing import open_note, parse_checkpoint
from statements.backup.archive import Manifest
from statements.backup.errors import RestoreCheckFailed
from statements.models import LogCheckpoint, LogEntry, PublishedVersion, SigningKeyRecord


def read_log(engine: Engine) -> dict[str, Any]:
    with Session(engine) as db:
        entries = [
            {"position": row.position, "kind": row.kind, "leaf": row.leaf.hex()}
            for row in db.scalars(select(LogEntry).order_by(LogEntry.position))
        ]
        checkpoint = db.scalar(
            select(LogCheckpoint.signed_note).order_by(LogCheckpoint.tree_size.desc()).limit(1)
        )
    return {"entries": entries, "checkpoint": checkpoint}


def check_bundles(db: Session, keys: list[SigningKeyRecord]) -> int:
    known = parse_keys(
        keys_document(
            [key_record(k.public_key, k.note_key_name, k.valid_from, k.valid_until) for k in keys]
        )
    )
    count = 0
    for row in db.scalars(select(PublishedVersion)):
        where = f"version {row.version} of {row.slug}"
        if hashlib.sha256(row.bundle).hexdigest() != row.bundle_sha256:
            raise RestoreCheckFailed(f"{where}: the bundle does not match its recorded hash")
        try:
            bundle = json.loads(row.bundle)
            report = verify_bundle(bundle, known)
        except ValueError:
            raise RestoreCheckFailed(f"{where}: the bundle is malformed") from None
        if not report.valid:
            raise RestoreCheckFailed(f"{where}: the bundle does not verify")
        leaf = db.scalar(select(LogEntry.leaf).where(LogEntry.position == row.log_position))
        if leaf != log_leaf(bundle):
            raise RestoreCheckFailed(f"{where}: the log does not hold this version")
        count += 1
    return count


def _open_checkpoint(note: str, verifiers: list[str]) -> tuple[int, bytes]:
    for verifier in verifiers:
        body = open_note(note, verifier)
        if body is not None:
            _origin, size, root = parse_checkpoint(body)
            return size, root
    raise RestoreCheckFailed("a log checkpoint is not signed by any of the signing keys")


def check_log(
    db: Session, verifiers: list[str], archived: Mapping[str, Any], manifest: Manifest
) -> tuple[int, str]:
    entries = list(db.scalars(select(LogEntry).order_by(LogEntry.position)))
    if [e.position for e in entries] != list(range(len(entries))):
        raise RestoreCheckFailed("the restored log has gaps")
    if any(leaf_hash(e.leaf) != e.leaf_hash for e in entries):
        raise RestoreCheckFailed("a restored log entry does not match its hash")
    hashes = [e.leaf_hash for e in entries]
    archived_leaves = [bytes.fromhex(e["leaf"]) for e in archived["entries"]]
    if (
        len(archived_leaves) != manifest.log_size
        or archived["checkpoint"] != manifest.data["log"]["checkpoint"]
    ):
        raise RestoreCheckFailed("the archive's log does not match its manifest")
    if [e.leaf for e in entries[: len(archived_leaves)]] != archived_leaves:
        raise RestoreCheckFailed("the restored log differs from the archive's")
    latest = db.scalar(
        select(LogCheckpoint.signed_note).order_by(LogCheckpoint.tree_size.desc()).limit(1)
    )
    if not entries:
        if archived_leaves or latest is not None:
            raise RestoreCheckFailed("the restored log is empty, the archive's is not")
        return 0, ""
    if latest is None or archived["checkpoint"] is None:
        raise RestoreCheckFailed("the log has entries but no checkpoint")
    # The archive's checkpoint must be a tree head of the restored log (the log may have
    # grown while the backup was taken), and the newest checkpoint must cover all of it.
    size, root = _open_checkpoint(archived["checkpoint"], verifiers)
    if size != len(archived_leaves) or root != root_from_leaf_hashes(hashes[:size]):
        raise RestoreCheckFailed("the restored log is not consistent with the archive's checkpoint")
    size, root = _open_checkpoint(latest, verifiers)
    if size != len(hashes) or root != root_from_leaf_hashes(hashes):
        raise RestoreCheckFailed("the restored log does not match its own latest checkpoint")
    return len(hashes), latest
