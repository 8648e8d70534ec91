"""One key lifecycle for every key privproc rotates (STYLE.md §10: a state machine is a table).

::

    generated --publish--> published --retire--> retiring --destroy--> destroyed
        \\_______________________destroy_________________________________/^

Three kinds of key go through it. What each state means for each:

*generated*
    node HPKE key (:mod:`privproc.enclave.keys`): made in memory, no evidence binds it yet.
    gateway OHTTP key (:mod:`privproc.gateway.keys`): made, its config not yet recorded.
    issuer token key (:mod:`privproc.issuer.keys`): made on disk (0600), not yet listed.
*published*
    node: evidence binds it; devices seal to it.
    gateway: recorded in the ledger (announced ahead, rule 4 of
    :mod:`privproc.ledger.keyconsistency`), current from ``not_before``.
    issuer: in the directory; the newest signs token responses, every one redeems.
*retiring*
    node: a newer key is published; it still opens requests sealed from a cached
    bundle for ``grace`` seconds.
    gateway: a newer config is current; it still decapsulates until ``not_after``.
    issuer: a newer key signs; it still redeems until ``not_after`` (RFC 9578 §6.5).
*destroyed*
    node: the private key object is dropped (OpenSSL clears it).
    gateway: dropped from memory and the keys file after ``not_after``.
    issuer: its ``.pem`` and ``.json`` deleted after ``not_after``.

Node keys move by events (:func:`step`); gateway and issuer keys carry a validity
window, and :func:`window_state` reads their state from it at ``now`` (the window
is what the ledger records and what the issuer directory lists, so anyone can
compute the same state). No state leads back from ``destroyed``.
"""

from __future__ import annotations

import enum

from privproc.errors import MisuseError

__all__ = ["TRANSITIONS", "USABLE", "KeyState", "step", "window_state"]


class KeyState(enum.Enum):
    """Where a key is in its life."""

    GENERATED = "generated"
    PUBLISHED = "published"
    RETIRING = "retiring"
    DESTROYED = "destroyed"


#: (state, event) -> next state. Anything not listed is a MisuseError.
TRANSITIONS: dict[tuple[KeyState, str], KeyState] = {
    (KeyState.GENERATED, "publish"): KeyState.PUBLISHED,
    (KeyState.GENERATED, "destroy"): KeyState.DESTROYED,
    (KeyState.PUBLISHED, "retire"): KeyState.RETIRING,
    (KeyState.PUBLISHED, "destroy"): KeyState.DESTROYED,
    (KeyState.RETIRING, "destroy"): KeyState.DESTROYED,
}

#: States in which a key still does its work (opens, decapsulates, redeems).
USABLE = frozenset({KeyState.PUBLISHED, KeyState.RETIRING})


def step(state: KeyState, event: str) -> KeyState:
    """The state after ``event``; a transition the table does not list is a MisuseError."""
    nxt = TRANSITIONS.get((state, event))
    if nxt is None:
        raise MisuseError(f"key lifecycle: no '{event}' from {state.value}")
    return nxt


def window_state(
    now: float, not_before: float, not_after: float, *, superseded_at: float | None
) -> KeyState:
    """The state of a windowed key (gateway, issuer) at ``now``.

    ``superseded_at``: when the next key's window starts (``None``: no next key yet).
    A published key before its ``not_before`` is announced: recorded or listed, not
    yet in use for new work. Past ``not_after`` the key is destroyed.
    """
    if not_after <= not_before:
        raise MisuseError("key lifecycle: a window ends after it starts")
    if now >= not_after:
        return KeyState.DESTROYED
    if superseded_at is not None and now >= superseded_at:
        return KeyState.RETIRING
    return KeyState.PUBLISHED
