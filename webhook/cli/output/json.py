"""Machine-readable JSON output: every result, every input error and the counts.

The document is one object, pretty-printed with two-space indentation::

    {
      "results": [{"file", "line", "column", "name", "namespace", "allowed",
                   "violations": [{"rule", "action", "path", "message", "line", "column"}],
                   "patch": [RFC 6902 operations of the defaults applied first]}],
      "errors": [{"file", "line", "column", "message"}],
      "summary": {"documents", "trainingJobs", "skipped", "denied", "warned", "errors"}
    }
"""

from __future__ import annotations

import orjson

from webhook.cli.report import InputError, ObjectResult, Report, Violation


def _violation(violation: Violation) -> dict[str, object]:
    return {
        "rule": violation.rule,
        "action": violation.action.value,
        "path": violation.path,
        "message": violation.message,
        "line": violation.line,
        "column": violation.column,
    }


def _result(result: ObjectResult) -> dict[str, object]:
    return {
        "file": result.file,
        "line": result.line,
        "column": result.column,
        "name": result.name,
        "namespace": result.namespace,
        "allowed": result.allowed,
        "violations": [_violation(violation) for violation in result.violations],
        "patch": list(result.patch),
    }


def _error(error: InputError) -> dict[str, object]:
    return {
        "file": error.file,
        "line": error.line,
        "column": error.column,
        "message": error.message,
    }


def render_json(report: Report) -> str:
    """Render a report as one JSON object.

    Args:
        report: What the run found.

    Returns:
        Pretty-printed JSON (two-space indent) ending with a newline.
    """
    document = {
        "results": [_result(result) for result in report.results],
        "errors": [_error(error) for error in report.errors],
        "summary": {
            "documents": report.documents,
            "trainingJobs": len(report.results),
            "skipped": report.skipped,
            "denied": report.denied,
            "warned": report.warned,
            "errors": len(report.errors),
        },
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
