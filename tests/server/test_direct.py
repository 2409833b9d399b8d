"""Admission requests answered by their connection (:mod:`webhook.server.direct`).

The server's protocol hands a small, whole ``POST /validate`` or ``/mutate``
straight to the decision and writes the answer itself; every other request
goes through the ASGI application. These tests drive the protocol the server
runs, on a real uvicorn configuration, a real event loop and the bundled
baseline policy, through a transport that records each write. What they hold:
the lane's answer is byte for byte the application's; requests the lane does
not take reach the application; pipelined answers keep their order; a client
that leaves, asks to close, or a server that shuts down, are handled as
uvicorn handles them; a bug in a decision is a 500 with a message, not a
silence.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import io
import json
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import orjson
import pytest
import uvicorn
import yaml
from uvicorn.server import ServerState as UvicornState

from tests.conftest import EXAMPLES, admission_review
from tests.server.test_writes import Recorder
from webhook.policy.load import baseline_policy
from webhook.server import app as app_module
from webhook.server.app import Admissions, build_app
from webhook.server.direct import protocol
from webhook.server.limits import Limits
from webhook.server.state import JsonLog, ServerState
from webhook.server.worker import OFF_LOOP_BYTES

VALID: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
INVALID: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job-invalid.yaml").read_text())
WAIT = 5.0


def review(job: Mapping[str, Any] = VALID, uid: str = "u-1", **request: Any) -> bytes:
    return orjson.dumps(admission_review(copy.deepcopy(job), "team-a", uid=uid, **request))


def request(
    body: bytes, path: str = "/validate", *, method: str = "POST", headers: bytes = b""
) -> bytes:
    head = b"%s %s HTTP/1.1\r\nhost: guard\r\ncontent-type: application/json\r\n" % (
        method.encode(),
        path.encode(),
    )
    return head + b"content-length: %d\r\n" % len(body) + headers + b"\r\n" + body


class Connection:
    """One connection of the server's protocol, with or without the lane, on a recorder."""

    def __init__(self, state: ServerState, *, lane: bool = True, max_body: int | None = None):
        self.admissions = Admissions(state, *(() if max_body is None else (max_body,)))
        inner = build_app(state, self.admissions.max_body, self.admissions)
        self.app_paths: list[str] = []
        paths = self.app_paths  # not self: the protocol must not hold its test's connection

        async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
            paths.append(scope.get("path", ""))
            await inner(scope, receive, send)

        config = uvicorn.Config(app, lifespan="off", log_config=None)
        config.load()
        self.server_state = UvicornState()
        self.server_state.default_headers = [(b"date", b"Mon, 30 Nov 2026 12:00:00 GMT")]
        kind = protocol(Limits(), state.log, self.admissions if lane else None)
        self.protocol = kind(config=config, server_state=self.server_state, app_state={})
        self.transport = Recorder()
        self.protocol.connection_made(self.transport)

    async def send(self, data: bytes, *, answers: int = 1) -> list[bytes]:
        """Feed *data*; wait for *answers* more writes (or for the connection to close)."""
        before = len(self.transport.writes)
        self.protocol.data_received(data)
        return await self.wait(before + answers)

    async def wait(self, writes: int) -> list[bytes]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while len(self.transport.writes) < writes and loop.time() < deadline:
            await asyncio.sleep(0.001)
        return self.transport.writes


def answer(write: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    """Status, headers and body of one written answer."""
    head, _, body = write.partition(b"\r\n\r\n")
    status_line, *lines = head.split(b"\r\n")
    headers = dict(line.split(b": ", 1) for line in lines)
    assert int(headers[b"content-length"]) == len(body)
    return int(status_line.split()[1]), headers, body


@pytest.fixture
def state() -> ServerState:
    return ServerState.load([baseline_policy()], log=JsonLog(io.BytesIO()))


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def _log(state: ServerState) -> list[dict[str, Any]]:
    state.log.flush()
    stream = state.log._stream
    assert isinstance(stream, io.BytesIO)
    return [json.loads(line) for line in stream.getvalue().splitlines()]


BODIES: dict[str, bytes] = {
    "allowed": review(),
    "denied": review(INVALID),
    "mutate": review(),
    "not JSON": b"{not json",
    "no AdmissionReview": b"[]",
    "v1beta1": orjson.dumps({**orjson.loads(review()), "apiVersion": "admission.k8s.io/v1beta1"}),
    "no uid": review(uid=""),
    "a DELETE": review(operation="DELETE", oldObject=VALID, object=None),
}


@pytest.mark.parametrize("case", list(BODIES))
def test_the_lane_answers_what_the_application_answers(state: ServerState, case: str) -> None:
    """Every kind of answer, allowed, denied, patched and refused, is the application's."""
    path = "/mutate" if case == "mutate" else "/validate"

    async def main() -> tuple[Connection, Connection]:
        direct, through_app = Connection(state), Connection(state, lane=False)
        await direct.send(request(BODIES[case], path))
        await through_app.send(request(BODIES[case], path))
        return direct, through_app

    direct, through_app = run(main())
    assert direct.app_paths == []
    assert through_app.app_paths == [path]
    [mine], [theirs] = direct.transport.writes, through_app.transport.writes
    status, headers, body = answer(mine)
    assert (status, body) == answer(theirs)[::2]
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"date"] == b"Mon, 30 Nov 2026 12:00:00 GMT"  # uvicorn's default headers
    assert not direct.transport.closed
    assert direct.server_state.total_requests == 1
    if case == "denied":
        message = orjson.loads(body)["response"]["status"]["message"]
        assert "spec.resourceConfig.instanceType" in message


