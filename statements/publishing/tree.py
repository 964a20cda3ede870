"""The public log's Merkle tree from its stored complete subtrees (see models.LogNode).

RFC 9162 splits a tree of n leaves at the largest power of two below n, so every subtree a
proof or a root needs is either complete (2**L leaves starting at a multiple of 2**L: one
stored node) or splits again into complete ones, O(log n) in all. A proof is computed in two
passes over the same recursion as crypto.merkle's: the first only names the ranges it
needs, one query reads their nodes, the second computes the same hashes crypto.merkle would
from every leaf. Takes a Session, never commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crypto.merkle import node_hash
from statements.models import LogNode

Node = tuple[int, int]  # (level, position)
Subtree = Callable[[int, int], bytes]


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def complete(start: int, end: int) -> Node | None:
    """The stored node covering exactly [start, end), if that range is a complete subtree."""
    n = end - start
    if n > 0 and n & (n - 1) == 0 and start % n == 0:
        return (n.bit_length() - 1, start // n)
    return None


def nodes_of(start: int, end: int) -> set[Node]:
    """The complete subtrees that MTH(D[start:end]) is computed from."""
    found = complete(start, end)
    if found is not None:
        return {found}
    k = _split(end - start)
    return nodes_of(start, start + k) | nodes_of(start + k, end)


def root_of(nodes: dict[Node, bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) from stored nodes."""
    found = complete(start, end)
    if found is not None:
        return nodes[found]
    k = _split(end - start)
    return node_hash(root_of(nodes, start, start + k), root_of(nodes, start + k, end))


def _path(subtree: Subtree, m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end]) of RFC 9162 section 2.1.3.1 (as crypto.merkle._path)."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_path(subtree, m, start, start + k), subtree(start + k, end)]
    return [*_path(subtree, m - k, start + k, end), subtree(start, start + k)]


def _subproof(subtree: Subtree, m: int, start: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1 (as crypto.merkle's)."""
    n = end - start
    if m == n:
        return [] if b else [subtree(start, end)]
    k = _split(n)
    if m <= k:
        return [*_subproof(subtree, m, start, start + k, b), subtree(start + k, end)]
    return [*_subproof(subtree, m - k, start + k, end, False), subtree(start, start + k)]


def read_nodes(db: Session, wanted: Iterable[Node]) -> dict[Node, bytes]:
    """The stored hashes of these nodes, in one query."""
    keys = sorted(set(wanted))
    if not keys:
        return {}
    rows = db.execute(
        select(LogNode.level, LogNode.position, LogNode.hash).where(
            tuple_(LogNode.level, LogNode.position).in_(keys)
        )
    )
    found = {(level, position): bytes(value) for level, position, value in rows}
    if len(found) != len(keys):
        raise LookupError("the log's stored tree is missing nodes")
    return found


def _two_passes(db: Session, proof: Callable[[Subtree], list[bytes]]) -> list[bytes]:
    wanted: set[Node] = set()

    def name(start: int, end: int) -> bytes:
        wanted.update(nodes_of(start, end))
        return b""

    proof(name)
    nodes = read_nodes(db, wanted)
    return proof(lambda start, end: root_of(nodes, start, end))


def inclusion_proof(db: Session, index: int, size: int) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of `size` leaves (0 <= index < size)."""
    return _two_passes(db, lambda subtree: _path(subtree, index, 0, size))


def consistency_proof(db: Session, first: int, second: int) -> list[bytes]:
    """The consistency proof from `first` to `second` leaves (0 < first <= second)."""
    return _two_passes(db, lambda subtree: _subproof(subtree, first, 0, second, True))


def root(db: Session, size: int) -> bytes:
    """The tree head of the first `size` leaves."""
    if size == 0:
        return hashlib.sha256(b"").digest()
    return root_of(read_nodes(db, nodes_of(0, size)), 0, size)


def completed_by(position: int, leaf: bytes, left: dict[Node, bytes]) -> list[LogNode]:
    """The nodes that appending `leaf` at `position` completes: the leaf itself, then each
    subtree whose last leaf it is, from the left siblings in `left` (see siblings_for)."""
    made = [LogNode(level=0, position=position, hash=leaf)]
    current, level, index = leaf, 0, position
    while index % 2 == 1:
        current = node_hash(left[(level, index - 1)], current)
        level, index = level + 1, index // 2
        made.append(LogNode(level=level, position=index, hash=current))
    return made


def siblings_for(position: int) -> set[Node]:
    """The stored left siblings that appending at `position` combines with."""
    wanted: set[Node] = set()
    level, index = 0, position
    while index % 2 == 1:
        wanted.add((level, index - 1))
        level, index = level + 1, index // 2
    return wanted


def append(db: Session, position: int, leaf: bytes) -> None:
    """Store the nodes a new leaf completes (the leaf at `position` must be the next one)."""
    left = read_nodes(db, siblings_for(position))
    db.add_all(completed_by(position, leaf, left))
