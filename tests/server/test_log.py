"""The decision log: one JSON line per request, in order, written in few system calls."""

from __future__ import annotations

import io

import orjson

from webhook.server.state import PENDING_LINES, JsonLog


class _Recorder(io.RawIOBase):
    """An unbuffered stream, like standard error: every write reaches it as is."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.writes.append(bytes(data))
        return len(data)


def _decide(log: JsonLog, uid: str) -> None:
    log.decision(
        endpoint="validate", uid=uid, kind="TrainingJob", namespace="ml", name=f"job-{uid}",
        operation="CREATE", decision="allowed", findings=(), patched=0, dry_run=False,
        seconds=0.001,
    )  # fmt: skip


def test_decisions_come_out_whole_and_in_order_before_the_next_event() -> None:
    stream = _Recorder()
    log = JsonLog(stream)  # type: ignore[arg-type]
    count = PENDING_LINES + 50
    for number in range(count):
        _decide(log, str(number))
    log("policy-reloaded", policies=["baseline"])

    lines = b"".join(stream.writes).splitlines()
    records = [orjson.loads(line) for line in lines]
    assert [r["uid"] for r in records[:count]] == [str(n) for n in range(count)]
    assert {r["event"] for r in records[:count]} == {"decision"}
    assert records[count]["event"] == "policy-reloaded"
    assert len(records) == count + 1
    # Standard error is unbuffered: lines are joined, not one system call per request.
    assert len(stream.writes) <= count // 16
