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


def test_errors_live_in_the_one_tree() -> None:
    """No module but errors.py defines an exception of its own (STYLE.md §3).

    Every package and top-level module is walked (services, enclave, relay,
    directory, ``_http``...); ``__main__`` modules are skipped (importing one runs it).
    """
    import importlib
    import pkgutil

    import privproc

    stray = []
    walked = set()
    for info in pkgutil.walk_packages(privproc.__path__, prefix="privproc."):
        if info.name == "privproc.errors" or info.name.endswith("__main__"):
            continue
        walked.add(info.name.split(".")[1])
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == info.name
            ):
                stray.append(f"{info.name}.{name}")
    assert stray == []
    assert {"_http", "gateway", "relay", "enclave", "directory", "workloads"} <= walked


def test_service_errors_keep_their_status_and_code() -> None:
    from privproc.enclave import worker

    assert worker.ChildFailedError is errors.ChildFailedError
    assert (errors.TooLargeError("x").http_status, errors.TooLargeError.code) == (413, "too-large")
    assert issubclass(errors.TooLargeError, errors.DecodeError)
    limited = errors.RateLimitedError("x")
    assert (limited.http_status, limited.code) == (429, "rate-limited")
    assert isinstance(limited, errors.QuotaError)
    ready = errors.NotReadyError("x")
    assert (ready.http_status, ready.code, isinstance(ready, errors.StoreError)) == (
        503,
        "not-ready",
        True,
    )
    refused = errors.NodeRefusedError(422, "unknown-key")
    assert (refused.http_status, refused.code, refused.status) == (502, "unknown-key", 422)
    assert errors.NodeRefusedError(500, "not a token!").code == "remote-error"
    assert isinstance(refused, errors.RemoteError)
    child = errors.ChildFailedError("timeout")
    assert (child.http_status, child.code) == (500, "timeout")
    assert errors.ChildFailedError("policy", 403).http_status == 403
    assert errors.MediaTypeError("x").http_status == 415


def test_witness_and_issuer_errors_keep_their_status() -> None:
    from privproc.ledger import tlog_witness as protocol

    assert protocol.UnknownLogError is errors.UnknownLogError
    assert errors.UnknownLogError("x").http_status == 404
    assert issubclass(errors.UnknownLogError, errors.UnknownKeyError)
    conflict = errors.SizeConflictError("witness.old_size", "m", known_size=7, found=3)
    assert (conflict.http_status, conflict.known_size, conflict.expected) == (409, 7, 7)
    assert issubclass(errors.SizeConflictError, errors.ForkError)
    assert errors.BadConsistencyError("c", "m").http_status == 422
    assert issubclass(errors.BadConsistencyError, errors.ProofError)
    assert errors.BadTokenRequestError("x").http_status == 422
    assert errors.MediaTypeError("x").http_status == 415
