"""The ASGI application in process: failures fail closed, and large reviews leave the loop free.

Each test drives the application as uvicorn does (scope, receive, send) and
asserts what the API server would read: the status, ``allowed``, the code,
the message; and what an operator would read: the log line.
"""

from __future__ import annotations

import asyncio
import copy
import io
import json
import threading
import time
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, admission_review
from webhook.engine import Config
from webhook.policy.load import baseline_policy
from webhook.server import admission
from webhook.server import app as app_module
from webhook.server.app import MAX_BODY_BYTES, build_app
from webhook.server.state import JsonLog, ServerState
from webhook.server.worker import OFF_LOOP_BYTES

VALID: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
WAIT = 5.0
"""Seconds any test waits for anything."""


class Served:
    """An application on a fresh state, with its log readable."""

    def __init__(self) -> None:
        self.stream = io.BytesIO()
        self.state = ServerState.load([baseline_policy()], log=JsonLog(self.stream))
        self.app = build_app(self.state)

    def log(self) -> list[dict[str, Any]]:
        self.state.log.flush()
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    async def call(
        self,
        path: str,
        messages: Iterable[dict[str, Any]],
        *,
        method: str = "POST",
        headers: Iterable[tuple[bytes, bytes]] = (),
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        """The status, headers and body the application sends for the request *messages*."""
        pending = list(messages)
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if pending:
                return pending.pop(0)
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(dict(message))

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "https",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": list(headers),
            "server": ("localhost", 8443),
            "client": ("127.0.0.1", 50000),
        }
        await self.app(scope, receive, send)
        if not sent:
            return 0, {}, b""
        start, *body = sent
        return start["status"], dict(start["headers"]), b"".join(m.get("body", b"") for m in body)

    async def post(self, path: str, body: bytes) -> tuple[int, dict[str, Any]]:
        status, _, content = await self.call(
            path, [{"type": "http.request", "body": body, "more_body": False}]
        )
        return status, json.loads(content)


def _review(job: dict[str, Any] | None = None, **request: Any) -> bytes:
    return json.dumps(admission_review(job or copy.deepcopy(VALID), "team-a", **request)).encode()


def _large_review(uid: str) -> bytes:
    """A review well over OFF_LOOP_BYTES (its job has a long annotation)."""
    job = copy.deepcopy(VALID)
    job["metadata"]["annotations"] = {"notes": "x" * (4 * OFF_LOOP_BYTES)}
    return _review(job, uid=uid)


@pytest.fixture
def served() -> Served:
    return Served()


# --- a bug fails closed ------------------------------------------------------------------------


def _boom(request: Any, config: Config, labels: Any = None) -> admission.Answer:
    raise RuntimeError("a bug in a check")


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("path", ["/validate", "/mutate"])
def test_a_handler_that_raises_denies_with_500_and_logs_it(
    served: Served, monkeypatch: pytest.MonkeyPatch, path: str, size: str
) -> None:
    monkeypatch.setitem(app_module.HANDLERS, path, _boom)
    served.state.fast_path = None  # the handler decides every review
    body = _review(uid="u-boom") if size == "small" else _large_review("u-boom")

    status, review = asyncio.run(served.post(path, body))

    assert status == 200
    response = review["response"]
    assert response["uid"] == "u-boom"
    assert response["allowed"] is False
    assert response["status"]["code"] == 500
    assert response["status"]["message"] == "trainingjob-guard failed: see its log"
    [error] = [r for r in served.log() if r["event"] == "internal-error"]
    assert error["level"] == "error"
    assert error["uid"] == "u-boom"
    assert "a bug in a check" in error["error"]
    [decision] = [r for r in served.log() if r["event"] == "decision"]
    assert (decision["uid"], decision["decision"]) == ("u-boom", "error")


@pytest.mark.parametrize("size", ["small", "large"])
def test_a_bug_outside_the_handler_is_an_http_500_and_logged(
    served: Served, monkeypatch: pytest.MonkeyPatch, size: str
) -> None:
    def broken(data: object) -> Any:
        raise KeyError("request")

    monkeypatch.setattr(app_module, "parse_request", broken)
    served.state.fast_path = None
    body = _review(uid="u-1") if size == "small" else _large_review("u-1")

    status, answer = asyncio.run(served.post("/validate", body))

    assert status == 500
    assert answer == {"error": "trainingjob-guard failed: see its log"}
    [error] = [r for r in served.log() if r["event"] == "internal-error"]
    assert "KeyError" in error["error"]


# --- the body limit ----------------------------------------------------------------------------


def _chunks(body: bytes, size: int = 64 * 1024) -> list[dict[str, Any]]:
    """*body* in *size* pieces, as a chunked upload (no Content-Length) reaches the app."""
    pieces = [body[start : start + size] for start in range(0, len(body), size)]
    return [
        {"type": "http.request", "body": piece, "more_body": n < len(pieces) - 1}
        for n, piece in enumerate(pieces)
    ]


def _padded(body: bytes, size: int) -> bytes:
    """*body* (a JSON object) with blanks before its closing brace, *size* bytes in all."""
    return body[:-1] + b" " * (size - len(body)) + body[-1:]


