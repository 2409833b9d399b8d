"""The ASGI application: AdmissionReview in, AdmissionReview out, plus health and metrics.

``POST /validate`` and ``POST /mutate`` are answered by a plain ASGI handler:
the API server calls them on every ``kubectl apply``, and a framework's
per-request machinery (routing, dependency injection, response models) would
cost more than the decision itself. :class:`Admissions` reads the body, awaits
the decision, which runs with the others of its event-loop turn in one batch
(:mod:`webhook.server.batch`), or in the worker thread for a large body
(:mod:`webhook.server.worker`), and sends it. The server's connections hand
most admission requests to :class:`Admissions` themselves, without the ASGI
cycle (:mod:`webhook.server.direct`); the answers are the same. ``/validate``
first tries to prove the whole review clean in one native check
(:mod:`webhook.server.fast`). Everything else (``/healthz``,
``/readyz``, ``/metrics``) is a small FastAPI application behind it
(:mod:`webhook.server.operations`).

Every failure gets a deliberate answer: a body that is not JSON, not an
AdmissionReview v1, too large, or a bug in a check is answered with a clear
message, never with a traceback and never with ``allowed: true``. Requests are
counted and logged on the event loop, whichever thread decided them
(:mod:`webhook.server.exchange`).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from functools import partial
from typing import Any, Final, NamedTuple

import orjson
from pydantic import ValidationError

from webhook.server import admission
from webhook.server.batch import Batch
from webhook.server.exchange import Exchange, Reply, error_body
from webhook.server.operations import operations_app
from webhook.server.state import ServerState
from webhook.server.wire import API_VERSION, AdmissionRequest, parse_request
from webhook.server.worker import OFF_LOOP_BYTES, Worker
from webhook.text import show

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: The API server accepts request bodies up to 3 MiB and an AdmissionReview carries the
#: object and the old object (each up to etcd's ~1.5 MiB): 7 MiB covers both with room.
MAX_BODY_BYTES: Final = 7 * 1024 * 1024

#: JSON objects and arrays a body may hold: a TrainingJob review has a few dozen, and
#: SageMaker's bounds keep any it accepts far below (counted only above OFF_LOOP_BYTES).
MAX_CONTAINERS: Final = 100_000

HANDLERS: Final = {"/validate": admission.validate, "/mutate": admission.mutate}
_JSON: Final = [(b"content-type", b"application/json")]


class BodyTooLargeError(Exception):
    """The request body is over the limit."""


class ClientDisconnectedError(Exception):
    """The client went away (or was dropped) before its body was read."""


async def read_body(receive: Receive, limit: int) -> bytes:
    """Read the whole body, or raise BodyTooLargeError as soon as it passes *limit*.

    The limit is on the whole body, however it comes: in one piece, or chunked
    with no ``Content-Length``. Raises ClientDisconnectedError when the
    connection closes first: a part of a body is not a request.
    """
    message = await receive()
    if not message.get("more_body", False) and message["type"] == "http.request":
        body: bytes = message.get("body", b"")  # the usual case: all of it at once
        if len(body) > limit:
            raise BodyTooLargeError
        return body
    chunks: list[bytes] = []
    size = 0
    while True:
        if message["type"] == "http.disconnect":
            raise ClientDisconnectedError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
        message = await receive()
    return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes, *, close: bool = False) -> None:
    headers = [*_JSON, (b"content-length", str(len(body)).encode())]
    if close:  # the rest of an unread body must not be taken for the next request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def build_app(
    state: ServerState, max_body: int = MAX_BODY_BYTES, admissions: Admissions | None = None
) -> ASGIApp:
    """The application serving *state* (with *admissions* when the connections share them)."""
    operations = operations_app(state)
    admit = admissions or Admissions(state, max_body)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        handler = HANDLERS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if handler is None:
            await operations(scope, receive, send)
            return
        if scope["method"] != "POST":
            await _send(send, 405, error_body("use POST with an AdmissionReview"))
            return
        await admit(scope, receive, send)

    return app


class _Lookup(NamedTuple):
    """The namespace's labels are not cached: look them up off the loop, then decide."""

    request: AdmissionRequest
    namespace: str


