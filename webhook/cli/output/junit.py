"""JUnit XML output, for CI systems that show test reports.

``<testsuites name="trainingjob-guard">`` holds one ``<testsuite>`` per input file and
one ``<testcase>`` per TrainingJob. A denied TrainingJob has a ``<failure type="deny">``
listing its denying findings; warn and audit findings go to ``<system-out>``. Every
input error is a test case of its own with an ``<error>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from webhook.cli.output.text import plural
from webhook.cli.report import InputError, ObjectResult, Report, Violation
from webhook.findings import Action

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Replace each character XML 1.0 forbids with a visible backslash-u escape."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _position(line: int, column: int) -> str:
    """``LINE:COL `` (with the space), or nothing when the line is unknown."""
    return f"{line}:{column} " if line > 0 else ""


def _finding_line(violation: Violation, *, with_action: bool) -> str:
    action = f"{violation.action.value} " if with_action else ""
    where = _position(violation.line, violation.column)
    rule = f"{violation.rule} {violation.path}" if violation.path else violation.rule
    return f"{where}{action}{rule}: {violation.message}"


def _case_name(result: ObjectResult) -> str:
    name = result.name or "unnamed TrainingJob"
    return f"{name} (line {result.line})" if result.line > 0 else name


def _result_case(suite: ET.Element, result: ObjectResult) -> bool:
    """Append the test case for *result*; return True if it failed."""
    case = ET.SubElement(
        suite,
        "testcase",
        {"classname": _xml_safe(result.file), "name": _xml_safe(_case_name(result))},
    )
    ordered = sorted(result.violations, key=lambda v: (v.line, v.column))
    denials = [v for v in ordered if v.action is Action.DENY]
    others = [v for v in ordered if v.action is not Action.DENY]
    failed = not result.allowed
    if failed:
        failure = ET.SubElement(
            case,
            "failure",
            {"message": plural(len(denials), "violation", "violations"), "type": "deny"},
        )
        failure.text = _xml_safe("\n".join(_finding_line(v, with_action=False) for v in denials))
    if others:
        out = ET.SubElement(case, "system-out")
        out.text = _xml_safe("\n".join(_finding_line(v, with_action=True) for v in others))
    return failed


def _error_case(suite: ET.Element, error: InputError) -> None:
    name = f"input error (line {error.line})" if error.line > 0 else "input error"
    case = ET.SubElement(suite, "testcase", {"classname": _xml_safe(error.file), "name": name})
    element = ET.SubElement(
        case, "error", {"message": _xml_safe(error.message), "type": "input-error"}
    )
    element.text = _xml_safe(f"{_position(error.line, error.column)}{error.message}")


def render_junit(report: Report) -> str:
    """Render a report as JUnit XML.

    Suites are ordered by file name and test cases by line.

    Args:
        report: What the run found.

    Returns:
        An XML document with declaration, indented, ending with a newline.
    """
    by_file: dict[str, list[ObjectResult | InputError]] = {}
    everything: list[ObjectResult | InputError] = [*report.results, *report.errors]
    for item in everything:
        by_file.setdefault(item.file, []).append(item)

    root = ET.Element("testsuites", {"name": "trainingjob-guard"})
    total_failures = total_errors = 0
    for file in sorted(by_file):
        items = sorted(by_file[file], key=lambda entry: (entry.line, entry.column))
        suite = ET.SubElement(root, "testsuite", {"name": _xml_safe(file)})
        failures = errors = 0
        for item in items:
            if isinstance(item, InputError):
                _error_case(suite, item)
                errors += 1
            elif _result_case(suite, item):
                failures += 1
        suite.set("tests", str(len(items)))
        suite.set("failures", str(failures))
        suite.set("errors", str(errors))
        suite.set("skipped", "0")
        total_failures += failures
        total_errors += errors
    root.set("tests", str(len(report.results) + len(report.errors)))
    root.set("failures", str(total_failures))
    root.set("errors", str(total_errors))
    root.set("skipped", "0")

    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
