"""The shape of the log the Kubernetes adapters write to, and a stand-in for it.

The server hands its JSON log (``log(event, level, **fields)``) to every background
thread here; used on their own (tests, a script), they log through the standard
library's :mod:`logging` instead.
"""

from __future__ import annotations

import logging
from typing import Any, Final, Protocol

__all__ = ["Log", "standard_log"]

_LOGGER: Final = logging.getLogger("webhook.kube")
_LEVELS: Final = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log(Protocol):
    """Where events go: the server's JSON log has this shape (``log(event, level, **fields)``)."""

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        """Record one event."""


def standard_log(event: str, level: str = "info", **fields: Any) -> None:
    """Log to the standard library's logging (without the server's JSON log)."""
    _LOGGER.log(_LEVELS.get(level, logging.INFO), "%s %s", event, fields)
