"""Answers leave the webhook in one write each, in the order they were given.

uvicorn writes a response's head and body separately; the webhook's protocol
(:class:`webhook.server.connections.GuardedProtocol`) joins them. These tests drive
the protocol the server runs, on a real uvicorn configuration and event loop, through
a transport that records each write, as a TLS transport would turn each into a record.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from webhook.server.direct import protocol
from webhook.server.limits import Limits
from webhook.server.state import JsonLog

ANSWER = b'{"ok":true}'


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"11")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": ANSWER})


class Recorder(asyncio.Transport):
    """A transport that keeps what is written, one entry per write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def abort(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8443)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _request(path: str = "/validate", *, body: bytes = b"{}") -> bytes:
    head = f"POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def _exchange(*chunks: bytes) -> list[bytes]:
    """Feed *chunks* to a connection of the webhook's protocol; return its writes."""
    config = uvicorn.Config(_app, http="httptools", lifespan="off", log_config=None)
    config.load()
    connection = protocol(Limits(), JsonLog())(
        config=config, server_state=ServerState(), app_state={}
    )
    transport = Recorder()
    connection.connection_made(transport)
    for chunk in chunks:
        connection.data_received(chunk)
        for _ in range(5):  # let the request's task run, and the turn end
            await asyncio.sleep(0)
    connection.connection_lost(None)
    return transport.writes


def test_an_answer_is_one_write() -> None:
    [write] = asyncio.run(_exchange(_request()))
    assert write.startswith(b"HTTP/1.1 200 OK\r\n")
    assert write.endswith(b"\r\n\r\n" + ANSWER)


def test_answers_keep_their_order_and_one_write_each() -> None:
    writes = asyncio.run(_exchange(_request(), _request(), _request()))
    assert len(writes) == 3
    assert all(w.startswith(b"HTTP/1.1 200 OK") and w.endswith(ANSWER) for w in writes)


def test_pipelined_requests_are_answered_in_order() -> None:
    writes = asyncio.run(_exchange(_request(body=b"[1]") + _request(body=b"[2]")))
    assert b"".join(writes).count(ANSWER) == 2
    assert [w.startswith(b"HTTP/1.1 200 OK") for w in writes] == [True, True]


@pytest.mark.parametrize("garbage", [b"NOT HTTP\r\n\r\n", b"GET / HTTP/1.1\r\nbad header\r\n\r\n"])
def test_a_bad_request_after_an_answer_is_refused_after_it(garbage: bytes) -> None:
    writes = asyncio.run(_exchange(_request(), garbage))
    assert writes[0].endswith(ANSWER)
    assert writes[-1].startswith(b"HTTP/1.1 400 Bad Request")