Respond = Callable[[Reply], None]
"""Sends an answer on the connection its request came from."""


class Admissions:
    """Answers ``/validate`` and ``/mutate``: for the ASGI application, and for the connections.

    A connection hands a small, whole request straight to :meth:`submit`
    (:mod:`webhook.server.direct`); every other one goes through the ASGI
    application (:meth:`__call__`). Either way the decision is :func:`_decide`'s,
    in the turn's batch or in the worker thread.
    """

    __slots__ = ("_looking_up", "batch", "max_body", "state", "worker")

    def __init__(self, state: ServerState, max_body: int = MAX_BODY_BYTES) -> None:
        self.state = state
        self.max_body = max_body
        self.batch = Batch()
        self.worker = Worker()
        self._looking_up: set[asyncio.Task[None]] = set()

    def takes(self, path: str, length: int) -> bool:
        """Whether a POST of a *length*-byte body to *path* may be :meth:`submit` ted."""
        return path in HANDLERS and length <= OFF_LOOP_BYTES and length <= self.max_body

    def submit(self, path: str, body: bytes, respond: Respond) -> None:
        """Decide a request :meth:`takes` in this turn's batch; *respond* gets the answer."""
        exchange = Exchange(self.state, path, HANDLERS[path])
        self.batch.submit(
            partial(_decide, exchange, body), partial(self._decided, exchange, respond)
        )

    def _decided(
        self,
        exchange: Exchange,
        respond: Respond,
        reply: Reply | _Lookup | None,
        error: Exception | None,
    ) -> None:
        if isinstance(reply, _Lookup):
            task = asyncio.get_running_loop().create_task(self._look_up(exchange, reply, respond))
            self._looking_up.add(task)  # a reference, or the task may be collected mid-way
            task.add_done_callback(self._looking_up.discard)
            return
        if error is not None or reply is None:
            reply = _failed(exchange, error)
        respond(reply)

    async def _look_up(self, exchange: Exchange, lookup: _Lookup, respond: Respond) -> None:
        try:
            reply = await self._with_labels(exchange, lookup, self.batch.run)
        except Exception as error:
            reply = _failed(exchange, error)
        respond(reply)

    async def _with_labels(
        self,
        exchange: Exchange,
        lookup: _Lookup,
        run: Callable[[Callable[[], Reply]], Awaitable[Reply]],
    ) -> Reply:
        """The answer to *lookup*'s request, once its namespace's labels are looked up."""
        labels_of = self.state.namespace_labels
        assert labels_of is not None
        labels = await _labels_of(labels_of, lookup.namespace)
        return await run(partial(_answer, exchange, lookup.request, labels))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the body, decide in this turn's batch or in the worker, answer."""
        path = scope["path"]
        max_body = self.max_body
        exchange = Exchange(self.state, path, HANDLERS[path])
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > max_body:
                await _reply(send, exchange.reject(413, f"body over {max_body} bytes"))
                return
        try:
            body = await read_body(receive, max_body)
        except BodyTooLargeError:
            await _reply(send, exchange.reject(413, f"body over {max_body} bytes"))
            return
        except ClientDisconnectedError:
            return  # nobody to answer (the connection's end is logged where it was dropped)
        run = self.batch.run
        if len(body) > OFF_LOOP_BYTES:  # the batch is for small ones (webhook.server.worker)
            run, exchange.later = self.worker.run, []
        try:
            reply = await run(partial(_decide, exchange, body))
            if isinstance(reply, _Lookup):
                reply = await self._with_labels(exchange, reply, run)
        except Exception as error:  # a bug outside the handler: deny, say so, never a traceback
            reply = _failed(exchange, error)
        exchange.settle()
        await _reply(send, reply)


async def _reply(send: Send, reply: Reply) -> None:
    await _send(send, reply.status, reply.body, close=reply.close)


def _failed(exchange: Exchange, error: Exception | None) -> Reply:
    """The answer to a request whose decision failed on a bug: 500, and the bug in the log."""
    exchange.failed(error or RuntimeError("no answer"), None)
    return Reply(500, error_body("trainingjob-guard failed: see its log"))


