"""SARIF 2.1.0 output, for GitHub code scanning and other static-analysis viewers.

One run whose ``tool.driver.rules`` lists every rule that fired (described from the
rule catalogue), one result per finding with level ``error`` (deny), ``warning``
(warn) or ``note`` (audit), located by file, line and column and by field path.
Input errors are results of the ``input-error`` rule.
"""

from __future__ import annotations

from typing import Final

import orjson

from webhook import __version__
from webhook.catalog import RULES
from webhook.cli.output.text import describe
from webhook.cli.report import Report, Violation
from webhook.findings import Action

SCHEMA_URI: Final = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI: Final = "https://github.com/trainingjob-guard/trainingjob-guard"
INPUT_ERROR_RULE: Final = "input-error"
INPUT_ERROR_DESCRIPTION: Final = "A file that cannot be read or a document that is not valid YAML"

LEVELS: Final[dict[Action, str]] = {
    Action.DENY: "error",
    Action.WARN: "warning",
    Action.AUDIT: "note",
}
"""SARIF result level for each action."""


def artifact_uri(file: str) -> str:
    """Turn a file name as given on the command line into a SARIF artifact URI.

    Args:
        file: The file name; ``-`` means standard input.

    Returns:
        The name with forward slashes, or ``stdin`` for ``-``.
    """
    return "stdin" if file == "-" else file.replace("\\", "/")


def _location(file: str, line: int, column: int, path: str = "") -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": artifact_uri(file)}}
    if line > 0:
        region: dict[str, int] = {"startLine": line}
        if column > 0:
            region["startColumn"] = column
        physical["region"] = region
    location: dict[str, object] = {"physicalLocation": physical}
    if path:
        location["logicalLocations"] = [{"fullyQualifiedName": path}]
    return location


def _description(rule: str) -> str:
    if rule == INPUT_ERROR_RULE:
        return INPUT_ERROR_DESCRIPTION
    return RULES.get(rule, rule)


def render_sarif(report: Report) -> str:
    """Render a report as a SARIF 2.1.0 log.

    Args:
        report: What the run found.

    Returns:
        Pretty-printed JSON (two-space indent) ending with a newline.
    """
    located: list[tuple[str, Violation]] = [
        (result.file, violation) for result in report.results for violation in result.violations
    ]
    rule_ids = {violation.rule for _, violation in located}
    if report.errors:
        rule_ids.add(INPUT_ERROR_RULE)
    ordered = sorted(rule_ids)
    index = {rule: position for position, rule in enumerate(ordered)}

    results: list[dict[str, object]] = [
        {
            "ruleId": violation.rule,
            "ruleIndex": index[violation.rule],
            "level": LEVELS[violation.action],
            "message": {"text": describe(violation.path, violation.message)},
            "locations": [_location(file, violation.line, violation.column, violation.path)],
        }
        for file, violation in located
    ]
    results.extend(
        {
            "ruleId": INPUT_ERROR_RULE,
            "ruleIndex": index[INPUT_ERROR_RULE],
            "level": "error",
            "message": {"text": error.message},
            "locations": [_location(error.file, error.line, error.column)],
        }
        for error in report.errors
    )

    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trainingjob-guard",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [
                            {"id": rule, "shortDescription": {"text": _description(rule)}}
                            for rule in ordered
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return orjson.dumps(log, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
