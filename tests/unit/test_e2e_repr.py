"""Values of the end-to-end parties that hold secrets or content hide them from ``repr()``."""

from __future__ import annotations

from pathlib import Path

from privproc.client.report import ReportEntry
from privproc.client.sdk import Answer
from privproc.gateway.service import GatewaySetup


def test_gateway_setup_repr_hides_ledger_token_and_redis_url() -> None:
    setup = GatewaySetup(
        nodes=("http://127.0.0.1:1",),
        issuer_url="http://127.0.0.1:2",
        issuer_name="issuer.example",
        origin="gateway.example",
        ledger_url="http://127.0.0.1:3",
        ledger_token="s3cret-append-token",
        publisher=Path("publisher.key"),
        spent=Path("spent.sqlite"),
        redis_url="redis://:hunter2@127.0.0.1:6379/0",
    )
    text = repr(setup)
    assert "s3cret-append-token" not in text
    assert "hunter2" not in text
    assert "ledger_url='http://127.0.0.1:3'" in text


def test_answer_repr_hides_the_result() -> None:
    entry = ReportEntry(
        time="2026-11-23T00:00:00Z",
        feature="summarize",
        sealed_bytes=1024,
        named=(),
        answered_by="node-1",
        measurement="00" * 48,
        release_index=1,
        checkpoint_size=2,
        key_config_id=1,
        key_config_index=3,
    )
    answer = Answer(result={"summary": {"text": "canary-plaintext"}}, report=entry)
    assert "canary-plaintext" not in repr(answer)
    assert "node-1" in repr(answer)
