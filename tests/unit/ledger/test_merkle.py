"""RFC 9162 §2.1 Merkle tree: our vectors, and everything against a naive recursive MTH."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import MisuseError, ProofError
from privproc.ledger import merkle
from privproc.ledger.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from tests._vectors import load_json


# --- an independent, naive implementation of RFC 9162 §2.1.1, §2.1.3.1, §2.1.4.1 ---
def _h(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    if not d:
        return _h(b"")
    if len(d) == 1:
        return _h(b"\x00" + d[0])
    k = _k(len(d))
    return _h(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*naive_path(m, d[:k]), naive_mth(d[k:])]
    return [*naive_path(m - k, d[k:]), naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, d[:k], b), naive_mth(d[k:])]
    return [*naive_subproof(m - k, d[k:], False), naive_mth(d[:k])]


ENTRIES = [bytes([i]) * (i % 7) for i in range(64)]


@pytest.fixture(scope="module")
def tree() -> MemoryTree:
    t = MemoryTree()
    for e in ENTRIES:
        t.append(e)
    return t


def test_empty_and_single() -> None:
    assert MemoryTree().root() == hashlib.sha256(b"").digest()
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()


def test_every_size_and_proof_matches_naive(tree: MemoryTree) -> None:
    for n in range(1, 65):
        root = tree.root(n)
        assert root == naive_mth(ENTRIES[:n])
        for i in range(n):
            proof = inclusion_proof(tree, i, n)
            assert proof == naive_path(i, ENTRIES[:n])
            assert verify_inclusion(leaf_hash(ENTRIES[i]), i, n, proof, root) == root
        for m in range(0, n + 1):
            proof = consistency_proof(tree, m, n)
            assert proof == (naive_subproof(m, ENTRIES[:n], True) if 0 < m < n else [])
            assert verify_consistency(m, n, proof, tree.root(m), root) == root


def test_generated_vectors(tree: MemoryTree) -> None:
    v = load_json("ledger", "merkle.json")
    assert [bytes.fromhex(e) for e in v["entries_hex"]] == ENTRIES
    for n, root in v["roots"].items():
        assert naive_mth(ENTRIES[: int(n)]).hex() == root
    for case in v["inclusion"]:
        i, n = case["index"], case["size"]
        assert [p.hex() for p in naive_path(i, ENTRIES[:n])] == case["proof"]
        proof = [bytes.fromhex(p) for p in case["proof"]]
        verify_inclusion(leaf_hash(ENTRIES[i]), i, n, proof, bytes.fromhex(v["roots"][str(n)]))
    for case in v["consistency"]:
        o, n = case["old"], case["new"]
        assert [p.hex() for p in naive_subproof(o, ENTRIES[:n], True)] == case["proof"]
        proof = [bytes.fromhex(p) for p in case["proof"]]
        verify_consistency(
            o, n, proof, bytes.fromhex(v["roots"][str(o)]), bytes.fromhex(v["roots"][str(n)])
        )


def test_inclusion_refusals(tree: MemoryTree) -> None:
    root = tree.root(13)
    proof = inclusion_proof(tree, 5, 13)
    lh = leaf_hash(ENTRIES[5])
    with pytest.raises(ProofError) as e:
        verify_inclusion(leaf_hash(b"other"), 5, 13, proof, root)
    assert e.value.check == "merkle.inclusion.root"
    with pytest.raises(ProofError) as e:
        verify_inclusion(lh, 5, 13, proof[:-1], root)
    assert e.value.check == "merkle.inclusion.length"
    with pytest.raises(ProofError) as e:
        verify_inclusion(lh, 5, 13, [*proof, proof[0]], root)
    assert e.value.check == "merkle.inclusion.length"
    with pytest.raises(ProofError) as e:
        verify_inclusion(lh, 13, 13, proof, root)
    assert e.value.check == "merkle.inclusion.index"
    with pytest.raises(ProofError):
        verify_inclusion(lh, 4, 13, proof, root)


def test_consistency_refusals(tree: MemoryTree) -> None:
    proof = consistency_proof(tree, 6, 13)
    r6, r13 = tree.root(6), tree.root(13)
    with pytest.raises(ProofError) as e:
        verify_consistency(6, 13, proof, tree.root(5), r13)
    assert e.value.check == "merkle.consistency.old_root"
    with pytest.raises(ProofError) as e:
        verify_consistency(6, 13, proof, r6, tree.root(12))
    assert e.value.check == "merkle.consistency.new_root"
    with pytest.raises(ProofError):
        verify_consistency(6, 13, proof[:-1], r6, r13)
    with pytest.raises(ProofError) as e:
        verify_consistency(13, 6, proof, r13, r6)
    assert e.value.check == "merkle.consistency.sizes"
    with pytest.raises(ProofError) as e:
        verify_consistency(6, 6, [], r6, r13)
    assert e.value.check == "merkle.consistency.root"
    with pytest.raises(ProofError):
        verify_consistency(0, 6, [r6], r6, r6)


def test_misuse() -> None:
    t = MemoryTree()
    t.append(b"a")
    with pytest.raises(MisuseError):
        inclusion_proof(t, 1, 1)
    with pytest.raises(MisuseError):
        consistency_proof(t, 2, 1)
    with pytest.raises(MisuseError):
        t.root(2)
    with pytest.raises(MisuseError):
        merkle.range_hash(t, 0, 0)


@given(st.integers(1, 300), st.data())
def test_property_proofs_verify(n: int, data: st.DataObject) -> None:
    t = MemoryTree()
    for i in range(n):
        t.append(i.to_bytes(4, "big"))
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    verify_inclusion(leaf_hash(i.to_bytes(4, "big")), i, n, inclusion_proof(t, i, n), t.root())
    verify_consistency(m, n, consistency_proof(t, m, n), t.root(m), t.root())
    assert merkle.root_from_leaf_hashes(t.level_hashes(0, 0, n)) == t.root()


# --- RFC 6962 reference vectors (transparency-dev/merkle, certificate-transparency) ---
REF = load_json("ledger", "rfc6962_reference.json")
REF_LEAVES = [bytes.fromhex(x) for x in REF["leaves_hex"]]


def _ref_tree() -> MemoryTree:
    t = MemoryTree()
    for e in REF_LEAVES:
        t.append(e)
    return t


def test_reference_roots_and_nodes() -> None:
    t = _ref_tree()
    for n, root in enumerate(REF["roots"]):
        assert t.root(n).hex() == root
    for level, hashes in enumerate(REF["node_hashes"]):
        assert [t.node(level, i).hex() for i in range(len(hashes))] == hashes


@pytest.mark.parametrize("case", REF["inclusion"], ids=lambda c: f"{c['index']}@{c['size']}")
def test_reference_inclusion(case: dict[str, object]) -> None:
    t = _ref_tree()
    i, n = int(case["index"]), int(case["size"])  # type: ignore[call-overload]
    proof = [bytes.fromhex(p) for p in case["proof"]]  # type: ignore[attr-defined]
    assert inclusion_proof(t, i, n) == proof
    root = bytes.fromhex(REF["roots"][n])
    lh = leaf_hash(REF_LEAVES[i])
    verify_inclusion(lh, i, n, proof, root)
    # The corruptions of verify_test.go's corruptInclusionProof must all be refused.
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [
        (i - 1, n, root, lh, proof),
        (i + 1, n, root, lh, proof),
        (i ^ 2, n, root, lh, proof),
        (i, n * 2, root, lh, proof),
        (i, n // 2, root, lh, proof),
        (i, n, root, leaf_hash(b"WrongLeaf"), proof),
        (i, n, bytes.fromhex(REF["roots"][0]), lh, proof),
        (i, n, some, lh, proof),
        (i, n, root, lh, [*proof, root]),
        (i, n, root, lh, [root, *proof]),
    ]
    probes += [
        (i, n, root, lh, [*proof[:k], bytes([proof[k][0] ^ 8]) + proof[k][1:], *proof[k + 1 :]])
        for k in range(len(proof))
    ]
    if proof:
        probes.append((i, n, root, lh, proof[:-1]))
    if len(proof) > 1:
        probes.append((i, n, root, lh, [proof[0], some, *proof[1:]]))
    for pi, pn, proot, plh, pproof in probes:
        if pi == i and pn == n and proot == root and plh == lh and pproof == proof:
            continue
        with pytest.raises(ProofError):
            verify_inclusion(plh, pi, pn, pproof, proot)


@pytest.mark.parametrize("case", REF["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
def test_reference_consistency(case: dict[str, object]) -> None:
    t = _ref_tree()
    m, n = int(case["old"]), int(case["new"])  # type: ignore[call-overload]
    proof = [bytes.fromhex(p) for p in case["proof"]]  # type: ignore[attr-defined]
    assert consistency_proof(t, m, n) == proof
    r1, r2 = bytes.fromhex(REF["roots"][m]), bytes.fromhex(REF["roots"][n])
    verify_consistency(m, n, proof, r1, r2)
    if not proof:
        return
    probes = [
        (m - 1, n, r1, r2, proof),
        (m + 1, n, r1, r2, proof),
        (m ^ 2, n, r1, r2, proof),
        (m, n * 2, r1, r2, proof),
        (m, n // 2, r1, r2, proof),
        (m, n, leaf_hash(b"WrongRoot"), r2, proof),
        (m, n, r1, leaf_hash(b"WrongRoot"), proof),
        (m, n, r2, r1, proof),
        (m, n, r1, r2, []),
        (m, n, r1, r2, [*proof, r1]),
        (m, n, r1, r2, [*proof, r2]),
        (m, n, r1, r2, [r1, *proof]),
        (m, n, r1, r2, [r2, *proof]),
        (m, n, r1, r2, [proof[0], *proof]),
        (m, n, r1, r2, proof[:-1]),
    ]
    probes += [
        (m, n, r1, r2, [*proof[:k], bytes([proof[k][0] ^ 16]) + proof[k][1:], *proof[k + 1 :]])
        for k in range(len(proof))
    ]
    for pm, pn, pr1, pr2, pproof in probes:
        with pytest.raises(ProofError):
            verify_consistency(pm, pn, pproof, pr1, pr2)


class _CountingSource:
    """A stand-in for stored hashes at any size: counts reads, returns a fixed hash."""

    def __init__(self) -> None:
        self.reads = 0

    def node(self, level: int, index: int) -> bytes:
        self.reads += 1
        return hashlib.sha256(level.to_bytes(1, "big") + index.to_bytes(8, "big")).digest()


@pytest.mark.parametrize("size", [1_000_000, 1_048_575, 1_048_577, 123_456_789])
def test_proofs_read_log_n_hashes(size: int) -> None:
    # O(log n) reads, not recomputation: at most 2 * log2(n) + 2 stored hashes per proof.
    bound = 2 * size.bit_length() + 2
    for index in (0, 1, size // 2, size - 2, size - 1):
        src = _CountingSource()
        inclusion_proof(src, index, size)
        assert src.reads <= bound, (index, src.reads)
    for old in (1, 2, size // 3, size - 1):
        src = _CountingSource()
        consistency_proof(src, old, size)
        assert src.reads <= bound, (old, src.reads)
    src = _CountingSource()
    merkle.range_hash(src, 0, size)
    assert src.reads <= size.bit_length()
