"""Anonymous endorsements each signer can check: commitments, their Merkle root, proofs.

Each anonymous endorsement is a *commitment*: the SHA-256 of a random 32-byte secret
that only the endorser can open (statements/publishing/commitments.py keeps it sealed
under a key derived from their author secret). A commitment is random, so it says
nothing of who made it, nor links two endorsements of the same member.

A statement that carries them (bundle format 2) has one more group of signed fields:

- `anonymous_commitments`: the commitments, lowercase hex, sorted, each once; their
  number is `anonymous_signatories`, so the count cannot be typed, only counted;
- `anonymous_commitments_root`: the RFC 9162 Merkle tree hash of those leaves (each
  leaf's data is the commitment's 32 raw bytes), so an inclusion proof of one
  commitment can be checked against the signed root alone;
- `anonymous_by_letter`: the commitments a coordinator generated for anonymous
  endorsements received by letter (no member holds their secret), sorted;
- `anonymous_removed`: the commitments this version removed, each with its public
  reason ([{"commitment", "reason"}], sorted by commitment).

After version 1, commitments are only added by letter: given the version before,
`compare` holds a version to that. No Flask, no SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crypto.merkle import inclusion_proof, leaf_hash, root_from_leaf_hashes, verify_inclusion

COMMITMENT_FIELDS = frozenset(
    {
        "anonymous_commitments",
        "anonymous_commitments_root",
        "anonymous_by_letter",
        "anonymous_removed",
    }
)
PROOF_FORMAT = "joint-statement-commitment-proof/1"
SECRET_BYTES = 32
MAX_REASON = 2000
_LABEL = b"statements/endorsement-commitment/v1\x00"
_HEX = re.compile(r"[0-9a-f]{64}")
_REMOVED_FIELDS = frozenset({"commitment", "reason"})
_PROOF_FIELDS = frozenset(
    {"format", "slug", "version", "commitment", "index", "tree_size", "root", "inclusion_proof"}
)


class CommitmentsError(ValueError):
    """A commitments group or proof file that is not shaped as its format says."""


@dataclass(frozen=True)
class Commitments:
    """A statement's commitments group, read and checked for shape."""

    leaves: tuple[str, ...]
    root: str
    by_letter: tuple[str, ...]
    removed: tuple[tuple[str, str], ...]


def new_secret() -> bytes:
    """A fresh random secret for one anonymous endorsement."""
    return secrets.token_bytes(SECRET_BYTES)


def commitment(secret: bytes) -> bytes:
    """The commitment to a secret: SHA-256 under this project's label."""
    if len(secret) != SECRET_BYTES:
        raise ValueError(f"a commitment secret is {SECRET_BYTES} bytes")
    return hashlib.sha256(_LABEL + secret).digest()


