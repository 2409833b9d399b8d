"""A thread of its own for the decisions too large for a turn of the event loop.

A typical review is a few KiB: parsed in microseconds and decided in well
under a millisecond, it is decided on the loop, in its turn's batch
(:mod:`webhook.server.batch`). The work grows with the body: a 3 MiB review
takes orjson tens of milliseconds to parse, and the checks of a job with
thousands of list items as long again. On the loop, that time would be taken
from every other request, ``/healthz`` included. Above :data:`OFF_LOOP_BYTES`
the work goes to one worker thread instead.

One thread, not a pool: the work is CPU-bound and holds the GIL, which Python
hands back to the loop's thread every few milliseconds (``sys.getswitchinterval``)
while only one other thread wants it; with several, the loop would get a
smaller share. Large reviews wait for each other instead of the small ones
waiting for them. One call that does not release the GIL still holds the
loop for as long as it runs: orjson parses a body in one call (about
10 ms per MiB of small objects, under 2 ms per MiB of long strings).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

T = TypeVar("T")

OFF_LOOP_BYTES: Final = 32 * 1024
"""Bodies above this many bytes are parsed and decided by the worker. About ten times a
typical review (a TrainingJob is 2-3 KiB; an UPDATE carries it twice, with managed
fields); at this size orjson parses in about 0.1 ms and the checks of the densest
jobs measured (thousands of tags) take 2-5 ms."""


class Worker:
    """One thread, started on first use, that runs work handed to it in order."""

    __slots__ = ("_executor",)

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None

    async def run(self, work: Callable[[], T]) -> T:
        """Run *work* in the worker thread; the event loop serves others meanwhile."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="decide")
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)
