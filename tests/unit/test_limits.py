"""privproc.limits: every party's limit holds the largest message of the layer inside it."""

from __future__ import annotations

import pytest

from privproc import limits
from privproc.errors import MisuseError
from privproc.sealed import SUITE, open_request, seal_request
from tests._largest import largest_encapsulated, largest_sealed, node_keys


@pytest.mark.parametrize("bucket", limits.BUCKETS)
def test_sealed_request_size_is_exact(bucket: int) -> None:
    keys = node_keys()
    assert len(largest_sealed(bucket, keys)) == limits.sealed_request_size(bucket, len(keys))


@pytest.mark.parametrize("bucket", limits.BUCKETS)
def test_sealed_response_size_is_exact(bucket: int) -> None:
    sk, pk = SUITE.kem.generate_key_pair()
    sealed, _secret = seal_request(b"q", [pk])
    opened = open_request(sealed, sk, pk)
    answer = opened.seal_response(b"a" * limits.bucket_capacity(bucket))
    assert len(answer) == limits.sealed_response_size(bucket)


def test_payload_over_the_last_bucket_is_refused() -> None:
    with pytest.raises(MisuseError, match=str(limits.MAX_PAYLOAD)):
        seal_request(b"x" * (limits.MAX_PAYLOAD + 1), node_keys(1))


@pytest.mark.parametrize("bucket", limits.BUCKETS)
def test_largest_encapsulated_request_fits_gateway_and_relay(bucket: int) -> None:
    size = len(largest_encapsulated(bucket, node_keys()))
    assert size <= limits.MAX_OHTTP_REQUEST
    assert size <= limits.GATEWAY_MAX_REQUEST
    assert size <= limits.RELAY_MAX_BODY


def test_limits_nest() -> None:
    assert limits.MAX_SEALED_REQUEST < limits.MAX_OHTTP_REQUEST <= limits.RELAY_MAX_BODY
    assert limits.MAX_SEALED_RESPONSE < limits.MAX_OHTTP_RESPONSE <= limits.RELAY_MAX_BODY
    assert tuple(sorted(limits.BUCKETS)) == limits.BUCKETS
