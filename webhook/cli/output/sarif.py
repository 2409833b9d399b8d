"""SARIF 2.1.0 output, for GitHub code scanning and other static-analysis viewers.

One run whose ``tool.driver.rules`` describes every rule that fired, one result per
finding, and a result of the ``input-error`` rule per input error. The choices,
each for what a viewer does with it:

- Levels follow the action: ``error`` (deny), ``warning`` (warn), ``note`` (audit),
  so the log says what the webhook would do, as the exit code does.
- A policy's rules carry the policy's ``severity`` as ``security-severity`` (with
  the ``security`` tag GitHub requires for it to count), so code scanning ranks
  them critical, high, medium or low; built-in rules, which check the SageMaker
  API's constraints rather than a security choice, carry none.
- File names become RFC 3986 URI references, percent-encoded from UTF-8: GitHub
  would read ``#`` as a fragment, and a space or ``ü`` is no URI at all. A file
  under the working directory is relative to ``%SRCROOT%`` (``originalUriBaseIds``:
  the working directory as a ``file://`` URI), which code scanning resolves against
  the checkout; any other file is an absolute ``file://`` URI.
- ``partialFingerprints`` hash the rule, the file, the job and the field path, not
  the line, so an alert keeps its identity when lines above it move.
"""

from __future__ import annotations

import hashlib
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import orjson

from webhook import __version__
from webhook.catalog import RULES
from webhook.cli.output.text import describe
from webhook.cli.report import InputError, ObjectResult, Report, Violation
from webhook.findings import Action
from webhook.policy.compiled import CompiledPolicy, CompiledRule, PolicySet
from webhook.policy.model import Rule

SCHEMA_URI: Final = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI: Final = "https://github.com/trainingjob-guard/trainingjob-guard"
INPUT_ERROR_RULE: Final = "input-error"
INPUT_ERROR_DESCRIPTION: Final = "A file that cannot be read or a document that is not valid YAML"
SRCROOT: Final = "%SRCROOT%"
"""The base id of files under the working directory (the name GitHub's docs use)."""
STDIN_URI: Final = "stdin"
FINGERPRINT: Final = "trainingjobGuardFinding/v1"
"""The ``partialFingerprints`` key: versioned, as SARIF asks, in case its inputs change."""

LEVELS: Final[dict[Action, str]] = {
    Action.DENY: "error",
    Action.WARN: "warning",
    Action.AUDIT: "note",
}
"""SARIF result level for each action."""

SECURITY_SEVERITY: Final[dict[str, str]] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "3.0",
}
"""``security-severity`` for each policy severity: a score inside the CVSS band GitHub
shows with that name (critical 9.0-10.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9)."""


def file_uri(path: str) -> str:
    """An absolute path as a ``file://`` URI, percent-encoded."""
    return Path(path).as_uri()


def root_uri(root: str) -> str:
    """The working directory as a ``file://`` URI ending in ``/`` (a base for relative URIs)."""
    uri = file_uri(os.path.abspath(root))
    return uri if uri.endswith("/") else uri + "/"


def artifact_location(file: str, root: str) -> dict[str, str]:
    """Where *file*, as given on the command line, is: a SARIF ``artifactLocation``.

    Args:
        file: The file name; ``-`` means standard input.
        root: The working directory, which relative names are relative to.

    Returns:
        ``{"uri", "uriBaseId": "%SRCROOT%"}`` for a file under *root* (the URI
        relative, with ``/`` separators, every other character outside RFC 3986's
        unreserved set percent-encoded from UTF-8); ``{"uri": "file:///..."}`` for
        any other file; ``{"uri": "stdin"}`` for standard input.
    """
    if file == "-":
        return {"uri": STDIN_URI}
    absolute = os.path.abspath(os.path.join(root, file))
    try:
        relative = os.path.relpath(absolute, os.path.abspath(root))
    except ValueError:  # another drive (Windows): no relative path exists
        return {"uri": file_uri(absolute)}
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        return {"uri": file_uri(absolute)}
    segments = relative.split(os.sep)
    uri = "/".join(urllib.parse.quote(os.fsencode(segment), safe="") for segment in segments)
    return {"uri": uri, "uriBaseId": SRCROOT}


def fingerprint(rule: str, location: dict[str, str], job: str, path: str) -> str:
    """A stable identity for a finding: its rule, file, job and field path, never its line."""
    parts = (rule, location.get("uriBaseId", ""), location["uri"], job, path)
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class PolicyRule:
    """A rule of a loaded policy, with the policy that defines it."""

    policy: CompiledPolicy
    compiled: CompiledRule
    rule: Rule


def policy_rules(policies: PolicySet) -> dict[str, PolicyRule]:
    """Every rule of *policies* by its finding id (``<policy id>/<rule id>``)."""
    found: dict[str, PolicyRule] = {}
    for policy in policies.policies:
        by_id = {f"{policy.id}/{rule.id}": rule for rule in policy.document.rules}
        for compiled in policy.rules:
            rule = by_id.get(compiled.id)
            if rule is not None:
                found[compiled.id] = PolicyRule(policy, compiled, rule)
    return found


def _text(text: str) -> dict[str, str]:
    return {"text": text}


