"""Timeouts and a limit on connections, which uvicorn leaves to the server in front of it.

uvicorn bounds only the wait for the next request on an idle keep-alive
connection. A client that sends half a header, or stalls in the middle of a
body, holds its connection (and, while a body is being read, the request's
task) for as long as it likes, and any number of them can; one such request
also keeps SIGTERM waiting for the whole graceful timeout. Here:

* **Read timeout** (:attr:`~webhook.server.limits.Limits.read_timeout`): a
  request must arrive whole, headers and body, within that many seconds of its
  first byte, and a new connection must send its first request within that many
  seconds of its TLS handshake, which is bounded by the same number
  (:func:`event_loop`). :class:`GuardedProtocol` arms one timer per connection
  when the connection is made, and after a read that leaves a request
  incomplete (headers or body) or brings bytes while none is in progress; a
  read that completes the request disarms it. When the timer fires the
  connection is aborted: a client that stopped sending is not asked for TLS's
  ``close_notify`` either, which it would not send (a graceful close waits
  30 s for it). A request whose body was cut off ends with ``http.disconnect``
  in the application.
* **Keep-alive** (``timeout_keep_alive``): uvicorn's own timer, with a value
  above the API server's idle timeout.
* **Connection limit**: uvicorn's ``limit_concurrency`` answers 503 to a new
  *request* once N connections are open, idle ones included: a thousand idle
  connections would refuse the API server's reviews. Here, a connection over the
  limit makes room instead, by aborting the oldest connection that is not being
  answered, those that never sent a whole request first (the API server's
  pooled connections have), and is itself aborted only when every other one
  has a request being answered.
* **One write per answer**: uvicorn writes a response's status line and headers,
  then its body, each straight to the transport: two TLS records and two
  ``send`` calls for every answer. :class:`TurnWriter` holds the first write of a
  turn and sends it with the next one (or at the end of the turn), so an answer
  goes out in one record and one system call, in the order written.
* **SIGTERM**: uvicorn closes the idle connections and lets the others finish;
  :meth:`GuardedProtocol.shutdown` also arms the timer on each, so that none
  outlives the read timeout but to finish an answer: not a stalled body, nor
  a peer that never acknowledges the close.

Dropped connections are logged at most once a second per reason, with a count,
so a flood of them does not become a flood of log lines.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, ClassVar

import uvloop
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from webhook.server.limits import Limits
from webhook.server.state import JsonLog

#: Seconds between two log lines about dropped connections of the same reason.
LOG_INTERVAL = 1.0


class DropLog:
    """Logs dropped connections: one line per reason per second at most.

    A line's ``unlogged`` counts the connections dropped for the same reason
    since the previous line that got no line of their own.
    """

    def __init__(self, log: JsonLog, interval: float = LOG_INTERVAL) -> None:
        self._log = log
        self._interval = interval
        self._last: dict[str, float] = {}
        self._unlogged: dict[str, int] = {}

    def __call__(self, reason: str, **fields: Any) -> None:
        """Note one connection dropped for *reason*; log it unless one was logged just now."""
        now = time.monotonic()
        if now - self._last.get(reason, float("-inf")) < self._interval:
            self._unlogged[reason] = self._unlogged.get(reason, 0) + 1
            return
        self._last[reason] = now
        unlogged = self._unlogged.pop(reason, 0)
        self._log("connection-dropped", "warning", reason=reason, unlogged=unlogged, **fields)


_feed = HttpToolsProtocol.data_received  # called directly: data_received is the hot path


class TurnWriter:
    """The transport as a request's cycle sees it: a held write goes out with the next.

    uvicorn's cycle calls only :meth:`write`, :meth:`close` and :meth:`is_closing`.
    A write with nothing held is held, and the end of the event loop's turn is
    asked to :meth:`flush` it; the next write sends both joined. Nothing is ever
    reordered: the protocol flushes before its own writes can happen (a read),
    and :meth:`close` flushes first.
    """

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        """Hold *data*, or send it after what is held."""
        held = self._held
        if held is None:
            self._held = data
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            self._transport.write(held + data)

    def flush(self) -> None:
        """Send what is held, if anything."""
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held)

    def close(self) -> None:
        """Send what is held, then close."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the transport is closing."""
        return self._transport.is_closing()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a read timeout and a connection limit.

    :func:`webhook.server.direct.protocol` gives one with its limits for
    ``uvicorn.Config(http=...)``.
    Nothing is added per request: a request that arrives whole in one read,
    the usual case, costs a look at its state after the read.
    """

    limits: ClassVar[Limits] = Limits()
    drops: ClassVar[DropLog | None] = None

    _deadline: asyncio.TimerHandle | None = None
    _awaiting = "request"
    """What the running read timeout waits for: a request (no byte yet), headers or a body."""
    _since = 0.0
    """When the connection was made (loop time)."""
    _stopping = False
    _writer: TurnWriter

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection (after its TLS handshake): its first request is due in time."""
        super().connection_made(transport)
        self._writer = TurnWriter(transport, self.loop)
        self._since = self.loop.time()
        self._arm()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: nothing is due any more."""
        self._disarm()
        super().connection_lost(exc)

    def on_headers_complete(self) -> None:
        """A request's cycle writes its answer through the connection's :class:`TurnWriter`."""
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None:  # None when the request upgraded the connection
            cycle.transport = self._writer  # type: ignore[assignment]  # all a cycle uses

    def data_received(self, data: bytes) -> None:
        """Feed the parser, then time what is left incomplete.

        What the writer holds goes first: the parser may answer a bad request itself.
        """
        self._writer.flush()
        _feed(self, data)
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            # Part of a request's headers, or bytes that start none (uvicorn stops its
            # keep-alive timer on those too: a byte now and then must not keep a connection).
            self._expect("headers")
        elif cycle.more_body:
            self._expect("body")
        elif self._deadline is not None:  # the request is whole: answering it is the app's
            self._disarm()
            self._awaiting = "request"

    def shutdown(self) -> None:
        """SIGTERM: uvicorn closes idle connections; none may outlive the read timeout."""
        super().shutdown()
        self._stopping = True
        self._arm()

    def _expect(self, awaiting: str) -> None:
        self._awaiting = awaiting
        self._arm()

    def _arm(self) -> None:
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.limits.read_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _answering(self) -> bool:
        """A whole request of this connection's is being answered."""
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete and not cycle.more_body

    def _timed_out(self) -> None:
        """The read timeout passed (or SIGTERM came and it passed since): drop the connection."""
        self._deadline = None
        if self._stopping and self._answering():  # an answer is never cut short: look later
            self._arm()
            return
        if not self.transport.is_closing():  # those uvicorn closed need no word
            self._drop("shutdown" if self._stopping else "read-timeout")
        self.transport.abort()

    def _make_room(self) -> None:
        """Over the limit: drop the oldest connection not being answered, or this one.

        Those that never sent a whole request go first: the API server's pooled
        connections have sent one.
        """
        waiting = [
            c
            for c in self.connections
            if isinstance(c, GuardedProtocol)
            and c is not self
            and not c._answering()
            and not c.transport.is_closing()
        ]
        dropping = min(waiting, key=lambda c: (c.cycle is not None, c._since)) if waiting else self
        reason = "connection-limit-idle" if waiting else "connection-limit"
        dropping._drop(reason, limit=self.limits.max_connections)
        dropping.transport.abort()

    def _drop(self, reason: str, **fields: Any) -> None:
        """Log (at a bounded rate) that this connection is dropped, why, and in what phase."""
        if self.drops is not None:
            client = f"{self.client[0]}:{self.client[1]}" if self.client else ""
            phase = "answer" if self._answering() else self._awaiting
            self.drops(reason, client=client, phase=phase, **fields)


def event_loop(handshake_timeout: float) -> Callable[[], asyncio.AbstractEventLoop]:
    """A uvloop factory whose TLS servers give each handshake *handshake_timeout* seconds.

    uvicorn does not pass ``ssl_handshake_timeout`` to ``create_server``, so the
    loop's default (60 s) would apply to a client that connects and never
    finishes its handshake.
    """

    class Loop(uvloop.Loop):
        async def create_server(self, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("ssl") is not None:
                kwargs.setdefault("ssl_handshake_timeout", handshake_timeout)
            return await super().create_server(*args, **kwargs)

    return Loop
