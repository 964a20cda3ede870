"""Tests for the RFC 9162 Merkle tree: the RFC's worked examples, CT vectors and properties.

Three independent anchors: the named nodes of the RFC 6962 section 2.1.3 figures, built
here by hand; the published vectors of the Certificate Transparency reference tests
(certificate-transparency merkle_tree_test.cc, carried over into transparency-dev/merkle);
and a naive transcription of the RFC's recursive definitions over leaf *data*, which the
module's index-range implementation over leaf hashes must match.
"""

import hashlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.merkle import (
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    root_hash,
    verify_consistency,
    verify_inclusion,
)

FAST = settings(max_examples=100, deadline=None, database=None)

# Unique leaves: with two equal leaves, swapping their indices is not a forgery at all.
TREES = st.lists(st.binary(max_size=12), min_size=1, max_size=70, unique=True)
BIG_TREES = st.lists(st.binary(max_size=12), min_size=2, max_size=70, unique=True)


def _hashes(leaves: Sequence[bytes]) -> list[bytes]:
    return [leaf_hash(data) for data in leaves]


def _flip(value: bytes, bit: int) -> bytes:
    """Return value with one bit flipped."""
    flipped = bytearray(value)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


# A naive transcription of RFC 9162 section 2.1, over leaf data and list slices.


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def _mth(d: Sequence[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _split(len(d))
    return hashlib.sha256(b"\x01" + _mth(d[:k]) + _mth(d[k:])).digest()


def _naive_path(m: int, d: Sequence[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _split(len(d))
    if m < k:
        return [*_naive_path(m, d[:k]), _mth(d[k:])]
    return [*_naive_path(m - k, d[k:]), _mth(d[:k])]


def _naive_subproof(m: int, d: Sequence[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [_mth(d)]
    k = _split(len(d))
    if m <= k:
        return [*_naive_subproof(m, d[:k], b), _mth(d[k:])]
    return [*_naive_subproof(m - k, d[k:], False), _mth(d[:k])]


def _directions(m: int, n: int) -> list[bool]:
    """Return, leaf first, whether each sibling on PATH(m, D[n]) lies to the right."""
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*_directions(m, k), True]
    return [*_directions(m - k, n - k), False]


# RFC 6962 section 2.1.3: the seven-leaf tree and its named nodes.
#
#             hash
#            /    \
#           k      l
#          / \    / \
#         g   h  i   j
#        / \ / \ / \ |
#        a b c d e f d6
#        | | | | | |
#       d0 d1 d2 d3 d4 d5

DATA = [f"d{i}".encode() for i in range(7)]
A, B, C, D, E, F = (leaf_hash(data) for data in DATA[:6])
J = leaf_hash(DATA[6])
G, H, I = node_hash(A, B), node_hash(C, D), node_hash(E, F)  # noqa: E741
K, L = node_hash(G, H), node_hash(I, J)
HASH = node_hash(K, L)
# The same tree built incrementally: hash0 (3 leaves), hash1 = k (4), hash2 (6).
HASH0, HASH1, HASH2 = node_hash(G, C), K, node_hash(K, I)


def test_rfc6962_tree_hashes() -> None:
    assert root_hash(DATA) == HASH
    assert root_from_leaf_hashes(_hashes(DATA)) == HASH
    assert root_hash(DATA[:3]) == HASH0
    assert root_hash(DATA[:4]) == HASH1
    assert root_hash(DATA[:6]) == HASH2


@pytest.mark.parametrize(
    ("index", "path"),
    [
        (0, [B, H, L]),
        (3, [C, G, L]),
        (4, [F, J, K]),
        # The RFC's text: "The audit path for d6 is [i, k]"; j is d6's own leaf hash.
        (6, [I, K]),
    ],
)
def test_rfc6962_audit_paths(index: int, path: list[bytes]) -> None:
    assert inclusion_proof(_hashes(DATA), index) == path
    assert verify_inclusion(leaf_hash(DATA[index]), index, 7, path, HASH)


@pytest.mark.parametrize(
    ("first", "first_root", "proof"),
    [(3, HASH0, [C, D, G, L]), (4, HASH1, [L]), (6, HASH2, [I, J, K])],
)
def test_rfc6962_consistency_proofs(first: int, first_root: bytes, proof: list[bytes]) -> None:
    assert consistency_proof(_hashes(DATA), first, 7) == proof
    assert verify_consistency(first, 7, first_root, HASH, proof)


# Known answers.

EMPTY_ROOT = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, audit path); the reference tests number leaves from 1.
CT_PATHS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (first size, second size, consistency proof).
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def test_hash_vectors() -> None:
    # transparency-dev/merkle rfc6962_test.go.
    assert root_hash([]).hex() == EMPTY_ROOT
    assert root_from_leaf_hashes([]).hex() == EMPTY_ROOT
    assert leaf_hash(b"").hex() == CT_ROOTS[0]
    expected = "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    assert leaf_hash(b"L123456").hex() == expected
    expected = "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    assert node_hash(b"N123", b"N456").hex() == expected


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_roots(size: int) -> None:
    expected = CT_ROOTS[size - 1]
    assert root_hash(CT_LEAVES[:size]).hex() == expected
    assert root_from_leaf_hashes(_hashes(CT_LEAVES[:size])).hex() == expected
    assert _mth(CT_LEAVES[:size]).hex() == expected


@pytest.mark.parametrize(("index", "size", "path"), CT_PATHS)
def test_ct_inclusion_proofs(index: int, size: int, path: list[str]) -> None:
    proof = inclusion_proof(_hashes(CT_LEAVES), index, size)
    assert [element.hex() for element in proof] == path
    root = bytes.fromhex(CT_ROOTS[size - 1])
    assert verify_inclusion(leaf_hash(CT_LEAVES[index]), index, size, proof, root)


@pytest.mark.parametrize(("first", "second", "path"), CT_CONSISTENCY)
def test_ct_consistency_proofs(first: int, second: int, path: list[str]) -> None:
    proof = consistency_proof(_hashes(CT_LEAVES), first, second)
    assert [element.hex() for element in proof] == path
    first_root = bytes.fromhex(CT_ROOTS[first - 1])
    second_root = bytes.fromhex(CT_ROOTS[second - 1])
    assert verify_consistency(first, second, first_root, second_root, proof)


def test_matches_naive_definitions() -> None:
    leaves = [i.to_bytes(2, "big") for i in range(33)]
    hashes = _hashes(leaves)
    for n in range(1, len(leaves) + 1):
        assert root_from_leaf_hashes(hashes[:n]) == _mth(leaves[:n])
        for m in range(n):
            assert inclusion_proof(hashes, m, n) == _naive_path(m, leaves[:n])
        for m in range(1, n + 1):
            assert consistency_proof(hashes, m, n) == _naive_subproof(m, leaves[:n], True)


# Misuse of the generators is a programming error.


@pytest.mark.parametrize(
    ("index", "size"), [(-1, None), (3, None), (0, 0), (2, 2), (0, 4), (1, -1)]
)
def test_inclusion_proof_rejects_out_of_range(index: int, size: int | None) -> None:
    with pytest.raises(ValueError, match="index"):
        inclusion_proof(_hashes(DATA[:3]), index, size)


@pytest.mark.parametrize(("first", "second"), [(0, 3), (-1, 3), (3, 2), (1, 4), (0, 0)])
def test_consistency_proof_rejects_out_of_range(first: int, second: int) -> None:
    with pytest.raises(ValueError, match="first"):
        consistency_proof(_hashes(DATA[:3]), first, second)


def test_generators_reject_leaf_data_and_bools() -> None:
    with pytest.raises(ValueError, match="32-byte"):
        root_from_leaf_hashes(DATA)
    with pytest.raises(ValueError, match="32-byte"):
        inclusion_proof(DATA, 0)
    with pytest.raises(ValueError, match="32-byte"):
        consistency_proof(DATA, 1, 2)
    with pytest.raises(ValueError, match="int"):
        inclusion_proof(_hashes(DATA), True)
    with pytest.raises(ValueError, match="int"):
        consistency_proof(_hashes(DATA), True, 2)


# Verifiers answer False to anything malformed, never raise.


def test_verify_inclusion_rejects_malformed_input() -> None:
    leaf = leaf_hash(DATA[4])
    proof = [F, J, K]
    assert verify_inclusion(leaf, 4, 7, proof, HASH)
    assert not verify_inclusion(leaf, 7, 7, proof, HASH)
    assert not verify_inclusion(leaf, -1, 7, proof, HASH)
    assert not verify_inclusion(leaf, 0, 0, [], HASH)
    assert not verify_inclusion(leaf, True, 7, proof, HASH)
    assert not verify_inclusion(leaf, 4, 7, proof, HASH[:31])
    assert not verify_inclusion(leaf[:31], 4, 7, proof, HASH)
    assert not verify_inclusion(leaf, 4, 7, [F, J, K + b"\x00"], HASH)
    assert not verify_inclusion(leaf, 4, 7, [F, J], HASH)
    assert not verify_inclusion(leaf, 4, 7, [F, J, K, K], HASH)
    assert not verify_inclusion(leaf, 4, 7, [], HASH)
    assert not verify_inclusion(leaf, 4, 2**64, proof, HASH)
    assert not verify_inclusion(leaf, 2**70, 2**71, proof, HASH)
    # A one-leaf tree: the root is the leaf hash and the proof is empty.
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)


def test_verify_consistency_rejects_malformed_input() -> None:
    assert verify_consistency(3, 7, HASH0, HASH, [C, D, G, L])
    assert not verify_consistency(3, 7, HASH0, HASH, [])
    assert not verify_consistency(3, 7, HASH0, HASH, [C, D, G])
    assert not verify_consistency(3, 7, HASH0, HASH, [C, D, G, L, L])
    assert not verify_consistency(3, 7, HASH0, HASH, [C, D, G, L[:31]])
    assert not verify_consistency(3, 7, HASH0[:31], HASH, [C, D, G, L])
    assert not verify_consistency(7, 3, HASH, HASH0, [C, D, G, L])
    assert not verify_consistency(0, 7, HASH0, HASH, [C, D, G, L])
    assert not verify_consistency(-3, 7, HASH0, HASH, [C, D, G, L])
    assert not verify_consistency(True, 7, HASH0, HASH, [C, D, G, L])
    assert not verify_consistency(3, 2**64, HASH0, HASH, [C, D, G, L])
    # The empty tree has no proof in RFC 9162, so it is refused rather than special-cased.
    assert not verify_consistency(0, 7, root_hash([]), HASH, [])
    # Equal sizes: an empty proof and the same root, nothing else.
    assert verify_consistency(7, 7, HASH, HASH, [])
    assert not verify_consistency(7, 7, HASH, HASH, [HASH])
    assert not verify_consistency(7, 7, HASH, HASH0, [])


# Properties over random trees.


@FAST
@given(TREES, st.data())
def test_every_inclusion_proof_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = _hashes(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    root = root_from_leaf_hashes(hashes[:size])
    assert root == _mth(leaves[:size])
    for index in range(size):
        proof = inclusion_proof(hashes, index, size)
        assert verify_inclusion(hashes[index], index, size, proof, root)


@FAST
@given(TREES, st.data())
def test_every_consistency_proof_verifies(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = _hashes(leaves)
    second = data.draw(st.integers(1, len(leaves)), label="second")
    second_root = root_from_leaf_hashes(hashes[:second])
    for first in range(1, second + 1):
        proof = consistency_proof(hashes, first, second)
        first_root = root_from_leaf_hashes(hashes[:first])
        assert verify_consistency(first, second, first_root, second_root, proof)


@FAST
@given(BIG_TREES, st.data())
def test_tampered_inclusion_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = _hashes(leaves)
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = inclusion_proof(hashes, index, size)
    root = root_from_leaf_hashes(hashes)
    leaf = hashes[index]
    assert verify_inclusion(leaf, index, size, proof, root)

    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    flipped = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
    assert not verify_inclusion(leaf, index, size, flipped, root)
    assert not verify_inclusion(leaf, index, size, proof, _flip(root, bit))
    assert not verify_inclusion(_flip(leaf, bit), index, size, proof, root)
    assert not verify_inclusion(leaf_hash(leaves[index] + b"!"), index, size, proof, root)
    other_leaf = hashes[data.draw(st.integers(0, size - 1).filter(lambda i: i != index))]
    assert not verify_inclusion(other_leaf, index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof[:-1], root)
    assert not verify_inclusion(leaf, index, size, [*proof, root], root)
    assert not verify_inclusion(leaf, index, size, [root, *proof], root)
    # A proof taller than the tree must fail even if the root is made to match it.
    assert not verify_inclusion(leaf, index, size, [*proof, leaf], node_hash(leaf, root))

    other_index = data.draw(st.integers(-2, size + 2).filter(lambda i: i != index))
    assert not verify_inclusion(leaf, other_index, size, proof, root)

    # The size is bound to the root by the signed tree head, not by the proof: a size
    # whose path has the same shape (same length, siblings on the same sides) computes
    # the very same hashes, so RFC 9162 accepts it; every other size must fail.
    other_size = data.draw(st.integers(0, 2 * size + 2).filter(lambda n: n != size))
    same_shape = index < other_size and _directions(index, other_size) == _directions(index, size)
    assert verify_inclusion(leaf, index, other_size, proof, root) == same_shape


@FAST
@given(BIG_TREES, st.data())
def test_tampered_consistency_fails(leaves: list[bytes], data: st.DataObject) -> None:
    hashes = _hashes(leaves)
    second = data.draw(st.integers(2, len(leaves)), label="second")
    first = data.draw(st.integers(1, second - 1), label="first")
    proof = consistency_proof(hashes, first, second)
    first_root = root_from_leaf_hashes(hashes[:first])
    second_root = root_from_leaf_hashes(hashes[:second])
    assert verify_consistency(first, second, first_root, second_root, proof)

    position = data.draw(st.integers(0, len(proof) - 1), label="position")
    bit = data.draw(st.integers(0, 255), label="bit")
    flipped = [*proof[:position], _flip(proof[position], bit), *proof[position + 1 :]]
    assert not verify_consistency(first, second, first_root, second_root, flipped)
    assert not verify_consistency(first, second, _flip(first_root, bit), second_root, proof)
    assert not verify_consistency(first, second, first_root, _flip(second_root, bit), proof)
    assert not verify_consistency(first, second, first_root, second_root, proof[:-1])
    assert not verify_consistency(first, second, first_root, second_root, [*proof, first_root])
    assert not verify_consistency(second, first, second_root, first_root, proof)
    # A proof taller than the trees must fail even if both roots are made to match it.
    taller = [*proof, first_root]
    higher_first, higher_second = (
        node_hash(first_root, first_root),
        node_hash(first_root, second_root),
    )
    assert not verify_consistency(first, second, higher_first, higher_second, taller)


@FAST
@given(BIG_TREES, st.data())
def test_rewritten_log_fails_consistency(leaves: list[bytes], data: st.DataObject) -> None:
    first = data.draw(st.integers(1, len(leaves) - 1), label="first")
    first_root = root_hash(leaves[:first])
    changed = data.draw(st.integers(0, first - 1), label="changed")
    rewritten = [*leaves[:changed], leaves[changed] + b"!", *leaves[changed + 1 :]]
    second = data.draw(st.integers(first, len(leaves)), label="second")
    hashes = _hashes(rewritten)
    proof = consistency_proof(hashes, first, second)
    second_root = root_from_leaf_hashes(hashes[:second])
    assert not verify_consistency(first, second, first_root, second_root, proof)


@FAST
@given(BIG_TREES, st.data())
def test_dropped_leaf_fails_consistency(leaves: list[bytes], data: st.DataObject) -> None:
    first = data.draw(st.integers(1, len(leaves) - 1), label="first")
    first_root = root_hash(leaves[:first])
    dropped = data.draw(st.integers(0, first - 1), label="dropped")
    shortened = [*leaves[:dropped], *leaves[dropped + 1 :]]
    second = data.draw(st.integers(first, len(shortened)), label="second")
    hashes = _hashes(shortened)
    proof = consistency_proof(hashes, first, second)
    second_root = root_from_leaf_hashes(hashes[:second])
    assert not verify_consistency(first, second, first_root, second_root, proof)
