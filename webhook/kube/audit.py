"""``trainingjob-guard audit``: check the TrainingJobs already in a cluster.

Policies change and webhooks get installed after the fact, so this lists the
TrainingJobs (one namespace or all, paginated with ``limit``/``continue``) and runs
each through :func:`webhook.engine.review` exactly as the webhook would judge a
CREATE today, with the namespace's labels looked up, but without the defaults
(the stored object already had them applied when it was created: ``mutate=False``).
It only reads: no write request is ever sent.

An object is *non-compliant* when it has any finding (deny, warn or audit: audit
actions exist to show up in reports); ``allowed`` says whether the webhook would
still admit it. Only non-compliant objects are kept in the report, so its memory
grows with the problems found, not with the cluster. :attr:`AuditReport.exit_code`
follows ``validate``: 1 when some object would be denied, else 0.

The command line (``trainingjob-guard audit``, in ``webhook/cli/commands.py``) loads
the cluster configuration, lists, audits and renders with these functions.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

import orjson
from kubernetes import client

from webhook.engine import Config, Context, review
from webhook.findings import Finding
from webhook.kube.client import error_message, status_code
from webhook.kube.errors import KubeError
from webhook.model import API_VERSION, GROUP, KIND, VERSION

__all__ = [
    "AUDIT_FORMATS",
    "PLURAL",
    "AuditReport",
    "AuditResult",
    "audit",
    "list_training_jobs",
    "namespace_lookup",
    "render_json",
    "render_text",
]

PLURAL: Final = "trainingjobs"
NamespaceLabelLookup = Callable[[str], Mapping[str, str] | None]


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


def list_training_jobs(
    api: client.ApiClient, namespace: str | None = None, page_size: int = 200
) -> Iterator[dict[str, Any]]:
    """Yield the TrainingJobs of *namespace* (None: all namespaces) as plain dicts, page by page.

    Raises:
        KubeError: The list failed (the message names the scope and the API server's reason).
    """
    custom = client.CustomObjectsApi(api)
    token: str | None = None
    while True:
        try:
            if namespace is None:
                page = custom.list_cluster_custom_object(
                    GROUP, VERSION, PLURAL, limit=page_size, _continue=token
                )
            else:
                page = custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, PLURAL, limit=page_size, _continue=token
                )
        except Exception as error:
            raise KubeError(_list_error(error, namespace)) from error
        if not isinstance(page, dict):
            raise KubeError(f"listing TrainingJobs returned {type(page).__name__}, not a list")
        items = page.get("items")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict):
                # Items of a custom resource list carry these; be sure for the engine.
                item.setdefault("apiVersion", API_VERSION)
                item.setdefault("kind", KIND)
                yield item
        metadata = page.get("metadata")
        token = metadata.get("continue") if isinstance(metadata, dict) else None
        if not token:
            return


def _list_error(error: BaseException, namespace: str | None) -> str:
    scope = f'in namespace "{namespace}"' if namespace else "in all namespaces"
    if status_code(error) == 404 and namespace is None:
        return (
            f"cannot list TrainingJobs {scope}: the API server does not serve "
            f"{PLURAL}.{GROUP}/{VERSION} (is the ACK SageMaker controller's CRD installed?)"
        )
    return f"cannot list TrainingJobs {scope}: {error_message(error)}"


def namespace_lookup(api: client.ApiClient) -> NamespaceLabelLookup:
    """Look up each namespace's labels once (a GET); None when that fails (e.g. forbidden)."""
    core = client.CoreV1Api(api)
    known: dict[str, Mapping[str, str] | None] = {}

    def labels(namespace: str) -> Mapping[str, str] | None:
        if namespace not in known:
            try:
                found = core.read_namespace(namespace, _request_timeout=30)
                raw = found.metadata.labels if found.metadata is not None else None
                known[namespace] = MappingProxyType(dict(raw or {}))
            except Exception:
                known[namespace] = None
        return known[namespace]

    return labels


def audit(
    objects: Iterable[Mapping[str, Any]],
    config: Config,
    labels: NamespaceLabelLookup,
) -> AuditReport:
    """Review every object as a CREATE of today, without mutation; collect what is wrong."""
    config = dataclasses.replace(config, mutate=False)
    report = AuditReport()
    for obj in objects:
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, Mapping) else {}
        namespace = _text(metadata.get("namespace"))
        name = _text(metadata.get("name"))
        namespace_labels = _safe_labels(labels, namespace) if namespace else None
        context = Context("CREATE", namespace=namespace or None, namespace_labels=namespace_labels)
        decision = review(obj, context=context, config=config)
        report.checked += 1
        if not decision.findings:
            continue
        report.results.append(AuditResult(namespace, name, decision.allowed, decision.findings))
        report.by_namespace[namespace] += 1
        report.by_rule.update(finding.rule for finding in decision.findings)
    report.results.sort(key=lambda result: (result.namespace, result.name))
    return report


def _safe_labels(labels: NamespaceLabelLookup, namespace: str) -> Mapping[str, str] | None:
    try:
        return labels(namespace)
    except Exception:  # unknown labels are reported by the engine, never guessed
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def summary_line(report: AuditReport) -> str:
    """``N TrainingJobs checked: M non-compliant (D would be denied)``."""
    noun = "TrainingJob" if report.checked == 1 else "TrainingJobs"
    line = f"{report.checked} {noun} checked: {report.non_compliant} non-compliant"
    return f"{line} ({report.denied} would be denied)" if report.non_compliant else line


def render_text(report: AuditReport) -> str:
    """For people: ``NAMESPACE/NAME: ACTION RULE PATH: MESSAGE`` per finding, then the counts."""
    lines: list[str] = []
    for result in report.results:
        for finding in result.findings:
            rule = f"{finding.rule} {finding.where}" if finding.path else finding.rule
            lines.append(
                f"{result.namespace}/{result.name}: {finding.action.value} {rule}: "
                f"{finding.message}"
            )
    if lines:
        lines.append("")
    lines.append(summary_line(report))
    if report.by_rule:
        lines.append("by rule: " + ", ".join(f"{k} {v}" for k, v in _ranked(report.by_rule)))
        counts = _ranked(report.by_namespace)
        lines.append("by namespace: " + ", ".join(f"{k} {v}" for k, v in counts))
    return "\n".join(lines) + "\n"


def _violation(finding: Finding) -> dict[str, str]:
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
                "violations": [_violation(finding) for finding in result.findings],
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
"""Render function for each ``-o`` format of ``audit``."""
