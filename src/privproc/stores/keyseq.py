"""The gateway replicas' shared OHTTP key sequence, and the lease that says who extends it.

Every gateway replica reads the one sequence; only the holder of the lease makes, records
and drops keys (:mod:`privproc.gateway.shared`), so a rotation happens once per sequence,
not once per replica. What the store holds is public except the private keys, which are
wrapped under the key-encryption key (:mod:`privproc.gateway.kek`): the store never sees
one in clear.

:class:`KeySequenceStore` is the contract; :class:`RedisKeySequenceStore` implements it
(one Lua script per write, so the lease check and the write are one atomic step on the
server), and so does :class:`PostgresKeySequenceStore` (an upsert for the lease, one
transaction with row locks per write; leases timed by the server's clock). A holder whose
lease lapsed cannot overwrite its successor: the fencing that Kleppmann's "How to do
distributed locking" asks for, here by holder id and generation. Each write carries the
next ``generation``; a write that does not follow the stored one is refused like a lost
lease. Replicas report the generation they loaded (with an expiry, so a
dead replica drops out); the holder records a new key in the ledger only once every live
replica has loaded it. Store failures raise :class:`~privproc.errors.StoreError`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from privproc.errors import LeaseLostError, MisuseError, StoreError

__all__ = [
    "KeySequence",
    "KeySequenceStore",
    "PostgresKeySequenceStore",
    "RedisKeySequenceStore",
    "StoredKey",
    "decode_sequence",
    "encode_sequence",
]

_MAX_KEYS = 16
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class StoredKey:
    """One key of the sequence as stored: public config, wrapped private key, window."""

    #: The RFC 9458 §3 key config encoding.
    config: bytes
    #: The private key wrapped under the KEK (:meth:`privproc.gateway.kek.Kek.wrap`).
    wrapped: bytes
    not_before: int
    not_after: int
    #: True once the config is recorded in the ledger (published).
    recorded: bool
    #: The Unix second from which every replica lists it in ``/ohttp-keys`` (set when it
    #: is recorded, a few seconds ahead, so that all replicas switch at the same second).
    listed_from: int = 0

    def __post_init__(self) -> None:
        if not self.config or not self.wrapped or self.not_before >= self.not_after:
            raise MisuseError("stored key: config, wrapped key and a window are required")


@dataclass(frozen=True, slots=True)
class KeySequence:
    """The whole sequence at one ``generation`` (1, 2, ...: one per write), oldest first."""

    generation: int
    keys: tuple[StoredKey, ...]

    def __post_init__(self) -> None:
        if self.generation < 1 or len(self.keys) > _MAX_KEYS:
            raise MisuseError(f"key sequence: generation >= 1 and at most {_MAX_KEYS} keys")


def encode_sequence(seq: KeySequence) -> bytes:
    """JSON: ``{"generation": n, "keys": [{"config", "wrapped" (hex), "not_before", ...}]}``."""
    return json.dumps(
        {
            "generation": seq.generation,
            "keys": [
                {
                    "config": k.config.hex(),
                    "wrapped": k.wrapped.hex(),
                    "not_before": k.not_before,
                    "not_after": k.not_after,
                    "recorded": k.recorded,
                    "listed_from": k.listed_from,
                }
                for k in seq.keys
            ],
        },
        sort_keys=True,
    ).encode()


def decode_sequence(data: bytes) -> KeySequence:
    """Parse what :func:`encode_sequence` wrote; anything else is a StoreError (corrupt)."""
    try:
        doc = json.loads(data)
        keys = tuple(
            StoredKey(
                bytes.fromhex(item["config"]),
                bytes.fromhex(item["wrapped"]),
                _typed(item["not_before"], int),
                _typed(item["not_after"], int),
                _typed(item["recorded"], bool),
                _typed(item["listed_from"], int),
            )
            for item in doc["keys"]
        )
        return KeySequence(_typed(doc["generation"], int), keys)
    except (ValueError, TypeError, KeyError, MisuseError) as exc:
        raise StoreError(f"key sequence store: corrupt record ({type(exc).__name__})") from None


def _typed(value: object, kind: type[_T]) -> _T:
    # bool is an int in Python: an int field must not be a bool, nor the reverse.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"expected {kind.__name__}")
    return value


@runtime_checkable
class KeySequenceStore(Protocol):
    """Where the replicas' key sequence and its lease live (Redis; the contract tests)."""

    def acquire(self, holder: str, ttl: float) -> bool:
        """Take the lease for ``ttl`` seconds, or extend it if ``holder`` has it; False if
        another holder has it."""
        ...

    def release(self, holder: str) -> None:
        """Give the lease up if ``holder`` has it."""
        ...

    def load(self) -> KeySequence | None:
        """The stored sequence; ``None`` before the first write."""
        ...

    def save(self, holder: str, seq: KeySequence) -> None:
        """Write ``seq`` (generation one more than the stored one) if ``holder`` has the
        lease; LeaseLostError otherwise."""
        ...

    def report_loaded(self, replica: str, generation: int, ttl: float) -> None:
        """``replica`` serves ``generation``; forgotten after ``ttl`` seconds."""
        ...

    def loaded(self) -> dict[str, int]:
        """Each live replica's last reported generation."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


# KEYS[1] = lease; ARGV = holder, ttl ms.
_ACQUIRE = """
local h = redis.call('GET', KEYS[1])
if not h then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
if h == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
return 0
"""
# KEYS[1] = lease
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# KEYS = lease, sequence, generation; ARGV = holder, body, generation.
_SAVE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local g = tonumber(redis.call('GET', KEYS[3]) or '0')
if g + 1 ~= tonumber(ARGV[3]) then return -2 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
"""