def test_the_decision_is_counted_and_logged(state: ServerState) -> None:
    async def main() -> None:
        await Connection(state).send(request(review(uid="u-logged")))

    run(main())
    [line] = [r for r in _log(state) if r.get("event") == "decision"]
    assert (line["uid"], line["decision"], line["endpoint"]) == ("u-logged", "allowed", "validate")
    assert state.metrics.render().count(b'decision="allowed",endpoint="validate"') == 1


def test_pipelined_requests_are_answered_in_order(state: ServerState) -> None:
    first, second = request(review(INVALID, uid="u-first")), request(review(uid="u-second"))

    async def main() -> list[bytes]:
        connection = Connection(state)
        return await connection.send(first + second, answers=2)

    writes = run(main())
    uids = [orjson.loads(answer(w)[2])["response"]["uid"] for w in writes]
    assert uids == ["u-first", "u-second"]


def test_a_request_the_application_answers_keeps_its_place_in_the_pipeline(
    state: ServerState,
) -> None:
    """A ``/healthz`` before a review on the same connection is answered first."""
    health = b"GET /healthz HTTP/1.1\r\nhost: guard\r\n\r\n"

    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(health + request(review(uid="u-after")), answers=2)
        return connection

    connection = run(main())
    health_answer, review_answer = (
        connection.transport.writes[0],
        b"".join(connection.transport.writes[1:]),
    )
    assert health_answer.startswith(b"HTTP/1.1 200")
    assert b'"ok"' in health_answer.lower()
    assert b'"u-after"' in review_answer
    assert connection.app_paths == ["/healthz"]


BIG = copy.deepcopy(VALID)
BIG["metadata"]["annotations"] = {"notes": "x" * (OFF_LOOP_BYTES + 1)}

NOT_TAKEN: dict[str, tuple[bytes, int]] = {
    "Expect: 100-continue": (request(review(), headers=b"expect: 100-continue\r\n"), 200),
    "a GET": (request(b"", method="GET"), 405),
    "a body for the worker": (request(review(BIG)), 200),
    "a body over the limit": (request(review()), 413),
}


@pytest.mark.parametrize("case", list(NOT_TAKEN))
def test_requests_the_lane_does_not_take_reach_the_application(
    state: ServerState, case: str
) -> None:
    data, status = NOT_TAKEN[case]
    max_body = 100 if case == "a body over the limit" else None

    async def main() -> Connection:
        connection = Connection(state, max_body=max_body)
        writes = 2 if case.startswith("Expect") else 1  # "100 Continue" first
        await connection.send(data, answers=writes)
        return connection

    connection = run(main())
    assert connection.app_paths == ["/validate"]
    final = b"".join(connection.transport.writes).split(b"HTTP/1.1 ")[-1]
    assert final.startswith(b"%d " % status)


def test_a_chunked_body_reaches_the_application(state: ServerState) -> None:
    body = review(uid="u-chunked")
    data = (
        b"POST /validate HTTP/1.1\r\nhost: guard\r\ntransfer-encoding: chunked\r\n\r\n"
        b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    )

    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(data)
        return connection

    connection = run(main())
    assert connection.app_paths == ["/validate"]
    assert b'"u-chunked"' in b"".join(connection.transport.writes)


def test_a_transport_that_asks_to_stop_writing_sends_requests_to_the_application(
    state: ServerState,
) -> None:
    """The application's ``send`` waits for the client to read; the lane would not."""

    async def main() -> Connection:
        connection = Connection(state)
        connection.protocol.pause_writing()
        connection.protocol.data_received(request(review()))
        await asyncio.sleep(0.05)
        assert connection.transport.writes == []  # waiting for the client, not growing a buffer
        connection.protocol.resume_writing()
        await connection.wait(1)
        return connection

    connection = run(main())
    assert connection.app_paths == ["/validate"]
    assert len(connection.transport.writes) == 1


