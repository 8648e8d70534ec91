"""Which node holds which key: the gateway knows nodes only by address.

The gateway polls each node's ``/evidence`` and remembers ``key id -> node URL``
(current and, for a while, earlier keys). A sealed request names K key ids; the
gateway may forward it to those nodes only, in random order, trying the next on
failure. It cannot send it elsewhere usefully: only those nodes can unwrap it.
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Sequence

from privproc.errors import PolicyError

__all__ = ["NodeMap"]


class NodeMap:
    """``key id -> node URL``, bounded, newest kept."""

    __slots__ = ("_map", "_max", "_rng")

    def __init__(self, *, max_keys: int = 4096, rng: random.Random | None = None) -> None:
        self._map: OrderedDict[bytes, str] = OrderedDict()
        self._max = max_keys
        self._rng = rng or random.SystemRandom()

    def learn(self, key_id: bytes, url: str) -> None:
        """Remember that ``url`` holds ``key_id``."""
        self._map[key_id] = url
        self._map.move_to_end(key_id)
        while len(self._map) > self._max:
            self._map.popitem(last=False)

    def candidates(self, key_ids: Sequence[bytes]) -> list[str]:
        """The nodes a request may go to, in random order; PolicyError when none is known."""
        urls = list(dict.fromkeys(self._map[k] for k in key_ids if k in self._map))
        if not urls:
            raise PolicyError(
                "gateway.route", "the request names no node this gateway knows", found=0
            )
        self._rng.shuffle(urls)
        return urls

    def __len__(self) -> int:
        return len(self._map)