def letter_commitment() -> bytes:
    """A commitment for an endorsement received by letter: its secret is thrown away."""
    return commitment(new_secret())


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash of these commitments, sorted (the empty tree's for none)."""
    return root_from_leaf_hashes([leaf_hash(leaf) for leaf in sorted(leaves)])


def make_fields(
    leaves: Sequence[bytes],
    by_letter: Sequence[bytes] = (),
    removed: Sequence[tuple[bytes, str]] = (),
) -> dict[str, Any]:
    """The commitments group of a statement with these leaves."""
    ordered = sorted(set(leaves))
    if len(ordered) != len(leaves):
        raise ValueError("the same commitment twice")
    if not set(by_letter) <= set(ordered):
        raise ValueError("a letter's commitment that is not a leaf")
    if set(dict(removed)) & set(ordered):
        raise ValueError("a removed commitment that is still a leaf")
    return {
        "anonymous_commitments": [leaf.hex() for leaf in ordered],
        "anonymous_commitments_root": root(ordered).hex(),
        "anonymous_by_letter": sorted(leaf.hex() for leaf in set(by_letter)),
        "anonymous_removed": [
            {"commitment": leaf.hex(), "reason": reason} for leaf, reason in sorted(removed)
        ],
    }


def _hexes(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise CommitmentsError(f"{where} is not a list")
    for position, item in enumerate(value):
        if not isinstance(item, str) or not _HEX.fullmatch(item):
            raise CommitmentsError(f"{where}[{position}] is not 64 lowercase hex digits")
    # Sorted, each once: one spelling per set, so the root says the same to every reader.
    if any(a >= b for a, b in itertools.pairwise(value)):
        raise CommitmentsError(f"{where} is not sorted, each commitment once")
    return tuple(value)


def read_commitments(fields: Mapping[str, Any]) -> Commitments:
    """The commitments group of a statement, checked for shape (CommitmentsError if not)."""
    leaves = _hexes(fields["anonymous_commitments"], "statement.anonymous_commitments")
    digest = fields["anonymous_commitments_root"]
    if not isinstance(digest, str) or not _HEX.fullmatch(digest):
        raise CommitmentsError("statement.anonymous_commitments_root is not 64 hex digits")
    by_letter = _hexes(fields["anonymous_by_letter"], "statement.anonymous_by_letter")
    if not set(by_letter) <= set(leaves):
        raise CommitmentsError("statement.anonymous_by_letter names a commitment not signed")
    entries = fields["anonymous_removed"]
    if not isinstance(entries, list):
        raise CommitmentsError("statement.anonymous_removed is not a list")
    removed: list[tuple[str, str]] = []
    for position, entry in enumerate(entries):
        where = f"statement.anonymous_removed[{position}]"
        if not isinstance(entry, Mapping) or set(entry) != _REMOVED_FIELDS:
            raise CommitmentsError(f"{where} must have exactly the fields commitment and reason")
        leaf, reason = entry["commitment"], entry["reason"]
        if not isinstance(leaf, str) or not _HEX.fullmatch(leaf):
            raise CommitmentsError(f"{where}.commitment is not 64 lowercase hex digits")
        if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
            raise CommitmentsError(f"{where}.reason must be text, not empty")
        removed.append((leaf, reason))
    gone = [leaf for leaf, _ in removed]
    if gone != sorted(set(gone)) or set(gone) & set(leaves):
        raise CommitmentsError(
            "statement.anonymous_removed is not sorted, or names a commitment still signed"
        )
    return Commitments(leaves, digest, by_letter, tuple(removed))


def check(fields: Mapping[str, Any]) -> list[str]:
    """What is wrong with a well-shaped group: the count and the root against the leaves."""
    group = read_commitments(fields)
    problems = []
    count = fields["anonymous_signatories"]
    if count != len(group.leaves):
        problems.append(
            f"anonymous_signatories is {count}, but {len(group.leaves)} commitments are signed"
        )
    if root([bytes.fromhex(leaf) for leaf in group.leaves]).hex() != group.root:
        problems.append("anonymous_commitments_root is not the root of the commitments")
    return problems


def compare(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What in `current`'s commitments is not a true change from `previous` (both
    verified statements): removals named with reasons, additions only by letter."""
    if current.get("status") == "retracted":
        return []
    if not current.keys() >= COMMITMENT_FIELDS:
        if previous.keys() >= COMMITMENT_FIELDS:
            return ["the commitments of the version before were dropped"]
        return []
    now = read_commitments(current)
    if previous.keys() >= COMMITMENT_FIELDS:
        before = read_commitments(previous)
    elif previous.get("anonymous_signatories") == 0:
        # Nobody endorsed anonymously before: every commitment now must be a letter's.
        before = Commitments((), "", (), ())
    else:
        return ["the version before counted anonymous endorsements without commitments"]
    problems = []
    if set(before.leaves) - set(now.leaves) != {leaf for leaf, _ in now.removed}:
        problems.append("anonymous_removed is not the commitments removed")
    if not (set(now.leaves) - set(before.leaves)) <= set(now.by_letter):
        problems.append("a commitment was added that is not marked received by letter")
    if not (set(before.by_letter) & set(now.leaves)) <= set(now.by_letter):
        problems.append("a commitment received by letter lost its mark")
    return problems


def summary(fields: Mapping[str, Any]) -> list[str]:
    """The commitments' lines for the verifier: how many, by letter, removed and why."""
    if not fields.keys() >= COMMITMENT_FIELDS:
        return []
    group = read_commitments(fields)
    letters = f", {len(group.by_letter)} received by letter" if group.by_letter else ""
    lines = [f"anonymous commitments: {len(group.leaves)}, root {group.root}{letters}"]
    lines += [
        f"anonymous commitment removed: {leaf[:16]}... ({reason})" for leaf, reason in group.removed
    ]
    return lines


def additions(previous: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """The line saying how many commitments `current` added to `previous` (by letter)."""
    if not current.keys() >= COMMITMENT_FIELDS:
        return []
    before = read_commitments(previous).leaves if previous.keys() >= COMMITMENT_FIELDS else ()
    added = set(read_commitments(current).leaves) - set(before)
    return [f"anonymous endorsements received by letter, added: {len(added)}"] if added else []


# --- inclusion proofs -----------------------------------------------------------------


def make_proof(fields: Mapping[str, Any], mine: bytes) -> dict[str, Any]:
    """The proof that commitment `mine` is a leaf of this statement (ValueError if not)."""
    group = read_commitments(fields)
    leaves = [bytes.fromhex(leaf) for leaf in group.leaves]
    if mine not in leaves:
        raise ValueError("not a leaf of this statement")
    index = leaves.index(mine)
    path = inclusion_proof([leaf_hash(leaf) for leaf in leaves], index)
    return {
        "format": PROOF_FORMAT,
        "slug": fields["slug"],
        "version": fields["version"],
        "commitment": mine.hex(),
        "index": index,
        "tree_size": len(leaves),
        "root": group.root,
        "inclusion_proof": [element.hex() for element in path],
    }


def verify_proof(proof: object, fields: Mapping[str, Any]) -> list[str]:
    """What is wrong with an inclusion proof against a (verified) statement; [] if sound.

    Checked against the signed root only, as a reader holding just the bundle would.
    """
    if not isinstance(proof, Mapping) or set(proof) != _PROOF_FIELDS:
        raise CommitmentsError(
            "the proof must have exactly the fields " + ", ".join(sorted(_PROOF_FIELDS))
        )
    if proof["format"] != PROOF_FORMAT:
        raise CommitmentsError(f"the proof's format is not {PROOF_FORMAT}")
    mine, index, size = proof["commitment"], proof["index"], proof["tree_size"]
    path = proof["inclusion_proof"]
    if not isinstance(mine, str) or not _HEX.fullmatch(mine):
        raise CommitmentsError("the proof's commitment is not 64 lowercase hex digits")
    for value in (index, size):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**53:
            raise CommitmentsError("the proof's index or tree_size is not a whole number")
    if not isinstance(path, list) or not all(
        isinstance(item, str) and _HEX.fullmatch(item) for item in path
    ):
        raise CommitmentsError("the proof's inclusion_proof is not a list of hex hashes")
    if not fields.keys() >= COMMITMENT_FIELDS:
        return ["this statement carries no commitments"]
    group = read_commitments(fields)
    problems = []
    if (proof["slug"], proof["version"]) != (fields["slug"], fields["version"]):
        problems.append("the proof is of another statement or version")
    if proof["root"] != group.root or size != len(group.leaves):
        problems.append("the proof's root or tree size is not this version's")
    if not verify_inclusion(
        leaf_hash(bytes.fromhex(mine)),
        index,
        len(group.leaves),
        [bytes.fromhex(item) for item in path],
        bytes.fromhex(group.root),
    ):
        problems.append("the commitment is not included under the signed root")
    return problems
