"""JUnit XML output, for CI systems that show test reports.

``validate -o junit``: ``<testsuites name="trainingjob-guard">`` holds one
``<testsuite>`` per input file and one ``<testcase>`` per TrainingJob. A denied
TrainingJob has a ``<failure type="deny">`` listing its denying findings; warn and
audit findings go to ``<system-out>``, so a job allowed with warnings shows them
too. Every input error is a test case of its own with an ``<error>``.

``test -o junit``: one ``<testsuite>`` per policy folder and one ``<testcase>`` per
case, with a ``<failure type="mismatch">`` when the policy decided otherwise, or an
``<error>`` when the case could not run.

Both follow the strictest schema CI systems check reports against, Jenkins' xUnit
plugin's ``junit-10.xsd``: counts on every element, ``time`` in seconds on each test
case, suite and the whole, ``skipped`` on suites only (the schema has none on
``<testsuites>``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from webhook.cli.output.text import plural
from webhook.cli.report import InputError, ObjectResult, Report, Violation
from webhook.findings import Action
from webhook.testing import CaseResult, Results

# Characters XML 1.0 cannot carry at all, not even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    """Replace each character XML 1.0 forbids with a visible backslash-u escape."""
    return _NOT_XML.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _seconds(value: float) -> str:
    """Seconds as the schema's ``SUREFIRE_TIME`` takes them: ``0.004``."""
    return f"{value:.3f}"


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
        {
            "classname": _xml_safe(result.file),
            "name": _xml_safe(_case_name(result)),
            "time": _seconds(result.seconds),
        },
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
    case = ET.SubElement(
        suite, "testcase", {"classname": _xml_safe(error.file), "name": name, "time": _seconds(0)}
    )
    element = ET.SubElement(
        case, "error", {"message": _xml_safe(error.message), "type": "input-error"}
    )
    element.text = _xml_safe(f"{_position(error.line, error.column)}{error.message}")


def _suite(root: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(root, "testsuite", {"name": _xml_safe(name)})


def _count(element: ET.Element, cases: int, failures: int, errors: int, seconds: float) -> None:
    element.set("tests", str(cases))
    element.set("failures", str(failures))
    element.set("errors", str(errors))
    if element.tag == "testsuite":
        element.set("skipped", "0")
    element.set("time", _seconds(seconds))


def _document(root: ET.Element, suites: Iterable[ET.Element]) -> str:
    """Total the suites' counts on *root*; the XML document, declaration first."""
    listed = list(suites)

    def total(key: str) -> int:
        return sum(int(suite.get(key, "0")) for suite in listed)

    seconds = sum(float(suite.get("time", "0")) for suite in listed)
    _count(root, total("tests"), total("failures"), total("errors"), seconds)
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


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
    suites = []
    for file in sorted(by_file):
        items = sorted(by_file[file], key=lambda entry: (entry.line, entry.column))
        suite = _suite(root, file)
        failures = errors = 0
        seconds = 0.0
        for item in items:
            if isinstance(item, InputError):
                _error_case(suite, item)
                errors += 1
            else:
                failures += _result_case(suite, item)
                seconds += item.seconds
        _count(suite, len(items), failures, errors, seconds)
        suites.append(suite)
    return _document(root, suites)


def _test_case(suite: ET.Element, result: CaseResult) -> None:
    name = result.name or "policy folder"
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": _xml_safe(result.folder),
            "name": _xml_safe(name),
            "time": _seconds(result.seconds),
        },
    )
    if result.passed:
        return
    tag, kind = ("error", "cannot-run") if result.error else ("failure", "mismatch")
    first = result.problems[0].splitlines()[0].removesuffix(":")
    element = ET.SubElement(case, tag, {"message": _xml_safe(first), "type": kind})
    element.text = _xml_safe("\n".join(result.problems))


def render_test_junit(results: Results) -> str:
    """Render policy test results (``trainingjob-guard test``) as JUnit XML.

    Args:
        results: Every case of every folder, in run order.

    Returns:
        An XML document with declaration, indented, ending with a newline.
    """
    root = ET.Element("testsuites", {"name": "trainingjob-guard test"})
    by_folder: dict[str, list[CaseResult]] = {}
    for result in results.cases:
        by_folder.setdefault(result.folder, []).append(result)
    suites = []
    for folder, cases in by_folder.items():
        suite = _suite(root, folder)
        for result in cases:
            _test_case(suite, result)
        failures = sum(1 for c in cases if not c.passed and not c.error)
        errors = sum(1 for c in cases if c.error)
        _count(suite, len(cases), failures, errors, sum(c.seconds for c in cases))
        suites.append(suite)
    return _document(root, suites)