def test_a_chunked_body_over_the_limit_without_content_length_is_413(served: Served) -> None:
    messages = _chunks(_padded(_review(uid="u-big"), MAX_BODY_BYTES + 1))
    status, headers, content = asyncio.run(served.call("/validate", messages))
    assert status == 413
    assert headers[b"connection"] == b"close"
    assert json.loads(content) == {"error": f"body over {MAX_BODY_BYTES} bytes"}


def test_a_chunked_body_at_the_limit_is_read_whole_and_decided(served: Served) -> None:
    messages = _chunks(_padded(_review(uid="u-big"), MAX_BODY_BYTES))
    status, _, content = asyncio.run(served.call("/validate", messages))
    assert status == 200
    assert json.loads(content)["response"] == {"uid": "u-big", "allowed": True}


def test_a_body_cut_off_is_not_decided(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    decided: list[tuple[object, ...]] = []

    def decide(*args: object) -> None:
        decided.append(args)

    monkeypatch.setattr(app_module, "_decide", decide)
    body = _review()
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": body[:100], "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert asyncio.run(served.call("/validate", messages)) == (0, {}, b"")
    assert decided == []


# --- strict fields -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["true", 1, "false", 0, None])
def test_dry_run_that_is_no_boolean_is_refused_naming_the_field(served: Served, value: Any) -> None:
    status, review = asyncio.run(served.post("/validate", _review(uid="u-2", dryRun=value)))
    assert status == 200
    response = review["response"]
    assert (response["uid"], response["allowed"]) == ("u-2", False)
    assert response["status"]["code"] == 400
    assert "request.dryRun: Input should be a valid boolean" in response["status"]["message"]


def test_an_empty_uid_is_refused_naming_the_field(served: Served) -> None:
    status, answer = asyncio.run(served.post("/validate", _review(uid="")))
    assert status == 400
    assert "invalid AdmissionReview: request.uid: " in answer["error"]


# --- large reviews off the loop ----------------------------------------------------------------


def test_a_large_review_is_decided_off_the_loop_and_counted_on_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: dict[str, str] = {}

    def mutate(request: Any, config: Config, labels: Any = None) -> admission.Answer:
        threads[request["uid"]] = threading.current_thread().name
        return admission.mutate(request, config, labels)

    observed: list[str] = []
    observe = served.state.metrics.observe

    def observe_where(*args: Any) -> None:
        observed.append(threading.current_thread().name)
        observe(*args)

    monkeypatch.setitem(app_module.HANDLERS, "/mutate", mutate)
    monkeypatch.setattr(served.state.metrics, "observe", observe_where)

    async def both() -> list[tuple[int, dict[str, Any]]]:
        return [
            await served.post("/mutate", _review(uid="small")),
            await served.post("/mutate", _large_review("large")),
        ]

    answers = asyncio.run(both())

    assert [(status, r["response"]["uid"]) for status, r in answers] == [
        (200, "small"),
        (200, "large"),
    ]
    loop = threading.current_thread().name
    assert threads["small"] == loop  # in its turn's batch
    assert threads["large"] != loop
    assert threads["large"].startswith("decide")
    assert observed == [loop, loop]  # metrics and the decision log stay on the loop
    assert [r["uid"] for r in served.log() if r["event"] == "decision"] == ["small", "large"]


def test_the_loop_answers_while_a_large_review_is_being_decided(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The large review's check waits until /healthz and a small review are answered: were it
    decided on the loop, neither could be, and the check would give up waiting."""
    started, release = threading.Event(), threading.Event()
    waited: list[bool] = []

    def slow_mutate(request: Any, config: Config, labels: Any = None) -> admission.Answer:
        if request["uid"] == "large":
            started.set()
            waited.append(release.wait(WAIT))
        return admission.mutate(request, config, labels)

    monkeypatch.setitem(app_module.HANDLERS, "/mutate", slow_mutate)

    async def scenario() -> tuple[list[int], float]:
        large = asyncio.create_task(served.post("/mutate", _large_review("large")))
        await _until(started.is_set)
        begin = time.perf_counter()
        health = await served.call("/healthz", [], method="GET")
        small = await served.post("/mutate", _review(uid="small"))
        elapsed = time.perf_counter() - begin
        release.set()
        done = await large
        return [health[0], small[0], done[0]], elapsed

    statuses, elapsed = asyncio.run(scenario())
    assert statuses == [200, 200, 200]
    assert waited == [True]
    assert elapsed < WAIT


async def _until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "not within the wait"
        await asyncio.sleep(0.001)


def test_reviews_at_the_threshold_stay_in_the_batch(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def mutate(request: Any, config: Config, labels: Any = None) -> admission.Answer:
        threads.append(threading.current_thread().name)
        return admission.IGNORED

    monkeypatch.setitem(app_module.HANDLERS, "/mutate", mutate)
    body = _padded(_review(uid="edge"), OFF_LOOP_BYTES)
    assert asyncio.run(served.post("/mutate", body))[0] == 200
    assert threads == [threading.current_thread().name]
