"""sealed: values that hold a data key or plaintext never show them in repr()."""

from __future__ import annotations

from privproc.sealed import SUITE, open_request, seal_request

CANARY = b"canary-plaintext-2e6f"


def test_request_secret_and_opened_request_hide_key_and_payload() -> None:
    sk, pk = SUITE.kem.derive_key_pair(b"\x05" * 32)
    sealed, secret = seal_request(CANARY, [pk])
    opened = open_request(sealed, sk, pk)
    assert opened.payload == CANARY
    shown = repr(secret) + str(secret) + repr(opened) + str(opened)
    for hidden in (CANARY, secret.data_key, opened.data_key, sealed):
        assert repr(hidden) not in shown
        assert hidden.hex() not in shown
    assert repr(opened.key_id) in shown  # public: which node key answered
