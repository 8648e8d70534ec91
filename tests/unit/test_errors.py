"""The one exception tree: its shape, its docstring, and what errors say."""

from __future__ import annotations

import inspect

from privproc import errors


def test_every_error_is_drawn_in_the_docstring_and_rooted() -> None:
    doc = errors.__doc__ or ""
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.PrivprocError)
        assert name in doc, f"{name} missing from the drawn tree"


def test_crypto_errors_say_nothing() -> None:
    assert str(errors.OpenError()) == "decryption failed"
    assert "secret" not in str(errors.CryptoError())


def test_verification_error_names_check_expected_found() -> None:
    exc = errors.AttestationError("sevsnp.tcb", "TCB too low", expected="7", found="3")
    assert exc.check == "sevsnp.tcb"
    assert str(exc) == "sevsnp.tcb: TCB too low (expected 7, found 3)"


def test_http_status_hints() -> None:
    assert errors.DecodeError("x").http_status == 400
    assert errors.QuotaError("x").http_status == 429
    assert errors.StoreError("x").http_status == 503
    assert all(inspect.isclass(getattr(errors, n)) for n in errors.__all__)
