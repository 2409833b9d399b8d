"""The fixed cases of the fuzz run: deep nesting, huge strings, the body limit, methods, headers.

Each is sent to both ``/validate`` and ``/mutate``, on a connection of its
own (see :attr:`fuzz_cases.Case.fresh`). What a case's ``answers`` says is
what HTTP/1.1 makes of its bytes: one answer; two where a body runs past its
``Content-Length`` (the rest is read as another request, which the server
refuses and closes the connection); none where the request never ends (the
server drops the connection within its read timeout, 5 s by default).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from fuzz_cases import BASES, ENDPOINTS, HUGE, RAW, Case, nested, render, with_value
from loopback import http

LIMIT = 7 * 2**20
"""The webhook's limit on a body (webhook.server.app.MAX_BODY_BYTES)."""
SIX_MIB = 6 * 2**20
VALID = BASES[1][1]
HOST = (b"Host", b"localhost")
JSON = (b"Content-Type", b"application/json")


def length(size: int) -> tuple[bytes, bytes]:
    """A Content-Length header."""
    return (b"Content-Length", b"%d" % size)


def _bodies() -> Iterator[tuple[str, bytes, bool]]:
    """Deep nesting and huge strings: (kind, body, whether its object is the valid job)."""
    for depth in (10_000, 100_000, 1_000_000):
        yield "deep nesting", b"[" * depth, False
        yield "deep nesting", nested(depth), False
        yield "deep nesting", nested(depth, b'{"a":', b"}", b"1"), False
    eta = ("request", "object", "spec", "hyperParameters", "eta")
    for depth in range(1016, 1022):  # around orjson's limit of 1,024 levels, in all
        yield "deep nesting", render(with_value(VALID, eta, RAW % 0), (nested(depth),)), False
    managed = ("request", "object", "metadata", "managedFields")
    # The API server's own metadata: the webhook reads none of it, so the job stays valid.
    yield "deep nesting", render(with_value(VALID, managed, RAW % 0), (nested(1000),)), True
    yield "huge strings", b'"' + b"x" * SIX_MIB + b'"', False
    request: list[tuple[tuple[str | int, ...], bool]] = [
        (("request", "uid"), True),
        (("request", "name"), True),
        (("request", "namespace"), True),
        (("request", "userInfo", "username"), True),
        (("request", "userInfo", "groups", 0), True),
        (("request", "kind", "kind"), True),
        (("request", "object", "metadata", "name"), False),
        (eta, False),
        (("request", "object", "spec", "environment"), False),
    ]
    for path, passes in request:
        value: Any = "x" * SIX_MIB
        if path[-1] == "environment":
            value = {"A": "\x00" * (SIX_MIB // 6)}  # six bytes of JSON per character
        yield "huge strings", render(with_value(VALID, path, value)), passes
    spec = ("request", "object", "spec")
    for key, value in (
        ("hyperParameters", {"x" * HUGE: "1"}),
        ("hyperParameters", {f"p{i}": "1" for i in range(100_000)}),
        ("hyperParameters", {"eta": "\U0001f600" * (SIX_MIB // 4)}),
        ("inputDataConfig", [None] * 1_000_000),
        ("inputDataConfig", list(range(500_000))),
        ("unknownFields", {f"f{i}": i for i in range(300_000)}),
    ):
        yield "huge strings", render(with_value(VALID, (*spec, key), value)), False


def _over_the_limit(endpoint: str) -> Iterator[Case]:
    valid = render(VALID)
    at_limit = valid + b" " * (LIMIT - len(valid))
    over = at_limit + b" "
    chunks = b"".join(b"%x\r\n" % len(over[i : i + 65536]) + over[i : i + 65536] + b"\r\n"
                      for i in range(0, len(over), 65536)) + b"0\r\n\r\n"  # fmt: skip
    chunked = [HOST, JSON, (b"Transfer-Encoding", b"chunked")]
    one_chunk = b"%x\r\n" % (LIMIT + 1) + over + b"\r\n0\r\n\r\n"
    yield Case("at the 7 MiB limit", http("POST", endpoint, at_limit), endpoint, at_limit, True)
    kind = "over the 7 MiB limit"
    yield Case(kind, http("POST", endpoint, over), endpoint)
    yield Case(kind, http("POST", endpoint, headers=[HOST, JSON, length(LIMIT + 1)]), endpoint)
    yield Case(kind, http("POST", endpoint, headers=[HOST, JSON, length(10**15)]), endpoint)
    yield Case(kind, http("POST", endpoint, chunks, chunked), endpoint)
    yield Case(kind, http("POST", endpoint, one_chunk, chunked), endpoint)


METHODS = ("GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "CONNECT",
           "FOO", "get", "POSTS")  # fmt: skip


def _methods(endpoint: str) -> Iterator[Case]:
    valid = render(VALID)
    for method in METHODS:
        head = method == "HEAD"
        yield Case("bad method", http(method, endpoint, valid), endpoint, head=head)
        yield Case("bad method", http(method, endpoint, headers=[HOST]), endpoint, head=head)


def _headers(endpoint: str) -> Iterator[Case]:
    """Bad, missing and contradictory headers, versions and paths."""
    body = render(VALID)
    size = length(len(body))
    chunked = (b"Transfer-Encoding", b"chunked")
    chunk = b"%x\r\n" % len(body) + body + b"\r\n"
    valid: list[list[tuple[bytes, bytes]]] = [  # a valid review still: answered as one
        [HOST, size],
        [HOST, (b"Content-Type", b"text/plain"), size],
        [HOST, (b"Content-Type", b"application/json; charset=latin-1"), size],
        [HOST, (b"Content-Type", b""), size],
        [JSON, size],
        [HOST, JSON, (b"Content-Length", b" %d " % len(body))],
        [HOST, JSON, size, size],
        [HOST, JSON, size, (b"X-Note", b"\xff\xfe obs-text")],
        [HOST, JSON, size, (b"X-Big", b"x" * HUGE)],
        [HOST, JSON, size, *[(b"X-%d" % i, b"v") for i in range(10_000)]],
        [HOST, JSON, size, (b"Expect", b"100-continue")],
        [HOST, JSON, size, (b"Connection", b"close")],
        [HOST, JSON, size, (b"Upgrade", b"h2c"), (b"Connection", b"Upgrade")],
        [HOST, JSON, size, (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade")],
    ]
    for headers in valid:
        yield Case("headers", http("POST", endpoint, body, headers), endpoint, body, True)
    for data in (
        http("POST", endpoint + "?dryRun=All", body),
        http("POST", "https://localhost" + endpoint, body),
        http("POST", endpoint, body, version=b"HTTP/1.0"),
        http("POST", endpoint, body, [HOST, JSON, size, (b"Connection", b"keep-alive")],
             version=b"HTTP/1.0"),
        http("POST", endpoint, chunk + b"0\r\n\r\n", [HOST, JSON, chunked]),
        http("POST", endpoint, b"%x;ext=1\r\n" % len(body) + body + b"\r\n0\r\nX-T: 1\r\n\r\n",
             [HOST, JSON, chunked]),
    ):  # fmt: skip
        yield Case("headers", data, endpoint, body, True)
    yield Case("headers", http("POST", endpoint, body) * 10, endpoint, body, True, answers=10)
    refused = [  # the HTTP parser refuses these: 400 and the connection closed
        http("POST", endpoint, body, [HOST, JSON, (b"Content-Length", b"abc")]),
        http("POST", endpoint, body, [HOST, JSON, (b"Content-Length", b"-1")]),
        http("POST", endpoint, body, [HOST, JSON, (b"Content-Length", b"0x10")]),
        http("POST", endpoint, body, [HOST, JSON, size, length(len(body) + 1)]),
        http("POST", endpoint, body, [HOST, JSON, (b"Content-Length", b"9" * 30)]),
        http("POST", endpoint, chunk + b"0\r\n\r\n", [HOST, JSON, size, chunked]),
        http("POST", endpoint, body, [HOST, JSON, (b"Transfer-Encoding", b"gzip")]),
        http("POST", endpoint, b"zz\r\n" + body, [HOST, JSON, chunked]),
        http("POST", endpoint, body, [HOST, JSON, size, (b"No colon here", b"")]),
        http("POST", endpoint, body, [HOST, JSON, size, (b"Bad Name", b"x")]),
        http("POST", endpoint, body, [HOST, JSON, size, (b"X-Nul", b"a\x00b")]),
        http("POST", endpoint, body, [HOST, JSON, size, (b"X-Fold", b"a\r\n folded")]),
        http("POST", endpoint, body, version=b"HTTP/2.0"),
        http("POST", endpoint, body, version=b"HTTP/1.2"),
        http("POST", endpoint, body).replace(endpoint.encode(), endpoint.encode() + b"\xff", 1),
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
        b"POST " + endpoint.encode() + b"\r\n\r\n",
    ]
    for data in refused:  # (were one read as HTTP after all, it would be the valid review)
        yield Case("bad HTTP", data, endpoint, body, True)
    for path in (endpoint + "/", endpoint.upper(), "/" + endpoint, endpoint + "%00", "/%ZZ", "*"):
        yield Case("other paths", http("POST", path, body), endpoint)
    # A body longer than its Content-Length: the rest is read as the next request.
    for short in (1, 2, len(body) // 2):
        data = http("POST", endpoint, body, [HOST, JSON, length(len(body) - short)])
        yield Case("Content-Length mismatch", data, endpoint, body[:-short], answers=2)
    yield Case("Content-Length mismatch", http("POST", endpoint, body, [HOST, JSON]) , endpoint,
               b"", answers=2)  # fmt: skip
    # Requests that never end: the server drops them within its read timeout, unanswered.
    for data in (
        http("POST", endpoint, body, [HOST, JSON, length(len(body) + 10)]),
        http("POST", endpoint, chunk, [HOST, JSON, chunked]),
        http("POST", endpoint, body)[:40],
    ):
        yield Case("never ends", data, endpoint, answers=0)


def fixed_cases() -> Iterator[Case]:
    """Every fixed case, on both endpoints, each on a connection of its own."""
    for endpoint in ENDPOINTS:
        for kind, body, passes in _bodies():
            yield Case(kind, http("POST", endpoint, body), endpoint, body, passes, fresh=True)
        for case in (*_over_the_limit(endpoint), *_methods(endpoint), *_headers(endpoint)):
            yield dataclasses.replace(case, fresh=True)
