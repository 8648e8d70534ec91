"""C2SP tlog-tiles: tile coordinates, paths, entry bundles, hashes read from tiles.

https://c2sp.org/tlog-tiles — tile height 8 (256 hashes of 32 bytes per full
tile). The tile at level ``L`` and index ``N`` holds the hashes of the complete
Merkle subtrees at Merkle level ``8 * L`` with indices ``N*256 .. N*256+255``;
a partial tile (``.p/<W>``) holds the first ``W`` of them. Paths encode ``N`` as
3-digit groups, all but the last prefixed with ``x`` (1234067 -> ``x001/x234/067``).
Entry bundles are sequences of uint16-length-prefixed entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from privproc._wire import Reader, Writer
from privproc.errors import DecodeError, MisuseError
from privproc.ledger.merkle import HASH_SIZE, node_hash

__all__ = [
    "ENTRIES_LEVEL",
    "MAX_ENTRY_SIZE",
    "TILE_HEIGHT",
    "TILE_WIDTH",
    "TileHashes",
    "TileRef",
    "decode_entry_bundle",
    "encode_entry_bundle",
    "encode_index",
    "parse_tile_path",
    "tiles_for_size",
]

#: Tile height: each tile spans 8 Merkle levels (tlog-tiles §Merkle Tree).
TILE_HEIGHT = 8
#: Hashes in a full tile.
TILE_WIDTH = 1 << TILE_HEIGHT
#: Marker level for entry bundles in :class:`TileRef`.
ENTRIES_LEVEL = -1
#: Entries are uint16-length-prefixed in bundles (tlog-tiles §Log entries).
MAX_ENTRY_SIZE = 0xFFFF


def encode_index(n: int) -> str:
    """``N`` as zero-padded 3-digit path elements, all but the last prefixed ``x``."""
    if n < 0:
        raise MisuseError("tile index must be non-negative")
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


@dataclass(frozen=True, slots=True)
class TileRef:
    """A tile (``level >= 0``) or entry bundle (``level == ENTRIES_LEVEL``) and its width."""

    level: int
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if not ENTRIES_LEVEL <= self.level <= 63 or self.index < 0:
            raise MisuseError("tile level or index out of range")
        if not 1 <= self.width <= TILE_WIDTH:
            raise MisuseError("tile width must be 1..256")

    @property
    def partial(self) -> bool:
        """True for a partial tile (width under 256)."""
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """``tile/<L>/<N>[.p/<W>]`` or ``tile/entries/<N>[.p/<W>]``."""
        level = "entries" if self.level == ENTRIES_LEVEL else str(self.level)
        suffix = f".p/{self.width}" if self.partial else ""
        return f"tile/{level}/{encode_index(self.index)}{suffix}"


def parse_tile_path(path: str) -> TileRef:
    """Parse a tile or entry-bundle path (without a leading slash); raise DecodeError."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise DecodeError("not a tile path")
    if parts[1] == "entries":
        level = ENTRIES_LEVEL
    elif (
        parts[1].isascii()
        and parts[1].isdigit()
        and len(parts[1]) <= 2
        and (parts[1] == "0" or parts[1][0] != "0")
    ):
        level = int(parts[1])
        if level > 63:
            raise DecodeError("tile level above 63")
    else:
        raise DecodeError("bad tile level")
    rest = parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not (w.isascii() and w.isdigit() and len(w) <= 3 and w[0] != "0" and int(w) <= 255):
            raise DecodeError("bad partial tile width")
        width = int(w)
        rest = [*rest[:-2], rest[-2][:-2]]
    index = 0
    for i, group in enumerate(rest):
        last = i == len(rest) - 1
        digits = group if last else group[1:]
        if (
            (not last and not group.startswith("x"))
            or len(digits) != 3
            or not (digits.isascii() and digits.isdigit())
        ):
            raise DecodeError("bad tile index element")
        index = index * 1000 + int(digits)
    if len(rest) > 1 and rest[0] == "x000":
        raise DecodeError("tile index has a leading zero group")
    return TileRef(level, index, width)


def tiles_for_size(size: int) -> list[TileRef]:
    """Every tile (full and partial, all levels) a tree of ``size`` leaves has.

    The partial tile at level ``l`` has ``floor(size / 256**l) mod 256`` hashes;
    empty tiles do not exist (tlog-tiles §Partial Tiles).
    """
    out: list[TileRef] = []
    level = 0
    n = size
    while n > 0:
        full, rem = divmod(n, TILE_WIDTH)
        out.extend(TileRef(level, i) for i in range(full))
        if rem:
            out.append(TileRef(level, full, rem))
        n = full
        level += 1
    return out


def encode_entry_bundle(entries: Sequence[bytes]) -> bytes:
    """Concatenate uint16-length-prefixed entries (tlog-tiles §Log entries)."""
    w = Writer()
    for e in entries:
        if len(e) > MAX_ENTRY_SIZE:
            raise MisuseError("entry longer than 65535 bytes")
        w.write_vec(2, e)
    return w.getvalue()


def decode_entry_bundle(data: bytes, count: int | None = None) -> list[bytes]:
    """Split an entry bundle; with ``count``, exactly that many entries must be there."""
    r = Reader(data)
    out: list[bytes] = []
    while not r.at_end():
        out.append(r.read_vec(2, "bundle entry"))
        if len(out) > TILE_WIDTH:
            raise DecodeError("entry bundle holds over 256 entries")
    if count is not None and len(out) != count:
        raise DecodeError(f"entry bundle holds {len(out)} entries, expected {count}")
    return out


class TileHashes:
    """A :class:`~privproc.ledger.merkle.HashSource` backed by fetched tiles.

    ``tiles`` maps ``(level, index)`` to tile bytes (full or partial). The hash of
    the complete subtree at Merkle level ``h`` is rebuilt from ``2**(h % 8)``
    hashes of the tile at level ``h // 8`` — one tile read per node.
    """

    __slots__ = ("_tiles",)

    def __init__(self, tiles: Mapping[tuple[int, int], bytes]) -> None:
        for (level, index), data in tiles.items():
            if len(data) % HASH_SIZE or not data or len(data) > TILE_WIDTH * HASH_SIZE:
                raise DecodeError(f"tile {level}/{index}: bad length {len(data)}")
        self._tiles = tiles

    def node(self, level: int, index: int) -> bytes:
        """Hash of the complete subtree at ``(level, index)``."""
        tile_level, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # index at the tile's own level
        tile_index, offset = divmod(first, TILE_WIDTH)
        data = self._tiles.get((tile_level, tile_index))
        count = 1 << sub
        if data is None or len(data) < (offset + count) * HASH_SIZE:
            raise MisuseError(f"tile {tile_level}/{tile_index} missing or too short")
        hashes = [
            data[(offset + i) * HASH_SIZE : (offset + i + 1) * HASH_SIZE] for i in range(count)
        ]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]
