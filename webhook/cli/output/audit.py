"""What ``trainingjob-guard audit`` prints: its reports rendered for people and scripts.

The audit itself is :mod:`webhook.audit` (pure: judging jobs, the report, the
PolicyReports, a policy change's impact); this module only turns its results into
text: ``-o text`` and ``-o json`` of an audit (:data:`AUDIT_FORMATS`) and of
``--compare-to`` (:data:`IMPACT_FORMATS`), and ``-o policyreport``'s YAML stream
(:func:`render_policyreports`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Final

import orjson
import yaml

from webhook.audit.impact import Change, Impact
from webhook.audit.report import AuditReport
from webhook.audit.wgpolicyk8s import PolicyReport
from webhook.findings import Finding

__all__ = [
    "AUDIT_FORMATS",
    "IMPACT_FORMATS",
    "finding_line",
    "impact_summary_line",
    "render_impact_json",
    "render_impact_text",
    "render_json",
    "render_policyreports",
    "render_text",
    "summary_line",
    "violation",
]


# --- an audit's report ----------------------------------------------------------------


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def summary_line(report: AuditReport) -> str:
    """``N TrainingJobs checked: M non-compliant (D would be denied)``."""
    noun = "TrainingJob" if report.checked == 1 else "TrainingJobs"
    line = f"{report.checked} {noun} checked: {report.non_compliant} non-compliant"
    return f"{line} ({report.denied} would be denied)" if report.non_compliant else line


def finding_line(finding: Finding) -> str:
    """``ACTION RULE PATH: MESSAGE``, as every text output of ``audit`` shows a finding."""
    rule = f"{finding.rule} {finding.where}" if finding.path else finding.rule
    return f"{finding.action.value} {rule}: {finding.message}"


def render_text(report: AuditReport) -> str:
    """For people: ``NAMESPACE/NAME: ACTION RULE PATH: MESSAGE`` per finding, then the counts."""
    lines: list[str] = []
    for result in report.results:
        for finding in result.findings:
            lines.append(f"{result.namespace}/{result.name}: {finding_line(finding)}")
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    if report.by_rule:
        lines.append("by rule: " + ", ".join(f"{k} {v}" for k, v in _ranked(report.by_rule)))
        counts = _ranked(report.by_namespace)
        lines.append("by namespace: " + ", ".join(f"{k} {v}" for k, v in counts))
    return "\n".join(lines) + "\n"


def violation(finding: Finding) -> dict[str, str]:
    """A finding as the JSON outputs of ``audit`` show it."""
    return {
        "rule": finding.rule,
        "action": finding.action.value,
        "path": finding.where,
        "message": finding.message,
    }


def render_json(report: AuditReport) -> str:
    """For scripts: one object with ``results`` (non-compliant objects) and ``summary``."""
    document = {
        "results": [
            {
                "namespace": result.namespace,
                "name": result.name,
                "allowed": result.allowed,
                "violations": [violation(finding) for finding in result.findings],
            }
            for result in report.results
        ],
        "summary": {
            "checked": report.checked,
            "nonCompliant": report.non_compliant,
            "denied": report.denied,
            "byRule": dict(sorted(report.by_rule.items())),
            "byNamespace": dict(sorted(report.by_namespace.items())),
        },
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


AUDIT_FORMATS: Final[dict[str, Callable[[AuditReport], str]]] = {
    "text": render_text,
    "json": render_json,
}
"""Render function for each ``-o`` format of ``audit`` that prints a report."""


# --- a policy change's impact (--compare-to) -------------------------------------------


_HEADINGS: Final = {
    Change.NEWLY_DENIED: "newly denied",
    Change.NEWLY_ALLOWED: "newly allowed",
    Change.FINDINGS_CHANGED: "findings changed",
}


def impact_summary_line(impact: Impact) -> str:
    """``N TrainingJobs checked: D newly denied, A newly allowed, C ... , U unchanged``."""
    noun = "TrainingJob" if impact.checked == 1 else "TrainingJobs"
    counts = ", ".join(f"{impact.count(change)} {_HEADINGS[change]}" for change in Change)
    return f"{impact.checked} {noun} checked: {counts}, {impact.unchanged} unchanged"


def render_impact_text(impact: Impact) -> str:
    """For people: each changed job, ``+`` for a new finding and ``-`` for a gone one."""
    lines: list[str] = []
    for found in impact.flips:
        heading = _HEADINGS[found.change]
        if found.change is Change.FINDINGS_CHANGED:
            heading += " (still allowed)" if found.allowed_after else " (still denied)"
        lines.append(f"{found.namespace}/{found.name}: {heading}")
        lines.extend(f"  + {finding_line(finding)}" for finding in found.added)
        lines.extend(f"  - {finding_line(finding)}" for finding in found.removed)
    if lines:
        lines.append("")
    lines.append(impact_summary_line(impact))
    return "\n".join(lines) + "\n"


def render_impact_json(impact: Impact) -> str:
    """For scripts: ``results`` (the jobs that change) and ``summary`` (the counts)."""
    document = {
        "results": [
            {
                "namespace": found.namespace,
                "name": found.name,
                "change": found.change.value,
                "allowedBefore": found.allowed_before,
                "allowedAfter": found.allowed_after,
                "added": [violation(finding) for finding in found.added],
                "removed": [violation(finding) for finding in found.removed],
            }
            for found in impact.flips
        ],
        "summary": {
            "checked": impact.checked,
            **{change.value: impact.count(change) for change in Change},
            "unchanged": impact.unchanged,
        },
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


IMPACT_FORMATS: Final[dict[str, Callable[[Impact], str]]] = {
    "text": render_impact_text,
    "json": render_impact_json,
}
"""Render function for each ``-o`` format of ``audit --compare-to``."""


# --- PolicyReports (-o policyreport) ------------------------------------------------------


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """YAML without anchors: the results of a job share their ``resources`` list."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render_policyreports(reports: Sequence[PolicyReport]) -> str:
    """The reports as one multi-document YAML stream, as ``kubectl apply -f -`` reads it."""
    return "".join(
        "---\n" + yaml.dump(report, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        for report in reports
    )
