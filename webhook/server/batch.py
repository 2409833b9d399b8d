"""Run the synchronous work of requests that arrive together back to back.

Under load the event loop reads several requests per turn (one per ready
connection; about eight at 16 connections) and, left alone, interleaves their
Python work with TLS, HTTP parsing and socket writes for the others. Each
decision then starts with the checks' code and data cold in the CPU caches,
and costs two to three times what it costs in a loop. :class:`Batch` queues
the work of every request that reaches it in one turn and runs it all back to
back, so only the first of them starts cold. Measured with the server
benchmark: about a third more throughput and p99 from about 3.4 to under 2 ms.

How, without a callback or a future per request: each request queues its
work and yields to the event loop once (a bare yield, the cheapest
suspension there is). The requests read in the same turn queue theirs before
any of them resumes; the first to resume runs the whole queue, and the others
find their results ready. A request never waits for more than that one turn.

Each piece of work has its own outcome: an exception fails its request only;
the work of a request cancelled while it waits (shutdown) is skipped; and if
the process is interrupted in the middle of the queue (a KeyboardInterrupt in
a check), the request whose work was interrupted is cancelled and the ones
after it run their own work when they resume, so none is left waiting.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class _Slot(Generic[T]):
    """One request's work and its outcome."""

    __slots__ = ("cancelled", "done", "error", "result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = False
        self.cancelled = False
        self.result: T | None = None
        self.error: Exception | None = None


@types.coroutine
def _one_turn() -> Generator[None, None, None]:
    """Let the event loop run everything else that is ready, then resume."""
    yield


class Batch:
    """A queue of synchronous work, run by the first of its requests to resume."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending: list[_Slot[Any]] = []

    async def run(self, work: Callable[[], T]) -> T:
        """Run *work* with the rest of this turn's and return its result (or raise its error)."""
        slot = _Slot(work)
        self._pending.append(slot)
        try:
            await _one_turn()
        except asyncio.CancelledError:
            slot.cancelled = True
            raise
        if not slot.done:
            self._drain()
        if slot.error is not None:
            raise slot.error
        if not slot.done:  # another request's work interrupted the queue at this one's
            raise asyncio.CancelledError("interrupted before this request's work ran")
        return slot.result  # type: ignore[return-value]  # done without error: set by work()

    def _drain(self) -> None:
        pending, self._pending = self._pending, []
        for index, slot in enumerate(pending):
            if slot.cancelled:
                continue
            try:
                slot.result = slot.work()
            except Exception as error:  # the request's own failure, not the batch's
                slot.error = error
            except BaseException:  # the process is stopping: the rest run on their own
                self._pending[:0] = pending[index + 1 :]
                raise
            slot.done = True
