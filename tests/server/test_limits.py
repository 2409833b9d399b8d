"""``serve``'s connection flags, the log of dropped connections, and library logs as JSON."""

from __future__ import annotations

import io
import json
import logging
import warnings
from typing import Any
from unittest import mock

import pytest

from webhook.cli import main
from webhook.server import limits
from webhook.server.connections import DropLog
from webhook.server.logs import json_logging
from webhook.server.serve import ServeOptions
from webhook.server.state import JsonLog


def serve_options(*flags: str) -> ServeOptions:
    """What ``serve`` would run with (nothing is served)."""
    with mock.patch("webhook.server.serve.serve_forever", return_value=0) as serve_forever:
        assert main(["serve", *flags]) == 0
    [(options,), _] = serve_forever.call_args
    assert isinstance(options, ServeOptions)
    return options


def test_the_defaults() -> None:
    assert serve_options().limits == limits.Limits(5.0, 120, 1000)


def test_the_flags() -> None:
    options = serve_options(
        "--read-timeout", "2.5", "--keep-alive-timeout", "95", "--max-connections", "64"
    )
    assert options.limits == limits.Limits(2.5, 95, 64)


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (["--read-timeout", "0"], "expected a number of seconds above 0, got '0'"),
        (["--read-timeout", "-1"], "expected a number of seconds above 0"),
        (["--read-timeout", "nan"], "expected a number of seconds above 0"),
        (["--read-timeout", "inf"], "expected a number of seconds above 0"),
        (["--read-timeout", "5s"], "expected seconds, got '5s'"),
        (["--keep-alive-timeout", "0"], "expected 1 or more, got '0'"),
        (["--keep-alive-timeout", "1.5"], "expected a whole number, got '1.5'"),
        (["--max-connections", "0"], "expected 1 or more"),
    ],
)
def test_a_bad_value_is_a_usage_error(
    flags: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", *flags])
    assert exit_info.value.code == 2
    assert complaint in capsys.readouterr().err


def _lines(stream: io.BytesIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_dropped_connections_are_logged_once_a_second_per_reason_with_a_count() -> None:
    stream = io.BytesIO()
    drops = DropLog(JsonLog(stream), interval=1.0)
    with mock.patch("webhook.server.connections.time.monotonic") as clock:
        for now, reason in [
            (10.0, "read-timeout"),
            (10.1, "read-timeout"),
            (10.2, "connection-limit"),
            (10.5, "read-timeout"),
            (11.2, "read-timeout"),
        ]:
            clock.return_value = now
            drops(reason, client="10.0.0.1:5000", phase="headers")
    assert [(r["reason"], r["unlogged"]) for r in _lines(stream)] == [
        ("read-timeout", 0),
        ("connection-limit", 0),
        ("read-timeout", 2),
    ]
    assert {(r["event"], r["level"], r["phase"]) for r in _lines(stream)} == {
        ("connection-dropped", "warning", "headers")
    }


def test_library_records_become_json_lines_and_the_loggers_are_restored() -> None:
    stream = io.BytesIO()
    uvicorn_error = logging.getLogger("uvicorn.error")
    before = logging.getLogger().handlers[:], uvicorn_error.handlers[:], uvicorn_error.propagate
    with json_logging(JsonLog(stream)):
        uvicorn_error.warning("Invalid HTTP request received.")
        logging.getLogger("asyncio").info("below the level: not written")
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("asyncio").exception("Exception in callback")
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.warn("a library's warning", UserWarning, stacklevel=1)
    after = logging.getLogger().handlers[:], uvicorn_error.handlers[:], uvicorn_error.propagate
    assert after == before
    invalid, failed, warned = _lines(stream)
    assert invalid == {
        "time": invalid["time"],
        "level": "warning",
        "event": "library-log",
        "logger": "uvicorn.error",
        "message": "Invalid HTTP request received.",
    }
    assert (failed["level"], failed["logger"]) == ("error", "asyncio")
    assert "ValueError: boom" in failed["error"]
    assert (warned["logger"], warned["level"]) == ("py.warnings", "warning")
    assert "a library's warning" in warned["message"]
