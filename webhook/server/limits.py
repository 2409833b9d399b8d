"""How long a client may take and how many connections it may hold: the ``serve`` defaults.

The values and their reasons live here, once, for the command line, the
server (:mod:`webhook.server.connections`) and the chart's ``values.yaml``,
which repeats them (``tests/chart/test_chart.py`` holds the two together).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Final

READ_TIMEOUT: Final = 5.0
"""Seconds a client has for its TLS handshake, and for each request from its first byte
to its last (headers and body). The API server sends a review at once, in milliseconds
even at its 3 MiB limit; waiting longer than it waits for the answer (``timeoutSeconds``:
10 by default, the chart's 5) serves nobody. Go's ``http.Server`` bounds the handshake
with its read timeouts in the same way."""

KEEP_ALIVE_TIMEOUT: Final = 120
"""Seconds an idle connection is kept for the next request. The API server keeps its
connections to a webhook and reuses them, closing them after 90 s idle (Go's
``http.Transport`` default, which ``k8s.io/apimachinery/pkg/util/net`` keeps): staying
open longer lets the client close first, so it never sends a review on a connection
the server is closing (a POST that Go does not retry; the review would fail). uvicorn's
default is 5 s. Whole seconds, as uvicorn takes them."""

MAX_CONNECTIONS: Final = 1000
"""Connections open at once. The API server needs a few per replica of its own; an idle
TLS connection costs the server about 35 KiB (measured: 1,000 of them, 33 MiB), so a
thousand fit well within the chart's memory limit. At the limit, a new connection makes
room by closing the oldest one not being answered, those that never sent a request
first; only when every other connection has a request being answered is the new one
closed."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The timeouts and the connection limit of a running server."""

    read_timeout: float = READ_TIMEOUT
    keep_alive_timeout: int = KEEP_ALIVE_TIMEOUT
    max_connections: int = MAX_CONNECTIONS


def positive_seconds(text: str) -> float:
    """A command-line number of seconds, more than 0."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return seconds


def positive_int(text: str) -> int:
    """A command-line whole number, 1 or more."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if count < 1:
        raise argparse.ArgumentTypeError(f"expected 1 or more, got {text!r}")
    return count
