"""Prometheus metrics of the webhook, in a registry of its own.

Labels stay bounded: endpoint, operation, decision, rule id and action; never
a namespace, a name or a user (unbounded, and the decision log has them).

The per-request counters are plain integers and a bucket list, turned into
Prometheus metric families only when ``/metrics`` is scraped: measured under
load, ``prometheus_client``'s labelled counters and histogram (locks, label
lookups) cost more per request than the rest of the HTTP handling. Requests
are not even counted one by one: :meth:`Metrics.observe` notes them, and
they are tallied in bulk when :data:`PENDING_OBSERVATIONS` are waiting and
before every scrape. Both happen on the event loop (the ``/metrics`` route
is async), so the tallies need no lock.
"""

from __future__ import annotations

import bisect
from collections import Counter as Tally
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from webhook.findings import Finding

if TYPE_CHECKING:
    from webhook.kube.continuous import AuditStatus

#: Up to 10 s, the API server's default webhook timeout; fine below 5 ms, where we live.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


#: Requests noted before they are counted in one go.
PENDING_OBSERVATIONS = 256


class _Latency:
    """One histogram's state: counts per bucket (plus +Inf) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds


class _RequestCollector(Collector):
    """Exposes the per-request tallies at scrape time."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        self._metrics.tally()
        requests = CounterMetricFamily(
            "trainingjob_guard_requests",
            "Admission requests by endpoint, operation and decision.",
            labels=["endpoint", "operation", "decision"],
        )
        for labels, count in sorted(self._metrics.requests.items()):
            requests.add_metric(list(labels), count)
        yield requests
        findings = CounterMetricFamily(
            "trainingjob_guard_findings",
            "Findings by rule id and action.",
            labels=["rule", "action"],
        )
        for rule_action, count in sorted(self._metrics.findings.items()):
            findings.add_metric(list(rule_action), count)
        yield findings
        latency = HistogramMetricFamily(
            "trainingjob_guard_request_duration_seconds",
            "Time to answer an admission request, by endpoint.",
            labels=["endpoint"],
        )
        for endpoint, state in sorted(self._metrics.latency.items()):
            running, buckets = 0, []
            for bound, count in zip((*LATENCY_BUCKETS, float("inf")), state.counts, strict=True):
                running += count
                buckets.append(("+Inf" if bound == float("inf") else str(bound), running))
            latency.add_metric([endpoint], buckets, state.total)
        yield latency


class _AuditCollector(Collector):
    """Exposes the continuous audit's progress and last round (nothing without one)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        status = self._metrics.audit
        if status is None:
            return
        prefix = "trainingjob_guard_audit"
        gauges = [
            ("leader", "1 while this replica holds the audit lease.", int(status.leader)),
            ("running", "1 while an audit round runs.", int(status.running)),
            ("jobs_seen", "TrainingJobs examined so far in the running round.", status.jobs_seen),
            ("last_jobs", "TrainingJobs examined in the last finished round.", status.last_jobs),
            (
                "last_non_compliant",
                "TrainingJobs with findings in the last finished round.",
                status.last_non_compliant,
            ),
            (
                "last_denied",
                "TrainingJobs the webhook would deny, in the last finished round.",
                status.last_denied,
            ),
            ("last_writes", "PolicyReport writes of the last round.", status.last_writes),
            (
                "last_duration_seconds",
                "How long the last finished round took.",
                status.last_seconds,
            ),
        ]
        if status.jobs_total is not None:
            gauges.append(
                ("jobs_total", "TrainingJobs the running round expects.", status.jobs_total)
            )
        if status.last_success is not None:
            gauges.append(
                (
                    "last_success_timestamp_seconds",
                    "Unix time of the last round that wrote every report.",
                    status.last_success,
                )
            )
        for name, help_text, value in gauges:
            yield GaugeMetricFamily(f"{prefix}_{name}", help_text, value=value)
        rounds = CounterMetricFamily(
            f"{prefix}_rounds", "Audit rounds by result (success, failure).", labels=["result"]
        )
        for result, count in sorted(status.rounds.items()):
            rounds.add_metric([result], count)
        yield rounds
        rechecks = CounterMetricFamily(
            f"{prefix}_namespace_rechecks",
            "Namespaces audited again between rounds after their TrainingJobs changed, by result.",
            labels=["result"],
        )
        for result, count in sorted(status.rechecks.items()):
            rechecks.add_metric([result], count)
        yield rechecks


class Metrics:
    """Every metric the webhook exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests: Tally[tuple[str, str, str]] = Tally()
        self.findings: Tally[tuple[str, str]] = Tally()
        self.latency: dict[str, _Latency] = {}
        self._pending: deque[tuple[str, str, str, float, tuple[Finding, ...]]] = deque()
        self.registry.register(_RequestCollector(self))
        self.audit: AuditStatus | None = None
        """The continuous audit's state, when the server runs one."""
        self.registry.register(_AuditCollector(self))
        self.reloads = Counter(
            "trainingjob_guard_policy_reloads",
            "Policy reloads by result (success, failure).",
            ["result"],
            registry=self.registry,
        )
        self.certificate_reloads = Counter(
            "trainingjob_guard_certificate_reloads",
            "Certificate reloads by result (success, failure).",
            ["result"],
            registry=self.registry,
        )
        self.policies = Gauge(
            "trainingjob_guard_policies_loaded", "Policies in force.", registry=self.registry
        )
        self.cluster_policies_not_ready = Gauge(
            "trainingjob_guard_cluster_policies_not_ready",
            "TrainingJobPolicy objects whose current generation is not in force (Ready=False).",
            registry=self.registry,
        )
        self.certificate_expiry = Gauge(
            "trainingjob_guard_certificate_expiry_seconds",
            "Seconds until the serving certificate expires.",
            registry=self.registry,
        )

    def observe(
        self,
        endpoint: str,
        operation: str,
        decision: str,
        seconds: float,
        findings: tuple[Finding, ...] = (),
    ) -> None:
        """Note one answered request; it is counted with the next batch of them."""
        pending = self._pending
        pending.append((endpoint, operation, decision, seconds, findings))
        if len(pending) >= PENDING_OBSERVATIONS:
            self.tally()

    def tally(self) -> None:
        """Count the requests noted since the last tally (on the event loop)."""
        pending = self._pending
        requests, latencies, by_rule = self.requests, self.latency, self.findings
        while pending:
            endpoint, operation, decision, seconds, findings = pending.popleft()
            requests[endpoint, operation, decision] += 1
            latency = latencies.get(endpoint)
            if latency is None:
                latency = latencies[endpoint] = _Latency()
            latency.observe(seconds)
            for finding in findings:
                by_rule[finding.rule, finding.action.value] += 1

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
