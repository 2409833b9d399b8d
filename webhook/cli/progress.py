"""A progress display for long commands: on a terminal only, drawn by rich.

``audit`` of a large cluster takes a while (a list page by page, then every job's
checks), and a silent terminal looks hung. On a terminal, stderr shows a spinner, the
jobs checked out of the expected total and the time taken, erased when the command
ends; stdout keeps only the result, so ``audit -o json > out.json`` still shows
progress. When stderr is not a terminal (a pipe, a file, CI logs) nothing at all is
drawn or imported: rich is loaded only when a display is drawn, so no other command
and no pipeline pays for it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TextIO, TypeVar

__all__ = ["Tracker", "progress", "tracked"]

T = TypeVar("T")


class Tracker(Protocol):
    """Where a command says how far it got."""

    def total(self, count: int) -> None:
        """Set the expected number of items (an estimate is fine)."""

    def advance(self, count: int = 1) -> None:
        """Count *count* more items done."""


class _Silent:
    """The tracker when nothing is drawn."""

    def total(self, count: int) -> None:
        """Ignore it."""

    def advance(self, count: int = 1) -> None:
        """Ignore it."""


class _Drawn:
    """The tracker of a rich progress bar's task."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar = bar
        self._task = task

    def total(self, count: int) -> None:
        """Show *count* as the total."""
        self._bar.update(self._task, total=count)

    def advance(self, count: int = 1) -> None:
        """Advance the bar."""
        self._bar.advance(self._task, count)


def is_terminal(stream: TextIO) -> bool:
    """True when *stream* is a terminal (not a pipe, not a file, not closed)."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError, OSError):
        return False


@contextmanager
def progress(description: str, stream: TextIO | None = None) -> Iterator[Tracker]:
    """Draw progress on *stream* (default: stderr) while the block runs, if a terminal."""
    out = sys.stderr if stream is None else stream
    if not is_terminal(out):
        yield _Silent()
        return
    # Imported here: rich's import costs tens of milliseconds no other command should pay.
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import (  # noqa: PLC0415
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=out),
        transient=True,
    ) as bar:
        yield _Drawn(bar, bar.add_task(description, total=None))


def tracked(items: Iterable[T], tracker: Tracker) -> Iterator[T]:
    """Yield *items*, counting each one on *tracker* once it has been handled."""
    for item in items:
        yield item
        tracker.advance()