def _decide(exchange: Exchange, body: bytes) -> Reply | _Lookup:
    """Parse and check the AdmissionReview, then answer it (no I/O: batch or worker thread)."""
    if len(body) > OFF_LOOP_BYTES and body.count(b"{") + body.count(b"[") > MAX_CONTAINERS:
        # orjson holds the GIL for the whole parse: a million objects would stall the
        # event loop (and /healthz) for a quarter of a second, even from the worker.
        message = (
            f"the review holds more than {MAX_CONTAINERS:,} JSON objects and arrays; no "
            "TrainingJob SageMaker accepts comes near that"
        )
        uid = _leading_uid(body)
        if uid is None:
            return exchange.reject(400, message)
        return exchange.answer(uid, admission.Answer(False, "denied", 403, message), None)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        return exchange.reject(400, f"body is not JSON: {error}")
    fast = exchange.fast
    if fast is not None and fast.config is exchange.state.config and fast.clean(data):
        request: AdmissionRequest = data["request"]
        return exchange.answer(request["uid"], admission.ALLOWED, request)
    if not isinstance(data, dict) or data.get("kind") != "AdmissionReview":
        return exchange.reject(400, "body is not an AdmissionReview")
    if data.get("apiVersion") != API_VERSION:
        return exchange.reject(
            400,
            f"AdmissionReview {_shown(data.get('apiVersion'))} is not supported: only "
            f"{API_VERSION}; register the webhook with admissionReviewVersions: [v1]",
        )
    try:
        request = parse_request(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_url=False)
        )
        message = f"invalid AdmissionReview: {problems}"
        uid = _uid(data)
        if uid is None:
            return exchange.reject(400, message)
        return exchange.answer(uid, admission.Answer(False, "error", 400, message), None)
    labels = None
    lookup = exchange.state.namespace_labels
    namespace = request.get("namespace")
    if lookup is not None and namespace:
        cached = getattr(lookup, "__contains__", None)
        if cached is None or not cached(namespace):
            return _Lookup(request, namespace)
        labels = _fixed(lookup(namespace))
    return _answer(exchange, request, labels)


def _answer(
    exchange: Exchange, request: AdmissionRequest, labels: admission.NamespaceLabels | None
) -> Reply:
    """The handler's answer, with the configuration in force now (reloads swap it whole)."""
    state = exchange.state
    try:
        answer = exchange.handler(request, state.config, labels)
    except Exception as error:  # a bug must deny with a message, not 500 with a traceback
        exchange.failed(error, request["uid"])
        answer = admission.Answer(False, "error", 500, "trainingjob-guard failed: see its log")
    return exchange.answer(request["uid"], answer, request)


async def _labels_of(
    lookup: admission.NamespaceLabels, namespace: str
) -> admission.NamespaceLabels:
    """The namespace's labels as a lookup for the handler, looked up off the loop."""
    return _fixed(await asyncio.to_thread(lookup, namespace))


def _fixed(labels: Mapping[str, str] | None) -> admission.NamespaceLabels:
    """A lookup that gives *labels*, already looked up, for the request's namespace."""
    return lambda _namespace: labels


_LEADING_UID: Final = re.compile(rb'"uid"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')


def _leading_uid(body: bytes) -> str | None:
    """``request.uid`` of a body not parsed: the first ``uid`` of its first 4 KiB.

    The API server writes ``request.uid`` before the object; if what is found is
    another ``uid``, the API server refuses the answer, and the request fails closed.
    """
    found = _LEADING_UID.search(body, 0, 4096)
    return found.group(1).decode() if found else None


def _shown(value: Any) -> str:
    """*value* for a message: a string cut short, any other JSON value by its type.

    Never ``repr`` of what a client sent: a deeply nested value cannot be shown
    (``RecursionError``), a long one would make the answer and the log line as long.
    """
    if isinstance(value, str):
        return show(value)
    return "null" if value is None else f"(a JSON {type(value).__name__})"


def _uid(data: dict[str, Any]) -> str | None:
    request = data.get("request")
    uid = request.get("uid") if isinstance(request, dict) else None
    return uid if isinstance(uid, str) and uid else None
