"""Prometheus metrics of the webhook, in a registry of its own.

Labels stay bounded: endpoint, operation, decision, rule id and action; never
a namespace, a name or a user (unbounded, and the decision log has them).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from webhook.findings import Finding

#: Up to 10 s, the API server's default webhook timeout; fine below 5 ms, where we live.
LATENCY_BUCKETS = (
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip


class Metrics:
    """Every metric the webhook exposes on ``/metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "trainingjob_guard_requests",
            "Admission requests by endpoint, operation and decision.",
            ["endpoint", "operation", "decision"],
            registry=self.registry,
        )
        self.findings = Counter(
            "trainingjob_guard_findings",
            "Findings by rule id and action.",
            ["rule", "action"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "trainingjob_guard_request_duration_seconds",
            "Time to answer an admission request, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
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
            "trainingjob_guard_policies_loaded",
            "Policies in force.",
            registry=self.registry,
        )
        self.certificate_expiry = Gauge(
            "trainingjob_guard_certificate_expiry_seconds",
            "Seconds until the serving certificate expires.",
            registry=self.registry,
        )

        # Labelled children, looked up once: labels() validates its arguments on every call.
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (metric._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe(
        self,
        endpoint: str,
        operation: str,
        decision: str,
        seconds: float,
        findings: Iterable[Finding] = (),
    ) -> None:
        """Count one answered request."""
        self._child(self.requests, endpoint, operation, decision).inc()
        self._child(self.latency, endpoint).observe(seconds)
        for finding in findings:
            self._child(self.findings, finding.rule, finding.action.value).inc()

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
