"""What ``audit`` prints: the non-compliant TrainingJobs and the counts.

An object is *non-compliant* when it has any finding (deny, warn or audit: audit
actions exist to show up in reports); ``allowed`` says whether the webhook would
still admit it. Only non-compliant objects are kept in the report, so its memory
grows with the problems found, not with the cluster. :attr:`AuditReport.exit_code`
follows ``validate``: 1 when some object would be denied, else 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from webhook.audit.examine import Examined, NamespaceLabelLookup, examine
from webhook.engine import Config
from webhook.findings import Finding

__all__ = [
    "AuditReport",
    "AuditResult",
    "audit",
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