def _builtin_descriptor(rule: str) -> dict[str, object]:
    if rule == INPUT_ERROR_RULE:
        return {
            "id": rule,
            "shortDescription": _text(INPUT_ERROR_DESCRIPTION),
            "fullDescription": _text(f"{INPUT_ERROR_DESCRIPTION}: nothing in it was checked."),
            "help": _text(
                "The message says what is wrong at the given line and column; fix the file "
                "and run again."
            ),
        }
    description = RULES[rule]
    return {
        "id": rule,
        "shortDescription": _text(description),
        "fullDescription": _text(f"{description} (built-in rule {rule})"),
        "help": _text(
            f"{description}\n\nA built-in rule of trainingjob-guard. Its action can be "
            f"changed with --rule-action {rule}=ACTION (deny, warn or audit) or, for the "
            "jobs a policy matches, with the policy's apiConstraints."
        ),
    }


def _policy_descriptor(rule_id: str, found: PolicyRule) -> dict[str, object]:
    policy, rule = found.policy, found.rule
    document = policy.document
    generic = f"Rule {rule.id} ({rule.kind}) of policy {policy.id}."
    short = rule.description or document.description or generic
    full = " ".join(text for text in (rule.description, document.description) if text) or generic
    lines = [
        f"Rule {rule.id} ({rule.kind}) of policy {policy.id} version {document.version}, "
        f"severity {document.severity}; its action: {found.compiled.action.value}.",
    ]
    if rule.description:
        lines.append(f"Rule: {rule.description}")
    if document.description:
        lines.append(f"Policy: {document.description}")
    return {
        "id": rule_id,
        "shortDescription": _text(short),
        "fullDescription": _text(full),
        "help": _text("\n\n".join(lines)),
        "defaultConfiguration": {"level": LEVELS[found.compiled.action]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[document.severity],
            "tags": ["security", f"policy/{policy.id}"],
        },
    }


def _generic_descriptor(rule: str) -> dict[str, object]:
    policy, slash, _ = rule.partition("/")
    text = f"A rule of policy {policy}." if slash else f"Rule {rule}."
    return {
        "id": rule,
        "shortDescription": _text(text),
        "fullDescription": _text(text),
        "help": _text(f"{text} The policies this run loaded do not describe it."),
    }


def rule_descriptor(rule: str, rules: dict[str, PolicyRule]) -> dict[str, object]:
    """The ``reportingDescriptor`` of *rule*: built in, of a loaded policy, or unknown."""
    if rule == INPUT_ERROR_RULE or rule in RULES:
        return _builtin_descriptor(rule)
    found = rules.get(rule)
    return _policy_descriptor(rule, found) if found is not None else _generic_descriptor(rule)


def _location(
    artifact: dict[str, str], line: int, column: int, path: str = ""
) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": artifact}
    if line > 0:
        region: dict[str, int] = {"startLine": line}
        if column > 0:
            region["startColumn"] = column
        physical["region"] = region
    location: dict[str, object] = {"physicalLocation": physical}
    if path:
        location["logicalLocations"] = [{"fullyQualifiedName": path}]
    return location


def _job(result: ObjectResult) -> str:
    return f"{result.namespace or ''}/{result.name or ''}"


def _violation_result(
    result: ObjectResult, violation: Violation, base: str, rule_index: int
) -> dict[str, object]:
    """The SARIF ``result`` of one finding in a job of *result*'s file."""
    artifact = artifact_location(result.file, base)
    key = fingerprint(violation.rule, artifact, _job(result), violation.path)
    return {
        "ruleId": violation.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[violation.action],
        "message": _text(describe(violation.path, violation.message)),
        "locations": [_location(artifact, violation.line, violation.column, violation.path)],
        "partialFingerprints": {FINGERPRINT: key},
    }


def _input_error_result(error: InputError, base: str, rule_index: int) -> dict[str, object]:
    """The SARIF ``result`` of an input error, under the ``input-error`` rule."""
    artifact = artifact_location(error.file, base)
    return {
        "ruleId": INPUT_ERROR_RULE,
        "ruleIndex": rule_index,
        "level": "error",
        "message": _text(error.message),
        "locations": [_location(artifact, error.line, error.column)],
        "partialFingerprints": {
            FINGERPRINT: fingerprint(INPUT_ERROR_RULE, artifact, "", error.message)
        },
    }


def render_sarif(report: Report, *, root: str | None = None) -> str:
    """Render a report as a SARIF 2.1.0 log.

    Args:
        report: What the run found.
        root: The directory relative file names are relative to (``%SRCROOT%``);
            default: the working directory.

    Returns:
        Pretty-printed JSON (two-space indent) ending with a newline.
    """
    base = root if root is not None else os.getcwd()
    located: list[tuple[ObjectResult, Violation]] = [
        (result, violation) for result in report.results for violation in result.violations
    ]
    rule_ids = {violation.rule for _, violation in located}
    if report.errors:
        rule_ids.add(INPUT_ERROR_RULE)
    ordered = sorted(rule_ids)
    index = {rule: position for position, rule in enumerate(ordered)}
    known = policy_rules(report.policies)

    results = [
        _violation_result(result, violation, base, index[violation.rule])
        for result, violation in located
    ]
    results += [
        _input_error_result(error, base, index[INPUT_ERROR_RULE]) for error in report.errors
    ]

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
                        "rules": [rule_descriptor(rule, known) for rule in ordered],
                    }
                },
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri(base)}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return orjson.dumps(log, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()