class RedisKeySequenceStore:
    """The key sequence in Redis: a lease key, the sequence and its generation."""

    def __init__(
        self, url: str, *, prefix: str = "privproc:gateway-keys:", socket_timeout: float = 2.0
    ) -> None:
        import redis

        self._prefix = prefix
        self._lease = prefix + "lease"
        self._seq = prefix + "sequence"
        self._gen = prefix + "generation"
        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
            self._acquire = self._redis.register_script(_ACQUIRE)
            self._release = self._redis.register_script(_RELEASE)
            self._save = self._redis.register_script(_SAVE)
        except (ValueError, redis.RedisError) as exc:
            raise StoreError(f"key sequence store: bad Redis URL ({type(exc).__name__})") from None

    def acquire(self, holder: str, ttl: float) -> bool:
        """One script: take the free lease, or extend our own."""
        _check_holder(holder, ttl)
        return (
            int(self._call(lambda: self._acquire(keys=[self._lease], args=[holder, _ms(ttl)]))) == 1
        )

    def release(self, holder: str) -> None:
        """Delete the lease only if ``holder`` still has it."""
        _check_holder(holder, 1)
        self._call(lambda: self._release(keys=[self._lease], args=[holder]))

    def load(self) -> KeySequence | None:
        """``GET`` the sequence."""
        data = self._call(lambda: self._redis.get(self._seq))
        if data is None:
            return None
        return decode_sequence(data if isinstance(data, bytes) else data.encode())

    def save(self, holder: str, seq: KeySequence) -> None:
        """Lease check, generation check and write in one script."""
        _check_holder(holder, 1)
        body = encode_sequence(seq)
        result = int(
            self._call(
                lambda: self._save(
                    keys=[self._lease, self._seq, self._gen], args=[holder, body, seq.generation]
                )
            )
        )
        if result == -1:
            raise LeaseLostError(f"key sequence: {holder} no longer holds the lease")
        if result == -2:
            raise LeaseLostError(
                f"key sequence: generation {seq.generation} does not follow the stored one"
            )

    def report_loaded(self, replica: str, generation: int, ttl: float) -> None:
        """``SET prefix:replica:<id> generation PX ttl``."""
        _check_holder(replica, ttl)
        self._call(
            lambda: self._redis.set(f"{self._prefix}replica:{replica}", generation, px=_ms(ttl))
        )

    def loaded(self) -> dict[str, int]:
        """Scan the replicas' reports."""
        pattern = f"{self._prefix}replica:*"

        def scan() -> dict[str, int]:
            names = list(self._redis.scan_iter(match=pattern, count=100))
            values = self._redis.mget(names) if names else []
            cut = len(self._prefix) + len("replica:")
            return {
                bytes(n)[cut:].decode(): int(v)
                for n, v in zip(names, values, strict=True)
                if v is not None
            }

        result: dict[str, int] = self._call(scan)
        return result

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    def _call(self, fn: Callable[[], _T]) -> _T:
        import redis

        try:
            return fn()
        except redis.RedisError as exc:
            raise StoreError(f"key sequence store: Redis failed ({type(exc).__name__})") from None


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


def _check_holder(holder: str, ttl: float) -> None:
    if not holder or len(holder) > 128 or not holder.isprintable() or ttl <= 0:
        raise MisuseError("a lease holder is 1..128 printable characters, its ttl > 0")


_PG_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS privproc_keyseq_lease ("
    " name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires_at DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE IF NOT EXISTS privproc_keyseq ("
    " name TEXT PRIMARY KEY, generation BIGINT NOT NULL, body BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS privproc_keyseq_replica ("
    " name TEXT NOT NULL, replica TEXT NOT NULL, generation BIGINT NOT NULL,"
    " expires_at DOUBLE PRECISION NOT NULL, PRIMARY KEY (name, replica))",
)
# Leases are timed by the server's clock (extract(epoch from clock_timestamp())), so that
# every replica's lease is timed by one clock.


