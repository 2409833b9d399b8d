"""``wgpolicyk8s.io/v1alpha2`` PolicyReports from an audit: one per namespace.

The format Kyverno and Kubewarden write and Policy Reporter and ``kubectl get polr``
show, typed in :mod:`webhook.audit.wgpolicyk8s`. The choices, each for what a dashboard
or ``kubectl`` user does with it:

- One ``PolicyReport`` per namespace that has TrainingJobs, named
  :data:`REPORT_NAME` and labelled :data:`MANAGED_BY` ``trainingjob-guard`` (so our
  reports are found with a label selector, and never taken for another engine's), with
  ``scope`` unset: a report about several objects, each result naming its job in
  ``resources`` (apiVersion, kind, name, namespace, uid), as Kyverno's namespace reports do.
- One result per finding: ``policy`` is the policy id (:data:`BUILTIN_POLICY` for the
  built-in checks), ``rule`` the rule id within it (the full id for a built-in rule),
  ``message`` the finding's message, ``result`` ``fail`` for deny and audit and ``warn``
  for warn (the action itself and the field path in ``properties``). A finding's message
  never holds a hyperparameter or environment value; as a second line of defence, a
  message that quotes one anyway (a CEL rule's ``messageExpression`` can) is withheld
  (:data:`WITHHELD`), since a report is read by more people than the job is.
- One ``pass`` result per policy that applied to a job and found nothing (and one for the
  built-in checks), so a dashboard shows compliance, not only violations. A policy without
  rules (defaults only) has nothing to pass. A job the size gate denied unchecked gets
  its findings only: nothing else was checked, so nothing is said to pass.
- ``severity`` is the policy's (``low``, ``medium``, ``high``, ``critical``: all
  PolicyReport severities); the built-in checks have none, as in SARIF output.
- ``scored`` is true for ``pass`` and ``fail``; a ``warn`` is "not met, not scored".
- ``timestamp`` is when a result was found: the time of the audit for a new result, and
  the stored one for a result that has not changed (:func:`carry_timestamps`), so an
  audit that finds what the last one did writes nothing (:func:`reconcile`).
- ``summary`` counts the results by kind.

Memory: the pass results grow with the cluster (that is the format), but each job is
examined, turned into its results and dropped before the next one is read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from webhook.audit.examine import (
    BUILTIN_POLICY,
    Examined,
    JobReference,
    NamespaceLabelLookup,
    examine,
    policy_of,
)
from webhook.audit.report import AuditReport
from webhook.audit.wgpolicyk8s import (
    API_VERSION,
    KIND,
    ObjectReference,
    PolicyReport,
    ReportResult,
    ResultKind,
    Severity,
    Summary,
    Timestamp,
)
from webhook.engine import Config
from webhook.findings import Action, Finding
from webhook.paths import SENSITIVE_MAPS

__all__ = [
    "API_VERSION",
    "KIND",
    "MANAGED_BY",
    "REPORT_NAME",
    "SOURCE",
    "PolicyReport",
    "ReportBuilder",
    "ReportResult",
    "build_reports",
    "carry_timestamps",
    "reconcile",
]

REPORT_NAME: Final = "trainingjob-guard"
"""The name of our report in each namespace."""
MANAGED_BY: Final = "app.kubernetes.io/managed-by"
"""The label that marks our reports (the Kubernetes recommended label)."""
SOURCE: Final = "trainingjob-guard"
"""Every result's ``source``: the engine that wrote it."""
WITHHELD: Final = (
    "message withheld: it quotes a value of spec.hyperParameters or spec.environment, "
    "which a PolicyReport does not show; trainingjob-guard audit prints it"
)

RESULTS: Final[dict[Action, ResultKind]] = {
    Action.DENY: "fail",
    Action.AUDIT: "fail",
    Action.WARN: "warn",
}
"""A finding's result for each action: audit findings are violations, only not enforced."""


def timestamp_of(now: datetime) -> Timestamp:
    """The ``metav1.Timestamp`` of *now*, to the second."""
    return {"seconds": int(now.timestamp()), "nanos": 0}


