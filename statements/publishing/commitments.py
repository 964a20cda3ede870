"""Anonymous endorsements each signer can check: the member's secret and their proof.

Each anonymous endorsement is counted as a commitment, the hash of a fresh random secret
(crypto/commitments.py). The secret is the member's alone: stored under a tag only they
can recompute (an HMAC under their author secret, bound to the room), sealed under a key
derived from that same secret, and written through the anonymous channel like a reading
language, so neither its row nor its transaction points to the member's account, to the
endorsement's row, or to their other tags. It outlives publication, when the
endorsements' rows are deleted: with it, the member finds their commitment among the
signed ones and gets its inclusion proof. Takes a Session, never commits, no flask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from crypto import commitments
from crypto.errors import CryptoError
from crypto.records import RecordContext, decrypt_record, encrypt_record
from crypto.tags import author_tag, tags_equal
from statements.models import CommitmentSecret
from statements.publishing.errors import InvalidInput
from statements.writes import (
    COMMITMENT_FORGET,
    COMMITMENT_KEEP,
    FEED_ROOM,
    AnonymousWrites,
    Write,
    commitment_secret_key,
)

# Purposes of the member's tag and key for the secret: never used elsewhere.
COMMITMENT_TAG = "endorsement-commitment"
COMMITMENT_KEY = "endorsement-commitment-key"
COMMITMENT_RECORD = "commitment-secret"
# A correction adds at most this many endorsements received by letter at once.
MAX_LETTERS = 1000
MAX_REMOVAL_REASON = 500


def _tag(author_secret: bytes, room_id: str) -> bytes:
    return author_tag(author_secret, COMMITMENT_TAG, room_id)


def _key(author_secret: bytes, room_id: str) -> bytes:
    # A key only the member holds: their author secret never leaves their unlocked keys.
    return author_tag(author_secret, COMMITMENT_KEY, room_id)


def _context(tag: bytes, room_id: str) -> RecordContext:
    return RecordContext(COMMITMENT_RECORD, tag.hex(), room_id, 0)


def secret_write(author_secret: bytes, room_id: str, secret: bytes) -> Write:
    """The write that keeps a new secret for this member's endorsement in this room."""
    tag = _tag(author_secret, room_id)
    sealed = encrypt_record(_key(author_secret, room_id), secret, _context(tag, room_id))
    return Write(
        key=commitment_secret_key(tag),
        room_id=FEED_ROOM,
        action=COMMITMENT_KEEP,
        row={"tag": tag, "sealed": sealed},
    )


def secret_deletion(author_secret: bytes, room_id: str) -> Write:
    """The write that forgets the secret (a withdrawn or public endorsement needs none)."""
    tag = _tag(author_secret, room_id)
    return Write(
        key=commitment_secret_key(tag),
        room_id=FEED_ROOM,
        action=COMMITMENT_FORGET,
        row={"tag": tag},
    )


def own_commitment(
    db: Session, writes: AnonymousWrites, author_secret: bytes, room_id: str
) -> bytes | None:
    """This member's commitment in a room, from their secret (as queued, else as stored)."""
    tag = _tag(author_secret, room_id)
    sealed: bytes | None = None
    found = False
    for write in writes.pending(FEED_ROOM):
        if write.action in (COMMITMENT_KEEP, COMMITMENT_FORGET) and tags_equal(
            bytes(write.row["tag"]), tag
        ):
            found = True
            sealed = bytes(write.row["sealed"]) if write.action == COMMITMENT_KEEP else None
    if not found:
        row = db.get(CommitmentSecret, tag)
        sealed = row.sealed if row is not None else None
    if sealed is None:
        return None
    try:
        secret = decrypt_record(_key(author_secret, room_id), sealed, _context(tag, room_id))
        return commitments.commitment(secret)
    except (CryptoError, ValueError):
        return None


# --- the member's check ----------------------------------------------------------------


@dataclass(frozen=True)
class Inclusion:
    """What a member sees of their anonymous endorsement: counted or not, and the proof."""

    commitment: str
    included: bool
    tree_size: int
    root: str
    proof: dict[str, Any] | None = None

    @property
    def position(self) -> int:
        """The commitment's place among the sorted ones, from 1."""
        return int(self.proof["index"]) + 1 if self.proof is not None else 0


def check(fields: Mapping[str, Any], mine: bytes) -> Inclusion:
    """Whether `mine` is among a statement's commitments, with a proof checked against its
    root as a reader would check it (the statement's or the sign-on's, see `signon_fields`)."""
    group = commitments.read_commitments(fields)
    proof = None
    included = False
    if mine.hex() in group.leaves:
        proof = commitments.make_proof(fields, mine)
        included = not commitments.verify_proof(proof, fields)
    return Inclusion(
        mine.hex(), included, len(group.leaves), group.root, proof if included else None
    )


def signon_fields(
    slug: str, leaves: Sequence[bytes], by_letter: Sequence[bytes] = ()
) -> dict[str, Any]:
    """The commitments of a sign-on still open, shaped as a statement's (version 0)."""
    return {
        "slug": slug,
        "version": 0,
        "anonymous_signatories": len(leaves),
        **commitments.make_fields(leaves, by_letter),
    }


# --- corrections -------------------------------------------------------------------------


def parse_removals(text: str) -> list[tuple[bytes, str]]:
    """Read "commitment | reason" lines: what a correction removes, each with its reason."""
    removals: dict[bytes, str] = {}
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        leaf, bar, reason = line.partition("|")
        leaf, reason = leaf.strip().lower(), " ".join(reason.split())
        try:
            digest = bytes.fromhex(leaf)
        except ValueError:
            digest = b""
        if not bar or len(digest) != commitments.SECRET_BYTES:
            raise InvalidInput("removals", "commitment")
        if not reason:
            raise InvalidInput("removals", "reason_required")
        if len(reason) > MAX_REMOVAL_REASON:
            raise InvalidInput("removals", "too_long")
        if digest in removals:
            raise InvalidInput("removals", "twice")
        removals[digest] = reason
    return sorted(removals.items())


def next_commitments(
    previous: Mapping[str, Any], letters: int, removals: Sequence[tuple[bytes, str]]
) -> tuple[int, dict[str, Any] | None]:
    """The anonymous count and commitments of the version after `previous`: its
    commitments less those removed (each with its reason), plus `letters` new ones
    generated here for endorsements received by letter. Nobody types the count."""
    if not 0 <= letters <= MAX_LETTERS:
        raise InvalidInput("letters", "range")
    if previous.keys() >= commitments.COMMITMENT_FIELDS:
        group = commitments.read_commitments(previous)
    elif previous["anonymous_signatories"] == 0:
        # Nobody endorsed anonymously (format 1 then): no commitments, none removed.
        group = commitments.Commitments((), "", (), ())
    else:
        # Published before commitments: its count stays as signed, and cannot change.
        if letters or removals:
            raise InvalidInput("removals", "no_commitments")
        return int(previous["anonymous_signatories"]), None
    if not letters and not group.leaves:
        return 0, None
    leaves = {bytes.fromhex(leaf) for leaf in group.leaves}
    gone = {leaf for leaf, _ in removals}
    if not gone <= leaves:
        raise InvalidInput("removals", "not_counted")
    new = {commitments.letter_commitment() for _ in range(letters)}
    kept = (leaves - gone) | new
    by_letter = ({bytes.fromhex(leaf) for leaf in group.by_letter} & kept) | new
    fields = commitments.make_fields(sorted(kept), sorted(by_letter), removals)
    return len(kept), fields