def test_a_client_that_asks_to_close_gets_its_answer_then_the_close(state: ServerState) -> None:
    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(request(review(), headers=b"connection: close\r\n"))
        return connection

    connection = run(main())
    [write] = connection.transport.writes
    assert answer(write)[1][b"connection"] == b"close"
    assert connection.transport.closed


def test_a_client_gone_before_its_answer_gets_no_write(state: ServerState) -> None:
    async def main() -> Connection:
        connection = Connection(state)
        connection.protocol.data_received(request(review(uid="u-gone")))
        connection.protocol.connection_lost(None)
        await asyncio.sleep(0.05)
        return connection

    connection = run(main())
    assert connection.transport.writes == []
    assert [r["uid"] for r in _log(state) if r.get("event") == "decision"] == ["u-gone"]


def test_a_shutdown_during_a_decision_answers_then_closes(state: ServerState) -> None:
    async def main() -> Connection:
        connection = Connection(state)
        connection.protocol.data_received(request(review()))
        connection.protocol.shutdown()
        await connection.wait(1)
        return connection

    connection = run(main())
    [write] = connection.transport.writes
    status, headers, body = answer(write)
    assert status == 200
    assert headers[b"connection"] == b"close"
    assert orjson.loads(body)["response"]["allowed"] is True
    assert connection.transport.closed


def test_a_bug_in_the_decision_is_a_500_with_a_message(
    state: ServerState, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(app_module, "_decide", broken)

    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(request(review()))
        return connection

    connection = run(main())
    status, _, body = answer(connection.transport.writes[0])
    assert status == 500
    assert orjson.loads(body) == {"error": "trainingjob-guard failed: see its log"}
    assert any(r.get("event") == "internal-error" for r in _log(state))


def test_labels_not_cached_are_looked_up_off_the_loop_then_decided(state: ServerState) -> None:
    asked: list[str] = []

    def labels(namespace: str) -> Mapping[str, str] | None:
        asked.append(namespace)
        return {"team": "a"}

    state.namespace_labels = labels  # no cache: every request asks

    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(request(review(INVALID, uid="u-labels")))
        return connection

    connection = run(main())
    assert asked == ["team-a"]
    assert connection.app_paths == []
    response = orjson.loads(answer(connection.transport.writes[0])[2])["response"]
    assert (response["uid"], response["allowed"]) == ("u-labels", False)


def test_a_failing_label_lookup_is_a_500_not_a_silence(state: ServerState) -> None:
    def labels(_: str) -> Mapping[str, str] | None:
        raise OSError("the API server is away")

    lookup: Callable[[str], Mapping[str, str] | None] = labels
    state.namespace_labels = lookup

    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(request(review(INVALID)))
        return connection

    connection = run(main())
    assert answer(connection.transport.writes[0])[0] == 500


@pytest.mark.parametrize("case", ["answered", "body cut short", "gone while deciding"])
def test_a_closed_connection_is_freed_without_the_garbage_collector(
    state: ServerState, case: str
) -> None:
    """A cycle kept its connection (and the connection its cycle) alive until Python's
    rare full collection: a soak of 54,000 requests grew the server by a third."""

    async def main() -> tuple[weakref.ref[Any], list[bytes]]:
        connection = Connection(state)
        if case == "answered":
            await connection.send(request(review()))
        elif case == "body cut short":
            connection.protocol.data_received(request(review())[:-10])
        else:  # one request being decided, another pipelined behind it
            connection.protocol.data_received(request(review()) + request(review()))
        connection.protocol.connection_lost(None)
        await asyncio.sleep(0.01)
        freed, writes = weakref.ref(connection.protocol), connection.transport.writes
        del connection
        return freed, writes

    gc.disable()
    try:
        freed, writes = run(main())
        assert freed() is None
    finally:
        gc.enable()
    assert len(writes) == (1 if case == "answered" else 0)  # nothing written to a dead transport


def test_an_idle_connection_keeps_no_body(state: ServerState) -> None:
    async def main() -> Connection:
        connection = Connection(state)
        await connection.send(request(review()))
        return connection

    cycle = run(main()).protocol.cycle
    assert cycle is not None
    assert cycle.body == bytearray()


def test_a_failure_while_answering_aborts_the_connection(state: ServerState) -> None:
    """Never a connection left waiting for an answer that will not come."""
    reported: list[str] = []

    async def main() -> Connection:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: reported.append(context["message"])
        )
        connection = Connection(state)
        connection.server_state.default_headers = [(b"date", "not bytes")]  # type: ignore[list-item]
        connection.protocol.data_received(request(review()))
        await asyncio.sleep(0.01)
        return connection

    connection = run(main())
    assert connection.transport.writes == []
    assert connection.transport.closed
    assert reported == ["answering a request failed"]
