"""Every line on standard error is JSON: the libraries' log records go to the JSON log.

uvicorn logs with the ``logging`` module and, left to its default
configuration, writes plain-text lines (``WARNING:  Invalid HTTP request
received.``) to the same standard error as the JSON log
(:class:`~webhook.server.state.JsonLog`), where a log collector that parses
JSON lines cannot read them. :func:`json_logging` sends uvicorn's records, the
event loop's (``asyncio``), ``warnings`` and any other library's through one
handler that writes each as a line of the JSON log:

    {"time": ..., "level": "warning", "event": "library-log",
     "logger": "uvicorn.error", "message": "Invalid HTTP request received."}

Pass ``log_config=None`` to ``uvicorn.Config`` as well, or uvicorn installs its
own text handlers when the server starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from webhook.server.state import JsonLog

#: The loggers uvicorn configures itself: they must hand their records to the root's handler.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


class JsonLogHandler(logging.Handler):
    """Writes each log record as one line of a JSON log."""

    def __init__(self, log: JsonLog) -> None:
        super().__init__()
        self.log = log

    def emit(self, record: logging.LogRecord) -> None:
        """One line: the record's level, logger, message and traceback, if any."""
        try:
            fields = {"logger": record.name, "message": record.getMessage()}
            if record.exc_info:
                fields["error"] = logging.Formatter().formatException(record.exc_info)
            self.log("library-log", record.levelname.lower(), **fields)
        except Exception:  # logging must not raise: the way of logging.Handler
            self.handleError(record)


@contextmanager
def json_logging(log: JsonLog, level: int = logging.WARNING) -> Iterator[JsonLogHandler]:
    """Send every log record of *level* and above to *log* while the block runs."""
    root = logging.getLogger()
    handler = JsonLogHandler(log)
    root_handlers, root_level = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(level)
    saved = {}
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = logger.handlers[:], logger.propagate
        logger.handlers.clear()
        logger.propagate = True
    logging.captureWarnings(True)
    try:
        yield handler
    finally:
        logging.captureWarnings(False)
        for name, (handlers, propagate) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:] = handlers
            logger.propagate = propagate
        root.handlers[:] = root_handlers
        root.setLevel(root_level)
