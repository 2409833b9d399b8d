"""Admission requests answered by their connection, without an ASGI task.

For each request uvicorn builds an ASGI cycle and starts a task that runs the
application, which reads the body through ``receive`` and answers through two
``send`` calls, each with its own checks and header encoding. For the
webhook's usual request, a small ``POST /validate`` whose body arrives with
its headers, that machinery cost about as much as the decision: measured
with ``scripts/bench_server.py`` on the same host, one after the other,
answering such requests here took ``/validate`` from 10,912 to 13,474
requests/s (p50 from 1.37 to 1.05 ms).

:class:`DirectProtocol` keeps uvicorn's parsing and its cycle (the
connection's state: keep-alive, pipelining, shutdown, a client gone away) and
replaces only the task. When a request's headers are complete it asks the
:class:`Lane` (:class:`webhook.server.app.Admissions`) whether it
:meth:`~Lane.takes` it: a POST to an admission path with a ``Content-Length``
small enough to be decided on the loop, no ``Transfer-Encoding``, no
``Expect: 100-continue``, and a transport that is not asking us to stop
writing. Once the body is whole, it is :meth:`~Lane.submit` ted; the answer
is written in one piece and the cycle completed as uvicorn's ``send`` would
have. Every other request, and every request the lane does not take, is run
by the ASGI application as before.

Pipelined requests keep their order: uvicorn starts a request only once the
one before it is answered, and so does this protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, Protocol

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

from webhook.server.connections import DropLog, GuardedProtocol
from webhook.server.exchange import Reply
from webhook.server.limits import Limits
from webhook.server.state import JsonLog


class Lane(Protocol):
    """What answers admission requests handed over by the connection."""

    def takes(self, path: str, length: int) -> bool:
        """Whether a POST of a *length*-byte body to *path* may be submitted."""
        ...  # pragma: no cover

    def submit(self, path: str, body: bytes, respond: Callable[[Reply], None]) -> None:
        """Decide the request; call *respond* with the answer (on the event loop)."""
        ...  # pragma: no cover


_JSON_LENGTH = b"content-type: application/json\r\ncontent-length: %d\r\n"


class DirectProtocol(GuardedProtocol):
    """:class:`GuardedProtocol` that hands the requests its :attr:`lane` takes to it."""

    lane: ClassVar[Lane | None] = None
    _direct: RequestResponseCycle | None = None
    """The cycle whose request the lane is answering (at most one: requests are in order)."""

    def connection_lost(self, exc: Exception | None) -> None:
        """The connection is gone: nothing of it is answered any more.

        uvicorn marks only the last request read; the lane's may be one before it,
        with others pipelined behind. None of them may keep the connection alive.
        """
        super().connection_lost(exc)
        cycle, self._direct = self._direct, None
        if cycle is not None:
            cycle.disconnected = True
            cycle.on_response = _nothing
        for queued, _ in self.pipeline:
            queued.on_response = _nothing

    def _start_asgi_task(self, cycle: RequestResponseCycle, app: Any) -> None:
        """Start the request: by the lane when it takes it, else by the application."""
        lane = self.lane
        if lane is not None and app is self.app and self._takes(lane, cycle):
            self._direct = cycle
            if not cycle.more_body:  # a pipelined request, started once the one before ended
                self._submit(lane, cycle)
            return
        super()._start_asgi_task(cycle, app)

    def on_message_complete(self) -> None:
        """The body is whole: the lane's request is submitted (once)."""
        cycle = self.cycle
        reading = cycle is not None and cycle is self._direct and cycle.more_body
        super().on_message_complete()
        if reading and cycle is not None and not cycle.more_body:
            assert self.lane is not None  # _direct is set only with a lane
            self._submit(self.lane, cycle)

    def _takes(self, lane: Lane, cycle: RequestResponseCycle) -> bool:
        scope = cycle.scope
        if scope["method"] != "POST" or cycle.waiting_for_100_continue or self.flow.write_paused:
            return False
        length = -1
        for name, value in scope["headers"]:
            if name == b"content-length":
                if length >= 0 or not value.isdigit():
                    return False  # a length that is not one number: the application's to answer
                length = int(value)
            elif name == b"transfer-encoding":
                return False
        return length >= 0 and lane.takes(scope["path"], length)

    def _submit(self, lane: Lane, cycle: RequestResponseCycle) -> None:
        body, cycle.body = bytes(cycle.body), bytearray()  # an idle connection keeps no body
        lane.submit(cycle.scope["path"], body, partial(self._respond, cycle))

    def _respond(self, cycle: RequestResponseCycle, reply: Reply) -> None:
        """Answer with *reply*; on a failure the connection is aborted, not left waiting."""
        try:
            self._answer(cycle, reply)
        except BaseException:  # raised on, to be reported by the event loop
            self.transport.abort()
            raise

    def _answer(self, cycle: RequestResponseCycle, reply: Reply) -> None:
        """Write *reply* in one piece and end the cycle, as uvicorn's ``send`` would."""
        if self._direct is cycle:
            self._direct = None
        # As uvicorn's task does when it ends: a cycle done with must not keep its connection
        # (and the connection its cycle) alive until the garbage collector's rare full pass.
        on_response, cycle.on_response = cycle.on_response, _nothing
        if cycle.disconnected or cycle.response_complete:
            return  # the client went away: nobody to answer
        keep_alive = cycle.keep_alive and not reply.close
        head = [STATUS_LINE[reply.status]]
        for name, value in cycle.default_headers:  # the Date header
            head += [name, b": ", value, b"\r\n"]
        head.append(_JSON_LENGTH % len(reply.body))
        if not keep_alive:
            cycle.keep_alive = False
            head.append(b"connection: close\r\n")
        head += [b"\r\n", reply.body]
        self._writer.flush()  # anything written before goes first
        self.transport.write(b"".join(head))
        cycle.response_started = cycle.response_complete = True
        cycle.message_event.set()
        if not keep_alive:
            self.transport.close()
        on_response()


def _nothing() -> None:
    """What a cycle calls when its response is complete, once it is complete."""


def protocol(limits: Limits, log: JsonLog, lane: Lane | None = None) -> type[DirectProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``.

    With *limits*, logging dropped connections to *log*, and handing the requests
    *lane* takes to it (none without).
    """
    configured, logged, admissions = limits, DropLog(log), lane

    class Configured(DirectProtocol):
        limits = configured
        drops = logged
        lane = admissions

    return Configured
