"""One error path: every party's refusal is an RFC 9457 problem, and the device's one
decoder (privproc.problem.decode_problem) turns each back into an exception of the tree."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc import bhttp, errors
from privproc._http import problem_response
from privproc.enclave.features import run_feature
from privproc.errors import (
    PolicyError,
    PrivprocError,
    RemoteError,
    ReplayError,
    TokenError,
    UnknownKeyError,
    VerificationError,
)
from privproc.gateway.app import problem_bhttp
from privproc.problem import PROBLEM_JSON, decode_problem, encode_problem, problem_document


def _tree() -> Iterator[type[PrivprocError]]:
    todo: list[type[PrivprocError]] = [PrivprocError]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__ == errors.__name__:
            yield cls


def _instance(cls: type[PrivprocError]) -> PrivprocError:
    if cls is errors.SizeConflictError:
        return cls("test.check", "refused", known_size=2, found=3)
    if issubclass(cls, VerificationError):
        return cls("test.check", "refused")
    if cls is errors.NodeRefusedError:
        return cls(403, "policy")
    if issubclass(cls, RemoteError):
        return cls("refused", status=502)
    try:
        return cls("refused")
    except TypeError:
        pytest.skip(f"{cls.__name__} takes other arguments")


_EXPECTED: dict[str, type[PrivprocError]] = {
    "replay": ReplayError,
    "bad-token": TokenError,
    "policy": PolicyError,
}


class _NoModel:
    name = "none"

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        raise AssertionError("a refused request reaches no model")


_CLASSES = sorted(_tree(), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", _CLASSES, ids=[c.__name__ for c in _CLASSES])
def test_every_error_of_the_tree_round_trips_through_every_encoding(
    cls: type[PrivprocError],
) -> None:
    exc = _instance(cls)
    http = problem_response(exc)
    inner = problem_bhttp(exc)
    assert http.headers["content-type"] == PROBLEM_JSON
    assert bhttp.decode(bhttp.encode(inner)).content == bytes(http.body)
    for status, body in ((http.status_code, bytes(http.body)), (inner.status, inner.content)):
        decoded = decode_problem(status, body, where="peer")
        expected = _EXPECTED.get(exc.code)
        if expected is not None:
            assert isinstance(decoded, expected)
        elif exc.http_status != 401:
            assert isinstance(decoded, RemoteError)
            assert decoded.problem == exc.code
            assert decoded.status == exc.http_status


def test_the_node_answers_a_refusal_with_the_same_problem() -> None:
    answer = json.loads(run_feature(b"not json", _NoModel()))
    assert answer == {"error": problem_document(errors.DecodeError("payload is not JSON"))}
    decoded = decode_problem(answer["error"]["status"], answer["error"], where="the node")
    assert isinstance(decoded, RemoteError)
    assert (decoded.problem, decoded.status) == ("decode-error", 400)


def test_a_peers_unknown_tone_is_a_peer_error_not_internal() -> None:
    payload = {"feature": "rewrite", "draft": "hi", "tones": ["sarcastic"], "language": None}
    answer = json.loads(run_feature(json.dumps(payload).encode(), _NoModel()))
    assert answer["error"]["title"] == "decode-error"
    assert answer["error"]["status"] == 400


def test_key_problem_and_policy_map_to_their_checks() -> None:
    key = {"type": "https://iana.org/assignments/http-problem-types#ohttp-key", "title": "x"}
    assert isinstance(decode_problem(400, json.dumps(key).encode(), where="g"), UnknownKeyError)
    policy = decode_problem(403, encode_problem(PolicyError("x", "y")), where="node")
    assert isinstance(policy, PolicyError)
    assert policy.check == "node.policy"


@given(st.integers(min_value=100, max_value=599), st.binary(max_size=5000))
def test_any_body_decodes_to_an_error_of_the_tree(status: int, body: bytes) -> None:
    assert isinstance(decode_problem(status, body, where="peer"), PrivprocError)


@given(
    st.recursive(
        st.none() | st.integers() | st.text(), lambda c: st.lists(c) | st.dictionaries(st.text(), c)
    )
)
def test_any_parsed_error_object_decodes(doc: object) -> None:
    assert isinstance(decode_problem(422, doc, where="the node"), PrivprocError)
