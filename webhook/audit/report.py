"""What ``audit`` prints: the non-compliant TrainingJobs and the counts.

An object is *non-compliant* when it has any finding (deny, warn or audit: audit
actions exist to show up in reports); ``allowed`` says whether the webhook would
still admit it. Only non-compliant objects are kept in the report, so its memory
grows with the problems found, not with the cluster. :attr:`AuditReport.exit_code`
follows ``validate``: 1 when some object would be denied, else 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from webhook.audit.examine import Examined, NamespaceLabelLookup, examine
from webhook.engine import Config
from webhook.findings import Finding

__all__ = [
    "AUDIT_FORMATS",
    "AuditReport",
    "AuditResult",
    "audit",
    "render_json",
    "render_text",
    "summary_line",
    "violation",
]


@dataclass(frozen=True, slots=True)
class AuditResult:
    """One non-compliant TrainingJob and its findings."""

    namespace: str
    name: str
    allowed: bool
    """Whether the webhook would admit it today (no denying finding)."""
    findings: tuple[Finding, ...]


@dataclass(slots=True)
class AuditReport:
    """What an audit found: the non-compliant objects and the counts."""

    results: list[AuditResult] = field(default_factory=list)
    checked: int = 0
    """TrainingJobs checked."""
    by_rule: Counter[str] = field(default_factory=Counter)
    """Findings per rule id."""
    by_namespace: Counter[str] = field(default_factory=Counter)
    """Non-compliant TrainingJobs per namespace."""

    def add(self, examined: Examined) -> None:
        """Count one examined job; keep it only when it has findings."""
        self.checked += 1
        findings = examined.decision.findings
        if not findings:
            return
        job = examined.job
        self.results.append(AuditResult(job.namespace, job.name, examined.allowed, findings))
        self.by_namespace[job.namespace] += 1
        self.by_rule.update(finding.rule for finding in findings)

    def finish(self) -> AuditReport:
        """Sort the results by namespace and name; return the report."""
        self.results.sort(key=lambda result: (result.namespace, result.name))
        return self

    @property
    def non_compliant(self) -> int:
        """TrainingJobs with at least one finding."""
        return len(self.results)

    @property
    def denied(self) -> int:
        """TrainingJobs the webhook would deny today."""
        return sum(1 for result in self.results if not result.allowed)

    @property
    def exit_code(self) -> int:
        """1 if some TrainingJob would be denied, else 0."""
        return 1 if self.denied else 0


def audit(
    objects: Iterable[Mapping[str, Any]],
    config: Config,
    labels: NamespaceLabelLookup,
) -> AuditReport:
    """Review every object as a CREATE of today, without mutation; collect what is wrong."""
    report = AuditReport()
    for examined in examine(objects, config, labels):
        report.add(examined)
    return report.finish()


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
