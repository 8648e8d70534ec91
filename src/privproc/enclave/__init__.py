"""The enclave node: key lifecycle, attestation, a fresh process per request, a log filter.

A node holds its HPKE key pairs in memory only, binds each public key into fresh
attestation evidence, opens sealed requests (:mod:`privproc.sealed`) in a child
process forked from a warm parent that has the model loaded, and writes nothing
to disk. Its logs pass an allow-list of content-free events (:mod:`.logfilter`).
"""

from __future__ import annotations

__all__: list[str] = []
