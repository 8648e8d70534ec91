"""Merkle Tree Hash, inclusion and consistency proofs (RFC 9162 §2.1, SHA-256).

* leaf hash ``H(0x00 || entry)`` and node hash ``H(0x01 || left || right)``
  (RFC 9162 §2.1.1);
* proof generation follows the recursive definitions ``PATH`` (§2.1.3.1) and
  ``SUBPROOF`` (§2.1.4.1) but reads the hashes of *complete* subtrees from a
  :class:`HashSource` instead of recomputing them, so a proof at any size costs
  O(log n) reads;
* proof verification is the iterative algorithm of §2.1.3.2 (inclusion) and
  §2.1.4.2 (consistency), and raises :class:`~privproc.errors.ProofError` naming
  the check.

A *complete subtree* at ``(level, index)`` spans leaves
``[index * 2**level, (index + 1) * 2**level)``; its hash never changes once the
tree holds those leaves, which is what makes storing it (in memory, SQLite or
C2SP tiles) sound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol

from privproc.errors import MisuseError, ProofError

__all__ = [
    "HASH_SIZE",
    "HashSource",
    "MemoryTree",
    "consistency_proof",
    "empty_root",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "range_hash",
    "root_from_leaf_hashes",
    "verify_consistency",
    "verify_inclusion",
]

#: SHA-256 output size (RFC 9162 §2.1).
HASH_SIZE = 32


def leaf_hash(entry: bytes) -> bytes:
    """``MTH({d(0)}) = SHA-256(0x00 || d(0))`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || MTH(left) || MTH(right))`` (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def empty_root() -> bytes:
    """``MTH({}) = SHA-256()``, the hash of an empty string (RFC 9162 §2.1.1)."""
    return hashlib.sha256(b"").digest()


class HashSource(Protocol):
    """Where proofs read the hashes of complete subtrees from."""

    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree of ``2**level`` leaves starting at ``index * 2**level``."""
        ...


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (RFC 9162 §2.1.1, ``k``), for n > 1."""
    return 1 << ((n - 1).bit_length() - 1)


def range_hash(source: HashSource, start: int, end: int) -> bytes:
    """``MTH(D[start:end])`` for a range that starts on a subtree boundary.

    ``start`` must be a multiple of the largest power of two not above
    ``end - start`` (true of every range RFC 9162's recursion visits). Reads
    O(log n) complete-subtree hashes.
    """
    n = end - start
    if n <= 0:
        raise MisuseError("range_hash: empty range")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        if start % n:
            raise MisuseError("range_hash: unaligned range")
        return source.node(level, start >> level)
    k = _split(n)
    return node_hash(range_hash(source, start, start + k), range_hash(source, start + k, end))


def root_from_leaf_hashes(hashes: Sequence[bytes]) -> bytes:
    """``MTH`` of a list of leaf hashes, computed bottom-up (RFC 9162 §2.1.1)."""
    if not hashes:
        return empty_root()
    level = list(hashes)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _check_sizes(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise MisuseError(f"index {index} not in a tree of size {size}")


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """``PATH(m, D[0:n])`` (RFC 9162 §2.1.3.1), leaf side first."""
    _check_sizes(index, size)
    proof: list[bytes] = []
    start, end = 0, size
    # Walk down from the root; siblings are collected top-down, returned bottom-up.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            proof.append(range_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(source, start, start + k))
            start += k
    proof.reverse()
    return proof


def consistency_proof(source: HashSource, old_size: int, new_size: int) -> list[bytes]:
    """``PROOF(m, D[0:n])`` via ``SUBPROOF`` (RFC 9162 §2.1.4.1).

    Empty when ``old_size`` is 0 or equals ``new_size`` (the C2SP tlog-witness
    convention for size 0).
    """
    if not 0 <= old_size <= new_size:
        raise MisuseError(f"consistency proof from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    m, start, end, complete = old_size, 0, new_size, True
    while True:
        n = end - start
        if m == n:
            if not complete:
                proof.append(range_hash(source, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(range_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(range_hash(source, start, start + k))
            start += k
            m -= k
            complete = False
    proof.reverse()
    return proof


def _lsb(x: int) -> int:
    return x & 1


def verify_inclusion(
    entry_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bytes:
    """Verify an inclusion proof (RFC 9162 §2.1.3.2); return the verified root, or raise
    ProofError naming the check."""
    if not 0 <= index < size:
        raise ProofError(
            "merkle.inclusion.index",
            "leaf index outside the tree",
            expected=f"< {size}",
            found=index,
        )
    if any(len(p) != HASH_SIZE for p in proof) or len(root) != HASH_SIZE:
        raise ProofError("merkle.inclusion.hash_size", "proof element is not a SHA-256 hash")
    fn, sn = index, size - 1
    r = entry_hash
    for p in proof:
        if sn == 0:
            raise ProofError(
                "merkle.inclusion.length", "inclusion proof too long", found=len(proof)
            )
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("merkle.inclusion.length", "inclusion proof too short", found=len(proof))
    if r != root:
        raise ProofError(
            "merkle.inclusion.root",
            "inclusion proof does not lead to the root",
            expected=root.hex(),
            found=r.hex(),
        )
    return root


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> bytes:
    """Verify a consistency proof (RFC 9162 §2.1.4.2); return the verified new root, or
    raise ProofError naming the check.

    Sizes 0 and ``old_size == new_size`` take an empty proof (for equal sizes the
    roots must match).
    """
    if not 0 <= old_size <= new_size:
        raise ProofError(
            "merkle.consistency.sizes",
            "old size above new size",
            expected=f"<= {new_size}",
            found=old_size,
        )
    if any(len(p) != HASH_SIZE for p in proof):
        raise ProofError("merkle.consistency.hash_size", "proof element is not a SHA-256 hash")
    if old_size == 0:
        if proof:
            raise ProofError(
                "merkle.consistency.length", "proof from size 0 must be empty", found=len(proof)
            )
        return new_root
    if old_size == new_size:
        if proof:
            raise ProofError(
                "merkle.consistency.length",
                "proof between equal sizes must be empty",
                found=len(proof),
            )
        if old_root != new_root:
            raise ProofError(
                "merkle.consistency.root",
                "same size, different roots",
                expected=old_root.hex(),
                found=new_root.hex(),
            )
        return new_root
    path = list(proof)
    # Step 2: if first is an exact power of 2, prepend first_hash to the path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("merkle.consistency.length", "empty consistency proof")
    fn, sn = old_size - 1, new_size - 1
    # Step 4: shift while LSB(fn) is set.
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                "merkle.consistency.length", "consistency proof too long", found=len(proof)
            )
        if _lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            "merkle.consistency.length", "consistency proof too short", found=len(proof)
        )
    if fr != old_root:
        raise ProofError(
            "merkle.consistency.old_root",
            "proof does not lead to the old root",
            expected=old_root.hex(),
            found=fr.hex(),
        )
    if sr != new_root:
        raise ProofError(
            "merkle.consistency.new_root",
            "proof does not lead to the new root",
            expected=new_root.hex(),
            found=sr.hex(),
        )
    return new_root


class MemoryTree:
    """An append-only tree keeping every complete-subtree hash in memory.

    ``levels[h][i]`` is the hash of the complete subtree at ``(h, i)``. Appending
    a leaf hashes at most log2(n) new parents (amortized one), and every hash is
    kept, so proofs and C2SP tiles read stored hashes (a :class:`HashSource`).
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = [[]]

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    def append_leaf_hash(self, h: bytes) -> int:
        """Append a leaf hash; returns its 0-based index."""
        if len(h) != HASH_SIZE:
            raise MisuseError("leaf hash must be 32 bytes")
        index = self.size
        self._levels[0].append(h)
        level, i = 0, index
        while i & 1:
            parent = node_hash(self._levels[level][i - 1], self._levels[level][i])
            level += 1
            if len(self._levels) == level:
                self._levels.append([])
            self._levels[level].append(parent)
            i >>= 1
        return index

    def append(self, entry: bytes) -> int:
        """Append an entry (hashed as a leaf); returns its 0-based index."""
        return self.append_leaf_hash(leaf_hash(entry))

    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree at ``(level, index)`` (a :class:`HashSource`)."""
        if level >= len(self._levels) or not 0 <= index < len(self._levels[level]):
            raise MisuseError(f"no complete subtree at level {level} index {index}")
        return self._levels[level][index]

    def level_hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes ``[start, end)`` of one level (used to cut C2SP tiles)."""
        if level >= len(self._levels):
            return []
        return self._levels[level][start:end]

    def root(self, size: int | None = None) -> bytes:
        """``MTH(D[0:size])`` (default: the whole tree)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise MisuseError(f"size {size} beyond the tree ({self.size})")
        if size == 0:
            return empty_root()
        return range_hash(self, 0, size)
