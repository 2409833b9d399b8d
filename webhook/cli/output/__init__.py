"""Output formats of ``trainingjob-guard validate`` (``-o FORMAT``).

Every format renders a :class:`~webhook.cli.report.Report` to a string:

``text``
    For people: ``FILE:LINE:COL: ACTION RULE PATH: MESSAGE`` per finding and
    ``FILE:LINE:COL: error: MESSAGE`` per input error, sorted by file and line, then
    a blank line and a one-line summary.
``json``
    For scripts: one pretty-printed object with ``results`` (each TrainingJob and its
    violations), ``errors`` (input errors) and ``summary`` (the counts).
``junit``
    For CI test reports: JUnit XML with a test suite per file and a test case per
    TrainingJob (a ``<failure>`` when denied) or input error (an ``<error>``).
``sarif``
    For GitHub code scanning and SARIF viewers: a SARIF 2.1.0 log, levels ``error``,
    ``warning`` and ``note`` for deny, warn and audit.
``github``
    For GitHub Actions: ``::error``/``::warning``/``::notice`` workflow commands that
    become annotations, then the summary line.

``trainingjob-guard test`` takes ``-o text``, ``junit`` and ``github`` too
(:data:`TEST_FORMATS`), in the same conventions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from webhook import testing
from webhook.cli.output.github import render_github, render_test_github
from webhook.cli.output.json import render_json
from webhook.cli.output.junit import render_junit, render_test_junit
from webhook.cli.output.sarif import render_sarif
from webhook.cli.output.text import render_text
from webhook.cli.report import Report

FORMATS: Final[dict[str, Callable[[Report], str]]] = {
    "text": render_text,
    "json": render_json,
    "junit": render_junit,
    "sarif": render_sarif,
    "github": render_github,
}
"""Render function for each ``-o`` format name."""

TEST_FORMATS: Final[dict[str, Callable[[testing.Results], str]]] = {
    "text": testing.render,
    "junit": render_test_junit,
    "github": render_test_github,
}
"""Render function for each ``trainingjob-guard test -o`` format name."""

__all__ = [
    "FORMATS",
    "TEST_FORMATS",
    "render_github",
    "render_json",
    "render_junit",
    "render_sarif",
    "render_test_github",
    "render_test_junit",
    "render_text",
]