class PostgresKeySequenceStore:
    """The key sequence in PostgreSQL: three small tables, ``name`` keeping sequences apart.

    The lease is a row taken by an upsert that succeeds only for its holder or once it has
    expired (by the server's clock); a write locks the lease and sequence rows
    (``SELECT ... FOR UPDATE``) in one transaction, so the fencing is the Redis store's.
    One connection, used by one thread at a time; a failed connection is opened again at
    the next call.
    """

    def __init__(self, url: str, *, name: str = "gateway", connect_timeout: float = 5.0) -> None:
        if not name or len(name) > 128:
            raise MisuseError("a key sequence name is 1..128 characters")
        self._url, self._name, self._timeout = url, name, connect_timeout
        self._lock = threading.Lock()
        self._conn: Any = None
        self._run(lambda conn: [conn.execute(sql) for sql in _PG_SCHEMA])

    def _run(self, fn: Callable[[Any], _T]) -> _T:
        import psycopg

        with self._lock:
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = psycopg.connect(
                        self._url, autocommit=True, connect_timeout=int(self._timeout)
                    )
                return fn(self._conn)
            except psycopg.Error as exc:
                if self._conn is not None and not self._conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        self._conn.close()
                self._conn = None
                raise StoreError(
                    f"key sequence store: PostgreSQL failed ({type(exc).__name__})"
                ) from None

    def acquire(self, holder: str, ttl: float) -> bool:
        """One upsert: take the free or expired lease, or extend our own."""
        _check_holder(holder, ttl)
        sql = (
            "INSERT INTO privproc_keyseq_lease(name, holder, expires_at)"
            " VALUES (%s, %s, extract(epoch from clock_timestamp()) + %s)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
            " expires_at = excluded.expires_at"
            " WHERE privproc_keyseq_lease.holder = excluded.holder"
            " OR privproc_keyseq_lease.expires_at <= extract(epoch from clock_timestamp())"
            " RETURNING holder"
        )
        row = self._run(lambda c: c.execute(sql, (self._name, holder, ttl)).fetchone())
        return row is not None

    def release(self, holder: str) -> None:
        """Delete the lease only if ``holder`` still has it."""
        _check_holder(holder, 1)
        sql = "DELETE FROM privproc_keyseq_lease WHERE name = %s AND holder = %s"
        self._run(lambda c: c.execute(sql, (self._name, holder)))

    def load(self) -> KeySequence | None:
        """The stored record."""
        sql = "SELECT body FROM privproc_keyseq WHERE name = %s"
        row = self._run(lambda c: c.execute(sql, (self._name,)).fetchone())
        return None if row is None else decode_sequence(bytes(row[0]))

    def save(self, holder: str, seq: KeySequence) -> None:
        """Lease check, generation check and write in one transaction."""
        _check_holder(holder, 1)
        body = encode_sequence(seq)

        def write(conn: Any) -> int:
            with conn.transaction():
                lease = conn.execute(
                    "SELECT holder FROM privproc_keyseq_lease WHERE name = %s"
                    " AND expires_at > extract(epoch from clock_timestamp()) FOR UPDATE",
                    (self._name,),
                ).fetchone()
                if lease is None or lease[0] != holder:
                    return -1
                row = conn.execute(
                    "SELECT generation FROM privproc_keyseq WHERE name = %s FOR UPDATE",
                    (self._name,),
                ).fetchone()
                if (0 if row is None else int(row[0])) + 1 != seq.generation:
                    return -2
                conn.execute(
                    "INSERT INTO privproc_keyseq(name, generation, body) VALUES (%s, %s, %s)"
                    " ON CONFLICT (name) DO UPDATE SET generation = excluded.generation,"
                    " body = excluded.body",
                    (self._name, seq.generation, body),
                )
                return 1

        result = self._run(write)
        if result == -1:
            raise LeaseLostError(f"key sequence: {holder} no longer holds the lease")
        if result == -2:
            raise LeaseLostError(
                f"key sequence: generation {seq.generation} does not follow the stored one"
            )

    def report_loaded(self, replica: str, generation: int, ttl: float) -> None:
        """Upsert the replica's row with its expiry."""
        _check_holder(replica, ttl)
        sql = (
            "INSERT INTO privproc_keyseq_replica(name, replica, generation, expires_at)"
            " VALUES (%s, %s, %s, extract(epoch from clock_timestamp()) + %s)"
            " ON CONFLICT (name, replica) DO UPDATE"
            " SET generation = excluded.generation, expires_at = excluded.expires_at"
        )
        self._run(lambda c: c.execute(sql, (self._name, replica, generation, ttl)))

    def loaded(self) -> dict[str, int]:
        """The rows not yet expired."""
        sql = (
            "SELECT replica, generation FROM privproc_keyseq_replica"
            " WHERE name = %s AND expires_at > extract(epoch from clock_timestamp())"
        )
        rows = self._run(lambda c: c.execute(sql, (self._name,)).fetchall())
        return {str(r): int(g) for r, g in rows}

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