def reference(job: JobReference) -> ObjectReference:
    """The ObjectReference of *job* (without ``uid`` when it has none)."""
    ref: ObjectReference = {
        "apiVersion": job.api_version,
        "kind": job.kind,
        "name": job.name,
        "namespace": job.namespace,
    }
    if job.uid:
        ref["uid"] = job.uid
    return ref


_NUMBER_OR_BOOLEAN: Final = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|true|false", re.I)
_SHORTEST_QUOTED: Final = 4
"""Shorter values (``1``, ``adam``) are too common in messages to tell a quote from chance."""


def sensitive_values(obj: Mapping[str, Any]) -> frozenset[str]:
    """The hyperparameter and environment values of *obj* that a message must not quote.

    Strings of at least :data:`_SHORTEST_QUOTED` characters that are not numbers or
    booleans: ``1000`` and ``true`` are settings that a bound's message may well
    spell itself, not secrets.
    """
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return frozenset()
    found: set[str] = set()
    for name in SENSITIVE_MAPS:
        values = spec.get(name)
        if not isinstance(values, Mapping):
            continue
        for value in values.values():
            if (
                isinstance(value, str)
                and len(value.strip()) >= _SHORTEST_QUOTED
                and not _NUMBER_OR_BOOLEAN.fullmatch(value.strip())
            ):
                found.add(value.strip())
    return frozenset(found)


def _message(finding: Finding, secrets: frozenset[str]) -> str:
    message = finding.message
    return WITHHELD if any(secret in message for secret in secrets) else message


def job_results(examined: Examined, timestamp: Timestamp) -> list[ReportResult]:
    """The results of one examined job: one per finding, one ``pass`` per clean policy."""
    resources = [reference(examined.job)]
    documents = {policy.id: policy.document for policy in examined.policies}
    secrets = sensitive_values(examined.obj) if examined.decision.findings else frozenset()
    results: list[ReportResult] = []
    failed: set[str] = set()
    for finding in examined.decision.findings:
        policy, rule = policy_of(finding.rule)
        failed.add(policy)
        kind = RESULTS[finding.action]
        document = documents.get(policy)
        result: ReportResult = {"source": SOURCE, "policy": policy, "rule": rule, "result": kind}
        if document is not None:
            result["severity"] = document.severity
        if kind == "fail":
            result["scored"] = True
        result["timestamp"] = timestamp
        result["resources"] = resources
        result["message"] = _message(finding, secrets)
        properties = {"action": finding.action.value}
        if finding.path:
            properties["path"] = finding.where
        if document is not None:
            properties["version"] = document.version
        result["properties"] = properties
        results.append(result)
    if not examined.checked:
        return results
    if BUILTIN_POLICY not in failed:
        results.append(
            _passed(
                BUILTIN_POLICY,
                "the SageMaker API's constraints, the CRD's schema and the object name hold",
                resources,
                timestamp,
            )
        )
    for applied in examined.policies:
        if applied.rules and applied.id not in failed:
            count = len(applied.rules)
            message = (
                f"{'the rule' if count == 1 else f'all {count} rules'} of policy {applied.id} hold"
            )
            document = applied.document
            results.append(
                _passed(applied.id, message, resources, timestamp, document.severity)
                | {"properties": {"version": document.version}}
            )
    return results


def _passed(
    policy: str,
    message: str,
    resources: list[ObjectReference],
    timestamp: Timestamp,
    severity: Severity | None = None,
) -> ReportResult:
    result: ReportResult = {"source": SOURCE, "policy": policy, "result": "pass"}
    if severity is not None:
        result["severity"] = severity
    result["scored"] = True
    result["timestamp"] = timestamp
    result["resources"] = resources
    result["message"] = message
    return result


def summarize(results: Iterable[ReportResult]) -> Summary:
    """The ``summary`` of *results*: how many of each kind."""
    counts = Counter(result.get("result", "") for result in results)
    return {
        "pass": counts["pass"],
        "fail": counts["fail"],
        "warn": counts["warn"],
        "error": counts["error"],
        "skip": counts["skip"],
    }


