"""Human-readable output: one line per finding, sorted by file and line, then a summary.

Each finding is printed as ``FILE:LINE:COL: ACTION RULE PATH: MESSAGE`` and each
input error as ``FILE:LINE:COL: error: MESSAGE``; the ``:LINE:COL`` part is left out
when the position is unknown (line 0). The helpers here are shared with the
``github`` format, which ends with the same summary line.
"""

from __future__ import annotations

import orjson

from webhook.cli.report import InputError, Report, Violation


def plural(count: int, singular: str, plural_form: str) -> str:
    """Return ``"<count> <noun>"`` with the noun in the right number.

    Args:
        count: How many.
        singular: The noun for exactly one.
        plural_form: The noun for any other count.

    Returns:
        For example ``"1 input error"`` or ``"2 input errors"``.
    """
    return f"{count} {singular if count == 1 else plural_form}"


def summary_line(report: Report) -> str:
    """Summarise a run in one line.

    The first part is always there; the others only when they are not zero, e.g.
    ``3 TrainingJobs checked: 1 denied, 1 warned; 2 documents of other kinds skipped;
    1 input error``.

    Args:
        report: What the run found.

    Returns:
        The summary, without a trailing newline.
    """
    head = plural(len(report.results), "TrainingJob", "TrainingJobs") + " checked"
    outcomes = [
        f"{count} {word}"
        for count, word in ((report.denied, "denied"), (report.warned, "warned"))
        if count
    ]
    if outcomes:
        head += ": " + ", ".join(outcomes)
    parts = [head]
    if report.skipped:
        kinds = plural(report.skipped, "document of another kind", "documents of other kinds")
        parts.append(f"{kinds} skipped")
    if report.errors:
        parts.append(plural(len(report.errors), "input error", "input errors"))
    return "; ".join(parts)


def location(file: str, line: int, column: int) -> str:
    """Render a position as ``FILE:LINE:COL``.

    Args:
        file: The file name as given on the command line.
        line: 1-based line, or 0 if unknown (then only ``FILE`` is returned).
        column: 1-based column, or 0 if unknown (then ``FILE:LINE`` is returned).

    Returns:
        The position in compiler-style notation.
    """
    if line <= 0:
        return file
    if column <= 0:
        return f"{file}:{line}"
    return f"{file}:{line}:{column}"


def describe(path: str, message: str) -> str:
    """Prefix a message with the field path it is about.

    Args:
        path: The formatted field path; may be empty for document-level findings.
        message: What is wrong.

    Returns:
        ``"PATH: MESSAGE"``, or just ``MESSAGE`` when the path is empty.
    """
    return f"{path}: {message}" if path else message


def entries(report: Report) -> list[tuple[str, Violation | InputError]]:
    """List every violation and input error with its file, sorted by file, line and column.

    Args:
        report: What the run found.

    Returns:
        ``(file, item)`` pairs; items at the same position keep their report order.
    """
    items: list[tuple[str, Violation | InputError]] = [
        (result.file, violation) for result in report.results for violation in result.violations
    ]
    items.extend((error.file, error) for error in report.errors)
    return sorted(items, key=lambda entry: (entry[0], entry[1].line, entry[1].column))


def render_text(report: Report) -> str:
    """Render a report for people reading a terminal.

    Args:
        report: What the run found.

    Returns:
        One line per finding and input error, a blank line, then the summary line
        (just the summary when there is nothing to list); ends with a newline.
    """
    lines: list[str] = []
    for file, item in entries(report):
        where = location(file, item.line, item.column)
        if isinstance(item, InputError):
            lines.append(f"{where}: error: {item.message}")
        else:
            rule = f"{item.rule} {item.path}" if item.path else item.rule
            lines.append(f"{where}: {item.action.value} {rule}: {item.message}")
    if report.show_patch:
        for result in report.results:
            if result.patch:
                ops = orjson.dumps(list(result.patch)).decode()
                lines.append(f"{location(result.file, result.line, 0)}: patch: {ops}")
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
