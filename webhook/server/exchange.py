"""One admission request on its way to an answer: the reply, and what to count and log.

An :class:`Exchange` turns what the handler decided, or why the request could
not be answered, into the HTTP :class:`Reply`, and records the request in the
metrics and the log. Counting and logging belong to the event loop's thread:
when the worker (:mod:`webhook.server.worker`) decides, they wait until the loop
:meth:`~Exchange.settle` s them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import orjson

from webhook.engine import Config
from webhook.server import admission
from webhook.server.state import ServerState
from webhook.server.wire import AdmissionRequest

Handler = Callable[[AdmissionRequest, Config, admission.NamespaceLabels | None], admission.Answer]
"""What answers an admission request (:data:`webhook.server.app.HANDLERS`)."""


def error_body(message: str) -> bytes:
    """The JSON body of an HTTP error: ``{"error": message}``."""
    return orjson.dumps({"error": message})


class Reply(NamedTuple):
    """An HTTP answer, ready to send."""

    status: int
    body: bytes
    close: bool = False


class Exchange:
    """One admission request on its way to an answer: what to count and log.

    Counting and logging belong to the event loop's thread: when the worker
    decides, they wait in :attr:`later` until the loop :meth:`settle` s them.
    """

    __slots__ = ("endpoint", "fast", "handler", "later", "start", "state")

    def __init__(self, state: ServerState, path: str, handler: Handler) -> None:
        self.state = state
        self.endpoint = path[1:]  # the metric and log label: validate, mutate
        self.handler = handler
        # The one-check proof of a clean review (webhook.server.fast) is /validate's.
        self.fast = state.fast_path if self.handler is admission.validate else None
        self.start = time.perf_counter()
        self.later: list[Callable[[], None]] | None = None
        """Set by the caller when the decision runs off the loop."""

    def reject(self, status: int, message: str) -> Reply:
        """An HTTP error: the request is not an AdmissionReview we can answer."""
        self._record(partial(self._rejected, status, message))
        return Reply(status, error_body(message), close=status == 413)

    def answer(self, uid: str, answer: admission.Answer, request: AdmissionRequest | None) -> Reply:
        """An AdmissionReview response, counted and logged."""
        body = admission.response(uid, answer)
        if self.later is None:
            self._answered(uid, answer, request)
        else:
            self.later.append(partial(self._answered, uid, answer, request))
        return Reply(200, body)

    def failed(self, error: Exception, uid: str | None) -> None:
        """Log a bug met on the way (the answer says to see the log)."""
        self._record(partial(self.state.log, "internal-error", "error", uid=uid, error=repr(error)))

    def settle(self) -> None:
        """Count and log what the worker decided (on the loop)."""
        later, self.later = self.later, None
        for record in later or ():
            record()

    def _record(self, record: Callable[[], None]) -> None:
        if self.later is None:
            record()
        else:
            self.later.append(record)

    def _rejected(self, status: int, message: str) -> None:
        seconds = time.perf_counter() - self.start
        self.state.metrics.observe(self.endpoint, "UNKNOWN", "error", seconds)
        self.state.log(
            "bad-request", "warning", endpoint=self.endpoint, status=status, error=message
        )

    def _answered(
        self, uid: str, answer: admission.Answer, request: AdmissionRequest | None
    ) -> None:
        seconds = time.perf_counter() - self.start
        operation = request["operation"] if request else "UNKNOWN"
        self.state.metrics.observe(
            self.endpoint, operation, answer.decision, seconds, answer.findings
        )
        kind = namespace = name = ""
        dry_run = False
        if request is not None:
            kind = request["kind"].get("kind", "")
            namespace = request.get("namespace", "")
            name = request.get("name") or admission.object_name(request.get("object"))
            dry_run = request.get("dryRun", False)
        self.state.log.decision(
            endpoint=self.endpoint,
            uid=uid,
            kind=kind,
            namespace=namespace,
            name=name,
            operation=operation,
            decision=answer.decision,
            findings=answer.findings,
            patched=len(answer.patch),
            dry_run=dry_run,
            seconds=seconds,
        )
