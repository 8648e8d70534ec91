"""One OHTTP key sequence for every gateway replica (issue 16, item 1).

Each replica runs :meth:`SharedKeys.tick` on the gateway's key loop. A tick:

1. takes or extends the lease (:class:`~privproc.stores.keyseq.KeySequenceStore`);
2. as the holder only: loads the sequence, runs the one schedule of
   :class:`~privproc.gateway.keys.GatewayKeys` on it (the gateway column of
   :mod:`privproc.keylife`: make the next key ``announce`` seconds ahead, drop expired
   ones), wraps each new private key under the KEK (:mod:`privproc.gateway.kek`) and
   writes the sequence back (fenced by the lease and the generation); then records in the
   ledger each key that every live replica has loaded and marks it recorded;
3. every replica: loads the sequence when its generation moved, unwraps the private keys,
   and reports the generation it now serves.

So a key is made once per sequence (not per replica), is in every live replica's memory
before it is published (recorded in the ledger, listed in ``/ohttp-keys``), and every
replica serves byte-identical ``/ohttp-keys``: the recorded configs in
:func:`~privproc.gateway.keys.served_order`, each listed from the second the holder set
(``listing_delay`` after recording, longer than a tick, so every replica has loaded it) and
until its ``not_after``, both read from the clock at the request, so replicas on
synchronized clocks switch at the same second. A replica with the wrong KEK, or a tampered
store, fails the tick with the named error of :mod:`privproc.gateway.kek` and serves no key
it could not open. A crash of the holder between the ledger append and the write that marks
the key recorded makes the next holder append the same record again (the same config and
window: a duplicate, not a second key). A store that lost the sequence (Redis restarted
without its data) gets back the one the holder serves (:meth:`SharedKeys._reseed`); it
must still persist (AOF) for the spent tokens' sake (docs/scale-out.md).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from privproc.errors import LeaseLostError
from privproc.gateway.kek import Kek
from privproc.gateway.keys import ActiveKey, GatewayKeys, served_order
from privproc.ohttp import KeyConfig, ServerKey, encode_list
from privproc.stores.keyseq import KeySequence, KeySequenceStore, StoredKey

__all__ = ["SharedKeys"]


@dataclass(frozen=True, slots=True)
class _Loaded:
    generation: int
    keys: tuple[ActiveKey, ...]
    #: Recorded keys with the second they are listed from.
    listed: tuple[tuple[ActiveKey, int], ...]


class SharedKeys:
    """The replicas' shared key sequence, as one replica sees and (when holder) extends it."""

    def __init__(
        self,
        store: KeySequenceStore,
        kek: Kek,
        *,
        replica: str,
        lifetime: int,
        announce: int,
        record: Callable[[ActiveKey], None],
        first_start: Callable[[int], tuple[int, int]],
        lease_ttl: float = 10.0,
        listing_delay: int = 3,
        make: Callable[[int], ServerKey] = ServerKey.generate,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``record``: append a key's config record to the ledger; ``first_start(now)``:
        when the first key of a new sequence starts and its key id (from the ledger);
        ``lease_ttl``: how long a silent holder keeps the lease (and a silent replica
        counts as live); it must exceed the tick interval several times."""
        GatewayKeys(lifetime=lifetime, announce=announce)  # validates the schedule
        self._store, self._kek, self._replica = store, kek, replica
        self._lifetime, self._announce = lifetime, announce
        self._record, self._first_start = record, first_start
        self._ttl, self._make = lease_ttl, make
        self._delay, self._clock = listing_delay, clock
        self._state = _Loaded(0, (), ())
        self._lock = threading.Lock()
        #: True while this replica holds the lease (after its last tick).
        self.holder = False

    # --- what the app reads ------------------------------------------------------------

    @property
    def server_keys(self) -> list[ServerKey]:
        """Every loaded key (recorded or about to be): a device may seal to any of them."""
        return [k.key for k in self._state.keys]

    @property
    def entries(self) -> list[ActiveKey]:
        """The loaded keys with their windows, oldest first."""
        return list(self._state.keys)

    @property
    def generation(self) -> int:
        """The generation this replica serves (0: nothing loaded yet)."""
        return self._state.generation

    @property
    def configs(self) -> list[KeyConfig]:
        """The recorded configs listed now, in the served order."""
        now = int(self._clock())
        listed = [k for k, since in self._state.listed if since <= now < k.not_after]
        return [k.key.config for k in served_order(listed, now)]

    def encoded(self) -> bytes:
        """``application/ohttp-keys`` (RFC 9458 §3.2): only configs already in the ledger."""
        return encode_list(self.configs)

    # --- the loop ---------------------------------------------------------------------

    def tick(self, now: int) -> bool:
        """One round (see the module docstring); True when this replica made a key."""
        with self._lock:
            made = False
            self.holder = self._store.acquire(self._replica, self._ttl)
            try:
                if self.holder:
                    made = self._lead(now)
            except LeaseLostError:
                self.holder = False
            finally:
                # Even when recording failed (the ledger down): serve what the store holds.
                self._load()
            return made

    def close(self) -> None:
        """Give the lease up (another replica takes over at its next tick)."""
        if self.holder:
            self._store.release(self._replica)
            self.holder = False

    def _lead(self, now: int) -> bool:
        seq = self._store.load()
        if seq is None and self._state.keys:
            seq = self._reseed()
        stored = seq.keys if seq is not None else ()
        generation = seq.generation if seq is not None else 0
        active = [self._unwrap(k) for k in stored]
        start, key_id = (None, 1) if seq is not None else self._first_start(now)
        schedule = GatewayKeys(
            lifetime=self._lifetime,
            announce=self._announce,
            make=self._make,
            keys=active,
            first_id=key_id,
        )
        made = schedule.tick(now, first_start=start)
        kept = schedule.entries
        if made or len(kept) != len(stored):
            by_config = {k.config: k for k in stored}
            keys = tuple(by_config.get(e.key.config.encode()) or self._wrap(e) for e in kept)
            generation += 1
            self._store.save(self._replica, KeySequence(generation, keys))
            stored = keys
        self._publish(now, generation, stored)
        return made

    def _reseed(self) -> KeySequence:
        """The store lost the sequence (a Redis restarted without its data): put back the
        one this replica serves, rather than start a new one while devices hold the
        current config."""
        listed = {k.key.config.encode(): since for k, since in self._state.listed}
        keys = tuple(
            replace(
                self._wrap(e),
                recorded=e.key.config.encode() in listed,
                listed_from=listed.get(e.key.config.encode(), 0),
            )
            for e in self._state.keys
        )
        seq = KeySequence(1, keys)
        self._store.save(self._replica, seq)
        return seq

    def _publish(self, now: int, generation: int, stored: tuple[StoredKey, ...]) -> None:
        """Record each unrecorded key once every live replica has loaded its generation."""
        pending = [k for k in stored if not k.recorded]
        if not pending:
            return
        reports = self._store.loaded()
        reports[self._replica] = generation  # this holder loads it below, before serving
        if any(g < generation for g in reports.values()):
            return
        for key in pending:
            self._record(self._unwrap(key))
        since = now + self._delay
        marked = tuple(
            replace(k, recorded=True, listed_from=since) if k in pending else k for k in stored
        )
        self._store.save(self._replica, KeySequence(generation + 1, marked))

    def _load(self) -> None:
        seq = self._store.load()
        if seq is not None and seq.generation != self._state.generation:
            keys = tuple(self._unwrap(k) for k in seq.keys)
            listed = tuple(
                (a, k.listed_from) for a, k in zip(keys, seq.keys, strict=True) if k.recorded
            )
            self._state = _Loaded(seq.generation, keys, listed)  # replaced, never mutated
        self._store.report_loaded(self._replica, self._state.generation, self._ttl)

    def _wrap(self, entry: ActiveKey) -> StoredKey:
        config = entry.key.config.encode()
        wrapped = self._kek.wrap(
            entry.key.private_key, key_id=entry.key.config.key_id, config=config
        )
        return StoredKey(config, wrapped, entry.not_before, entry.not_after, recorded=False)

    def _unwrap(self, stored: StoredKey) -> ActiveKey:
        config = KeyConfig.decode(stored.config)
        private = self._kek.unwrap(stored.wrapped, key_id=config.key_id, config=stored.config)
        return ActiveKey(ServerKey(config, private), stored.not_before, stored.not_after)
