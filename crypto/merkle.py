"""Merkle tree hashes and proofs for the public log (RFC 9162 section 2.1, SHA-256).

The tree is the one of Certificate Transparency (RFC 6962, restated in RFC 9162): leaves and
interior nodes are hashed with distinct prefixes, and a tree of n leaves splits at the largest
power of two smaller than n. Proof generators take leaf *hashes*, so the log can store those
and never rehash the statements. Generators raise ValueError on misuse; verifiers never
raise: anything malformed is simply a proof that does not verify.
"""

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32

# RFC 9162 section 2.1.1: the one-byte prefixes keep a leaf from being passed off as an
# interior node (second-preimage attacks on the tree).
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def root_hash(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (MTH) of a list of leaf data."""
    return root_from_leaf_hashes([leaf_hash(data) for data in leaves])


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash (MTH) of a tree given its leaf hashes."""
    _check_leaf_hashes(hashes)
    if not hashes:
        # RFC 9162 section 2.1.1: the hash of an empty list is the hash of an empty string.
        return hashlib.sha256(b"").digest()
    return _subtree_root(hashes, 0, len(hashes))


def inclusion_proof(
    leaf_hashes: Sequence[bytes], index: int, size: int | None = None
) -> list[bytes]:
    """Return the inclusion proof of leaf `index` in the tree of the first `size` leaves."""
    _check_leaf_hashes(leaf_hashes)
    if size is None:
        size = len(leaf_hashes)
    _check_int(index, "index")
    _check_int(size, "size")
    if not 0 <= index < size <= len(leaf_hashes):
        raise ValueError("need 0 <= index < size <= number of leaves")
    return _path(leaf_hashes, index, 0, size)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Return whether `proof` shows leaf `index` with this hash is in the tree of `root`."""
    if not (_is_count(index) and _is_count(size) and _is_hash(leaf_hash) and _is_hash(root)):
        return False
    if not all(_is_hash(element) for element in proof):
        return False
    # RFC 9162 section 2.1.3.2, step by step.
    # 1. The leaf must be inside the tree.
    if index >= size:
        return False
    # 2. fn is the leaf's position, sn the last position, at the level being walked.
    fn = index
    sn = size - 1
    # 3.
    r = leaf_hash
    # 4.
    for p in proof:
        # a. A proof longer than the tree is tall is wrong, not merely redundant.
        if sn == 0:
            return False
        # b. fn odd, or fn the last node of its level: the sibling is on the left.
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            # ii. Climb past the levels where this node was a lone right edge.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        # c.
        fn >>= 1
        sn >>= 1
    # 5. The walk must reach the root exactly.
    return sn == 0 and r == root


def consistency_proof(leaf_hashes: Sequence[bytes], first: int, second: int) -> list[bytes]:
    """Return the proof that the tree of `first` leaves is a prefix of that of `second`."""
    _check_leaf_hashes(leaf_hashes)
    _check_int(first, "first")
    _check_int(second, "second")
    if not 0 < first <= second <= len(leaf_hashes):
        raise ValueError("need 0 < first <= second <= number of leaves")
    # RFC 9162 section 2.1.4.1: PROOF(m, D[n]) = SUBPROOF(m, D[n], true).
    return _subproof(leaf_hashes, first, 0, second, True)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Return whether `proof` shows the tree of `first_root` is a prefix of `second_root`'s."""
    if not (_is_count(first) and _is_count(second)):
        return False
    if not (_is_hash(first_root) and _is_hash(second_root)):
        return False
    if not all(_is_hash(element) for element in proof):
        return False
    # Every tree is consistent with the empty tree, but RFC 9162 defines no proof for it,
    # and a log that once published an empty head has nothing to be held to: refuse it.
    if not 0 < first <= second:
        return False
    if first == second:
        # PROOF(m, D[m]) is empty (section 2.1.4.1); the two heads must simply be the same.
        return not proof and first_root == second_root
    # RFC 9162 section 2.1.4.2, step by step.
    # 1.
    if not proof:
        return False
    path = list(proof)
    # 2. A first tree of 2^k leaves is a whole subtree of the second, so SUBPROOF left its
    # hash out of the proof; the verifier already has it.
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    # 3.
    fn = first - 1
    sn = second - 1
    # 4. Skip the levels where the first tree's last node is a right child.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr rebuilds the first root and sr the second, from the same starting node.
    fr = path[0]
    sr = path[0]
    # 6.
    for c in path[1:]:
        # a.
        if sn == 0:
            return False
        # b.
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            # ii.
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            # Nodes right of the first tree feed only the second root.
            sr = node_hash(sr, c)
        # c.
        fn >>= 1
        sn >>= 1
    # 7.
    return fr == first_root and sr == second_root and sn == 0


def _largest_power_of_two_below(n: int) -> int:
    """Return k, the largest power of two smaller than n (n >= 2): where MTH splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_root(hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """Return MTH(D[start:end]) for a non-empty range, per RFC 9162 section 2.1.1."""
    # Index ranges rather than slices: slicing would copy the leaves at every level.
    n = end - start
    if n == 1:
        return hashes[start]
    k = _largest_power_of_two_below(n)
    return node_hash(_subtree_root(hashes, start, start + k), _subtree_root(hashes, start + k, end))


def _path(hashes: Sequence[bytes], m: int, start: int, end: int) -> list[bytes]:
    """Return PATH(m, D[start:end]) of RFC 9162 section 2.1.3.1, leaf first."""
    n = end - start
    if n == 1:
        return []
    k = _largest_power_of_two_below(n)
    if m < k:
        return [*_path(hashes, m, start, start + k), _subtree_root(hashes, start + k, end)]
    return [*_path(hashes, m - k, start + k, end), _subtree_root(hashes, start, start + k)]


def _subproof(hashes: Sequence[bytes], m: int, start: int, end: int, b: bool) -> list[bytes]:
    """Return SUBPROOF(m, D[start:end], b) of RFC 9162 section 2.1.4.1."""
    n = end - start
    if m == n:
        # b is true only while D[0:m] is still the whole first tree, whose root the
        # verifier already holds; once false, this subtree's root must be sent.
        return [] if b else [_subtree_root(hashes, start, end)]
    k = _largest_power_of_two_below(n)
    if m <= k:
        return [*_subproof(hashes, m, start, start + k, b), _subtree_root(hashes, start + k, end)]
    return [
        *_subproof(hashes, m - k, start + k, end, False),
        _subtree_root(hashes, start, start + k),
    ]


def _check_leaf_hashes(hashes: Sequence[bytes]) -> None:
    """Raise ValueError unless every element is a 32-byte hash."""
    # Catches the easy slip of passing leaf data where leaf hashes are expected, which
    # would otherwise build a well-formed tree that no one else can reproduce.
    if not all(_is_hash(h) for h in hashes):
        raise ValueError("leaf hashes must be 32-byte SHA-256 digests")


def _check_int(value: int, name: str) -> None:
    """Raise ValueError unless value is an int (and not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an int")


def _is_count(value: int) -> bool:
    """Return whether value is a non-negative int (and not a bool)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_hash(value: bytes) -> bool:
    """Return whether value is a 32-byte string."""
    return isinstance(value, bytes) and len(value) == HASH_SIZE