def _order(result: ReportResult) -> tuple[str, str, str, str, str, str]:
    resources = result.get("resources") or [{}]
    properties = result.get("properties") or {}
    return (
        resources[0].get("name", ""),
        result["policy"],
        result.get("rule", ""),
        properties.get("path", ""),
        result.get("result", ""),
        result.get("message", ""),
    )


def new_report(namespace: str, results: list[ReportResult]) -> PolicyReport:
    """Our report of *namespace* with *results* (sorted here, by job, policy, rule, path)."""
    results = sorted(results, key=_order)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": REPORT_NAME,
            "namespace": namespace,
            "labels": {MANAGED_BY: SOURCE},
        },
        "results": results,
        "summary": summarize(results),
    }


class ReportBuilder:
    """Collects examined jobs into one report per namespace."""

    def __init__(self, now: datetime | None = None) -> None:
        self._timestamp = timestamp_of(now or datetime.now(UTC))
        self._results: dict[str, list[ReportResult]] = {}

    def add(self, examined: Examined) -> None:
        """Add the results of one examined job to its namespace's report."""
        results = self._results.setdefault(examined.job.namespace, [])
        results.extend(job_results(examined, self._timestamp))

    def reports(self) -> list[PolicyReport]:
        """One report per namespace that had a job, by namespace."""
        return [
            new_report(namespace, self._results[namespace]) for namespace in sorted(self._results)
        ]


def build_reports(
    objects: Iterable[Mapping[str, Any]],
    config: Config,
    labels: NamespaceLabelLookup,
    *,
    now: datetime | None = None,
) -> tuple[AuditReport, list[PolicyReport]]:
    """Audit *objects* under *config* and build the PolicyReports, in one pass.

    What a periodic in-cluster audit calls each round, before
    :func:`webhook.kube.policyreports.write_reports`; the :class:`AuditReport` is for
    its counts and logs.
    """
    report = AuditReport()
    builder = ReportBuilder(now)
    for examined in examine(objects, config, labels):
        report.add(examined)
        builder.add(examined)
    return report.finish(), builder.reports()


def _key(result: Mapping[str, Any]) -> bytes:
    return orjson.dumps(
        {name: value for name, value in result.items() if name != "timestamp"},
        option=orjson.OPT_SORT_KEYS,
    )


def carry_timestamps(report: PolicyReport, stored: Mapping[str, Any]) -> PolicyReport:
    """*report* with the stored timestamp on every result that *stored* already has."""
    found: dict[bytes, list[Any]] = {}
    results = stored.get("results")
    for result in results if isinstance(results, list) else ():
        if isinstance(result, Mapping) and "timestamp" in result:
            found.setdefault(_key(result), []).append(result["timestamp"])
    carried: list[ReportResult] = []
    for result in report["results"]:
        earlier = found.get(_key(result))
        if earlier:
            kept = result.copy()
            kept["timestamp"] = earlier.pop(0)
            carried.append(kept)
        else:
            carried.append(result)
    copy = report.copy()
    copy["results"] = carried
    return copy


def reconcile(report: PolicyReport, stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """What to write over *stored* (our report as the cluster has it), or None if nothing.

    The stored object keeps its other labels, its annotations and its
    ``resourceVersion`` (a replace of a version changed meanwhile then fails, and is
    tried again with the new one); results and summary become *report*'s, with the
    timestamps of the results that did not change; a ``scope`` someone added goes.
    """
    report = carry_timestamps(report, stored)
    metadata = stored.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
    labels = metadata.get("labels")
    labels = dict(labels) if isinstance(labels, Mapping) else {}
    same = (
        (stored.get("results") or []) == report["results"]
        and stored.get("summary") == report["summary"]
        and all(labels.get(key) == value for key, value in report["metadata"]["labels"].items())
        and "scope" not in stored
        and "scopeSelector" not in stored
    )
    if same:
        return None
    body: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": report["metadata"]["name"],
            "namespace": report["metadata"]["namespace"],
            "labels": {**labels, **report["metadata"]["labels"]},
        },
        "results": report["results"],
        "summary": report["summary"],
    }
    for name in ("annotations", "resourceVersion", "uid"):
        if name in metadata:
            body["metadata"][name] = metadata[name]
    return body
