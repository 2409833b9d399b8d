"""Slow, idle and broken clients against the real server (``serve`` as a subprocess, over TLS).

What the API server and an operator would notice: a client that stalls is
disconnected within the read timeout and the log says why; many idle
connections do not keep a review from being answered, nor cost the API
server its kept-alive connection; standard error holds only JSON lines
whatever arrives; a chunked body over the limit is refused; ``/healthz``
answers while a large review is being decided; SIGTERM does not wait for a
stalled body. The servers here run with a read timeout of one second.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.test_server_e2e import (
    REQUEST_TIMEOUT,
    VALID,
    Server,
    body_of,
    copy_baseline,
    raw_request,
    review,
    start_server,
)
from webhook.server.app import MAX_BODY_BYTES

READ_TIMEOUT = 1.0
LIMIT = 50
"""The connection limit of the server that is flooded."""


@contextlib.contextmanager
def serving(workdir: Path, *flags: str) -> Iterator[Server]:
    server = start_server(
        workdir,
        policy_dir=copy_baseline(workdir / "policies"),
        cert_dir=workdir / "certs",
        flags=["--read-timeout", str(READ_TIMEOUT), *flags],
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the default connection limit (1000)."""
    with serving(tmp_path_factory.mktemp("slow")) as started:
        yield started


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with a connection limit of LIMIT."""
    with serving(tmp_path_factory.mktemp("limited"), "--max-connections", str(LIMIT)) as started:
        yield started


def connect(server: Server, first: bytes = b"") -> ssl.SSLSocket:
    """A TLS connection, verified as the API server verifies it; *first* sent on it."""
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT)
    tls = server.ssl_context().wrap_socket(raw, server_hostname="localhost")
    if first:
        tls.sendall(first)
    return tls


def seconds_until_closed(connection: ssl.SSLSocket) -> float:
    """Read until the server closes the connection; how long that took."""
    start = time.monotonic()
    with contextlib.suppress(OSError):  # a reset, or TLS cut short: closed all the same
        while connection.recv(65536):
            pass
    return time.monotonic() - start


def dropped(server: Server, reason: str, phase: str) -> dict[str, Any]:
    return server.wait_for_log(
        lambda r: (
            r.get("event") == "connection-dropped"
            and r.get("reason") == reason
            and r.get("phase") == phase
        )
    )


def post(connection: ssl.SSLSocket, body: bytes) -> dict[str, Any]:
    """POST /validate on a kept connection; the decoded answer (the whole of it is read)."""
    connection.sendall(
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(rest) < length:
        rest += connection.recv(65536)
    answer: dict[str, Any] = json.loads(rest)
    return answer


# --- read timeout ------------------------------------------------------------------------------

HALF_A_HEADER = b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Le"
STALLED_BODY = b'POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2000\r\n\r\n{"api'


@pytest.mark.parametrize(
    ("first", "phase"),
    [(HALF_A_HEADER, "headers"), (STALLED_BODY, "body"), (b"", "request")],
    ids=["half a header", "a stalled body", "nothing after the handshake"],
)
def test_a_stalled_client_is_dropped_within_the_read_timeout(
    server: Server, first: bytes, phase: str
) -> None:
    with connect(server, first) as connection:
        seconds = seconds_until_closed(connection)
    assert READ_TIMEOUT * 0.8 < seconds < READ_TIMEOUT + 2
    record = dropped(server, "read-timeout", phase)
    assert record["level"] == "warning"
    assert record["client"].startswith("127.0.0.1:")


def test_a_client_that_never_completes_its_tls_handshake_is_dropped(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as raw:
        start = time.monotonic()
        with contextlib.suppress(OSError):
            while raw.recv(65536):
                pass
        assert time.monotonic() - start < READ_TIMEOUT + 2


def test_a_byte_between_requests_does_not_keep_a_connection(server: Server) -> None:
    """uvicorn stops the keep-alive timer on any byte; the read timeout still runs."""
    with connect(server) as connection:
        assert post(connection, body_of(review("CREATE", copy.deepcopy(VALID))))["response"]
        connection.sendall(b"\r\n")
        assert seconds_until_closed(connection) < READ_TIMEOUT + 2


# --- many connections --------------------------------------------------------------------------


def hold(server: Server, count: int) -> list[ssl.SSLSocket]:
    """*count* connections doing nothing, every other one half a header in."""
    return [connect(server, HALF_A_HEADER if n % 2 else b"") for n in range(count)]


def test_200_idle_connections_do_not_stop_a_review(server: Server) -> None:
    held = hold(server, 200)
    try:
        with server.client() as http:
            start = time.monotonic()
            reply = http.post("/validate", json=review("CREATE", copy.deepcopy(VALID)))
            elapsed = time.monotonic() - start
    finally:
        for connection in held:
            connection.close()
    assert reply.status_code == 200
    assert reply.json()["response"]["allowed"] is True
    assert elapsed < 1.0


def test_over_the_limit_idle_connections_make_room_and_a_kept_one_survives(
    limited: Server,
) -> None:
    body = body_of(review("CREATE", copy.deepcopy(VALID)))
    with connect(limited) as kept:  # the API server's: it has been answered on
        assert post(kept, body)["response"]["allowed"] is True
        held = hold(limited, 4 * LIMIT)
        try:
            with limited.client() as http:
                start = time.monotonic()
                reply = http.post("/validate", content=body)
                elapsed = time.monotonic() - start
            answer = post(kept, body)
        finally:
            for connection in held:
                connection.close()
    assert reply.status_code == 200
    assert elapsed < 1.0
    assert answer["response"]["allowed"] is True
    record = dropped(limited, "connection-limit-idle", "request")
    assert record["limit"] == LIMIT


# --- standard error ----------------------------------------------------------------------------


def test_garbage_leaves_only_json_lines_on_standard_error(server: Server) -> None:
    with connect(server, b"\x00\xff\xfe GET / \x80\x81\r\n\r\n") as connection:
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as raw:
        raw.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")  # HTTP where TLS is spoken
        with contextlib.suppress(OSError):
            raw.recv(65536)
    server.wait_for_log(lambda r: r.get("message") == "Invalid HTTP request received.")
    lines = server.log_text().splitlines()
    assert lines
    for line in lines:
        record = json.loads(line)  # every line, not only the complete ones
        assert {"time", "level", "event"} <= record.keys(), line
    [invalid] = [json.loads(line) for line in lines if "Invalid HTTP request" in line]
    assert invalid["event"] == "library-log"
    assert (invalid["level"], invalid["logger"]) == ("warning", "uvicorn.error")


def test_a_server_that_cannot_start_says_why_in_json(tmp_path: Path) -> None:
    policy = tmp_path / "broken.yaml"
    policy.write_text("id: broken\nrules: [{id: x, kind: no-such-kind}]\n")
    done = subprocess.run(
        [sys.executable, "-m", "webhook", "serve", "--port", "0", "--no-baseline",
         "--policy", str(policy), "--cert-dir", str(tmp_path / "certs")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    [record] = [json.loads(line) for line in done.stderr.splitlines()]
    assert (record["event"], record["level"]) == ("startup-failed", "error")
    assert any("broken.yaml" in error for error in record["errors"]), record


# --- the body limit ----------------------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_refused(server: Server) -> None:
    head = (
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    piece = 1024 * 1024
    chunks = b"".join(b"%x\r\n" % piece + b" " * piece + b"\r\n" for _ in range(7))
    chunks += b"1\r\n \r\n"  # one byte over; no last chunk, so nothing waits unread
    status, headers, body = raw_request(server, head, chunks)
    assert status == 413
    assert headers["connection"] == "close"
    assert json.loads(body) == {"error": f"body over {MAX_BODY_BYTES} bytes"}


# --- pipelined requests ------------------------------------------------------------------------


def read_answers(connection: ssl.SSLSocket, count: int) -> list[tuple[bytes, bytes]]:
    """The status lines and bodies of the next *count* answers (by their Content-Length)."""
    data = b""
    answers: list[tuple[bytes, bytes]] = []
    while len(answers) < count:
        head, found, rest = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]) if found else 0
        if found and len(rest) >= length:
            answers.append((head.split(b"\r\n")[0], rest[:length]))
            data = rest[length:]
            continue
        chunk = connection.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    return answers


def test_pipelined_requests_are_answered_in_order(server: Server) -> None:
    """Three requests in one TLS write, a denied review, a health check and an allowed
    review, get their answers in that order (the reviews are answered by the connection,
    the health check by the application)."""
    bad, good = review("CREATE", copy.deepcopy(VALID)), review("CREATE", copy.deepcopy(VALID))
    bad["request"]["object"]["spec"]["resourceConfig"]["instanceType"] = "ml.bogus"

    def post_of(data: dict[str, Any]) -> bytes:
        body = body_of(data)
        return b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s" % (
            len(body),
            body,
        )

    health = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
    with connect(server, post_of(bad) + health + post_of(good)) as connection:
        (denied_status, denied), (health_status, _), (allowed_status, allowed) = read_answers(
            connection, 3
        )
    assert [denied_status, health_status, allowed_status] == [b"HTTP/1.1 200 OK"] * 3
    assert json.loads(denied)["response"]["uid"] == bad["request"]["uid"]
    assert json.loads(denied)["response"]["allowed"] is False
    assert json.loads(allowed)["response"] == {"uid": good["request"]["uid"], "allowed": True}


# --- a large review ----------------------------------------------------------------------------

SLOW_MUTATE = """
import sys, time
from webhook.cli import main
from webhook.server import admission, app

