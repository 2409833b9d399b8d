"""GitHub Actions workflow commands, which show findings as annotations on the diff.

``validate -o github``: one ``::error``, ``::warning`` or ``::notice`` command per
finding (deny, warn, audit) and an ``::error`` per input error, sorted by file and
line, then the plain summary line of the ``text`` format.

``test -o github``: an ``::error`` per failed case at the case in ``cases.yaml`` (or
at the mistake that kept it from running), titled ``FOLDER: CASE``, then the text
report of ``test``.
"""

from __future__ import annotations

from typing import Final

from webhook import testing
from webhook.cli.output.text import describe, entries, summary_line
from webhook.cli.report import InputError, Report
from webhook.findings import Action

COMMANDS: Final[dict[Action, str]] = {
    Action.DENY: "error",
    Action.WARN: "warning",
    Action.AUDIT: "notice",
}
"""Workflow command for each action."""


def escape_data(value: str) -> str:
    """Escape a workflow command's message (``%``, CR and LF).

    Args:
        value: The message.

    Returns:
        The message as GitHub's runner expects it.
    """
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a workflow command's property value (as data, plus ``:`` and ``,``).

    Args:
        value: The property value, e.g. a file name.

    Returns:
        The value as GitHub's runner expects it.
    """
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, properties: dict[str, str]) -> str:
    """Build one workflow command line.

    Args:
        name: The command, e.g. ``error``.
        message: The unescaped message.
        properties: Unescaped property values in output order; may be empty.

    Returns:
        ``::NAME key=value,...::MESSAGE`` with everything escaped.
    """
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties.items())
    return f"::{name}{' ' + props if props else ''}::{escape_data(message)}"


def _properties(file: str, line: int, column: int) -> dict[str, str]:
    if file == "-":  # standard input: nothing in the repository to annotate
        return {}
    properties = {"file": file}
    if line > 0:
        properties["line"] = str(line)
        if column > 0:
            properties["col"] = str(column)
    return properties


def render_github(report: Report) -> str:
    """Render a report as GitHub Actions workflow commands.

    Args:
        report: What the run found.

    Returns:
        One command per line, then the summary line; ends with a newline.
    """
    lines: list[str] = []
    for file, item in entries(report):
        properties = _properties(file, item.line, item.column)
        if isinstance(item, InputError):
            lines.append(command("error", item.message, properties))
        else:
            properties["title"] = item.rule
            message = describe(item.path, item.message)
            lines.append(command(COMMANDS[item.action], message, properties))
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def render_test_github(results: testing.Results) -> str:
    """Render policy test results (``trainingjob-guard test``) for GitHub Actions.

    Args:
        results: Every case of every folder, in run order.

    Returns:
        One ``::error`` command per failed case, then the text report (which ends
        with the summary line); ends with a newline.
    """
    lines: list[str] = []
    for case in results.cases:
        if case.passed:
            continue
        properties = _properties(case.file, case.line, case.column) if case.file else {}
        properties["title"] = testing.label(case)
        lines.append(command("error", "\n".join(case.problems), properties))
    return "".join(f"{line}\n" for line in lines) + testing.render(results)