def mutate(request, config, labels=None):
    if request["uid"].startswith("slow-"):  # slow-SECONDS: a check that takes SECONDS of CPU
        deadline = time.perf_counter() + float(request["uid"][5:])
        while time.perf_counter() < deadline:
            pass
    return admission.mutate(request, config, labels)

app.HANDLERS["/mutate"] = mutate
sys.exit(main(sys.argv[1:]))
"""


def slow_review(seconds: float, size: int = 0) -> bytes:
    """A review that takes *seconds* to decide, with a *size*-byte annotation."""
    job = copy.deepcopy(VALID)
    job["metadata"]["annotations"] = {"notes": "x" * size}
    data = review("CREATE", job)
    data["request"]["uid"] = f"slow-{seconds}"
    return body_of(data)


def slow_server(workdir: Path) -> Server:
    return start_server(
        workdir,
        policy_dir=copy_baseline(workdir / "policies"),
        cert_dir=workdir / "certs",
        flags=["--read-timeout", str(READ_TIMEOUT)],
        program=("-c", SLOW_MUTATE),
    )


def test_healthz_answers_quickly_while_a_large_review_is_decided(tmp_path: Path) -> None:
    """A 3 MiB review whose decision takes half a second of CPU: were it decided on the
    event loop, a /healthz sent meanwhile would wait for it."""
    body = slow_review(0.5, 3 * 1024 * 1024)
    answers: list[httpx.Response] = []
    server = slow_server(tmp_path)
    try:

        def send() -> None:
            with server.client() as http:
                answers.append(http.post("/mutate", content=body))

        with server.client() as http:
            assert http.get("/healthz").status_code == 200  # connected and warm
            sender = threading.Thread(target=send)
            sender.start()
            latencies = []
            while sender.is_alive():
                start = time.perf_counter()
                assert http.get("/healthz").status_code == 200
                latencies.append(time.perf_counter() - start)
            sender.join()
    finally:
        server.stop()
    [answer] = answers
    assert answer.status_code == 200
    assert answer.json()["response"] == {"uid": "slow-0.5", "allowed": True}
    assert len(latencies) >= 10, latencies  # polled all along the half second
    assert max(latencies) < 0.2, latencies


# --- SIGTERM -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigterm_lets_an_answer_longer_than_the_read_timeout_finish(tmp_path: Path) -> None:
    server = slow_server(tmp_path)
    answers: list[httpx.Response] = []

    def send() -> None:
        with server.client() as http:
            # Large enough for the worker: the loop takes SIGTERM while it is decided.
            answers.append(http.post("/mutate", content=slow_review(3 * READ_TIMEOUT, 64 * 1024)))

    sender = threading.Thread(target=send)
    try:
        sender.start()
        time.sleep(0.5)  # sent, and being decided for the next 2.5 s
        code = server.stop(timeout=10 * READ_TIMEOUT)
        sender.join(REQUEST_TIMEOUT)
    finally:
        server.stop()
    assert code == 0
    [answer] = answers
    assert answer.json()["response"] == {"uid": f"slow-{3 * READ_TIMEOUT}", "allowed": True}


@pytest.mark.slow
def test_sigterm_does_not_wait_for_a_stalled_body(tmp_path: Path) -> None:
    with serving(tmp_path) as server, connect(server, STALLED_BODY) as stalled:
        with server.client() as http:  # the stalled request is in, and waiting
            assert http.get("/healthz").status_code == 200
        start = time.monotonic()
        code = server.stop(timeout=READ_TIMEOUT + 5)
        elapsed = time.monotonic() - start
        assert seconds_until_closed(stalled) < 1
    assert code == 0, server.log_text()
    assert elapsed < READ_TIMEOUT + 2  # not the 15 s of the graceful stop
    assert [r.get("event") for r in server.log_records()][-1] == "stopped"
