"""The continuous audit against the fake API server: rounds, triggers, one writer.

The real client lists TrainingJobs and writes PolicyReports and Leases through
HTTP; each replica has its own client (its own user, so the test sees who wrote)
and its own clock, moved by the test, so intervals and lease expiry pass without
waiting.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.kube.fake_apiserver import FakeApiServer
from webhook.audit.policyreport import REPORT_NAME
from webhook.engine import Config
from webhook.kube import continuous
from webhook.kube.continuous import ContinuousAudit
from webhook.kube.lease import LeaderElector, LeaseTiming
from webhook.policy.load import baseline_policy, load_policies
from webhook.server.metrics import Metrics

REPORT = ("wgpolicyk8s.io/v1alpha2", "PolicyReport")
LEASE_TIMING = LeaseTiming(lease_duration=15, renew_deadline=10, retry_period=2)
SMALL_INSTANCES = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: small
rules:
  - {id: types, kind: resources, instanceTypes: ["ml.m5.large"]}
"""


class Clock:
    """A replica's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Log:
    """The JSON log's events, kept."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        self.events.append((event, fields))

    def named(self, event: str) -> list[dict[str, Any]]:
        return [fields for name, fields in self.events if name == event]


def training_job(base: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    job = copy.deepcopy(base)
    job["metadata"] = {"name": name, "namespace": namespace}
    job["spec"]["trainingJobName"] = name
    return job


@pytest.fixture
def server(job: dict[str, Any]) -> Iterator[FakeApiServer]:
    """Three namespaces with one clean job each."""
    with FakeApiServer() as fake:
        for namespace in ("team-a", "team-b", "team-c"):
            fake.create(training_job(job, namespace, "churn"))
        yield fake


@pytest.fixture
def baseline() -> Config:
    return Config(policies=load_policies([baseline_policy()]))


def report(server: FakeApiServer, namespace: str) -> dict[str, Any] | None:
    return server.get(*REPORT, REPORT_NAME, namespace)


def report_writers(server: FakeApiServer) -> list[str]:
    """Who wrote each PolicyReport write request, in order."""
    return [
        request.headers.get("impersonate-user", "")
        for request in server.writes()
        if "/policyreports" in request.path
    ]


def replica(
    server: FakeApiServer,
    config: list[Config],
    name: str,
    *,
    interval: float = 600,
    lease: bool = False,
) -> tuple[ContinuousAudit, Clock, Log, ApiClient]:
    """A replica's audit, reading the configuration in force from *config*[0]."""
    api = server.api_client(user=name)
    clock, log = Clock(), Log()
    elector = (
        LeaderElector(api, "guard", "trainingjob-guard-audit", name, LEASE_TIMING, clock=clock)
        if lease
        else None
    )
    audit = ContinuousAudit(
        api, lambda: config[0], interval=interval, log=log, elector=elector, clock=clock
    )
    return audit, clock, log, api


def test_a_round_writes_every_namespace_report_and_its_counts(
    server: FakeApiServer, baseline: Config
) -> None:
    audit, _, log, api = replica(server, [baseline], "pod-a")
    with api:
        assert audit.step()
    for namespace in ("team-a", "team-b", "team-c"):
        stored = report(server, namespace)
        assert stored is not None
        assert stored["summary"]["fail"] == 0
        assert stored["summary"]["pass"] >= 1
    [finished] = log.named("audit-finished")
    assert finished["jobs"] == 3
    assert finished["writes"] == 3
    status = audit.status
    assert (status.last_jobs, status.last_writes, status.rounds["success"]) == (3, 3, 1)
    assert not status.running


def test_rounds_come_every_interval_and_write_only_changes(
    server: FakeApiServer, baseline: Config, job: dict[str, Any]
) -> None:
    audit, clock, log, api = replica(server, [baseline], "pod-a", interval=600)
    with api:
        assert audit.step()
        server.clear_requests()
        clock.now += 300
        assert not audit.step()  # not due
        clock.now += 300
        assert audit.step()  # due: nothing changed, nothing written
        assert server.writes() == []
        bad = training_job(job, "team-b", "broken")
        bad["spec"]["trainingJobName"] = "broken_name"
        server.create(bad)
        clock.now += 600
        assert audit.step()
    assert [request.path.split("/")[5] for request in server.writes()] == ["team-b"]
    stored = report(server, "team-b")
    assert stored is not None
    assert stored["summary"]["fail"] == 1
    assert log.named("audit-finished")[-1]["nonCompliant"] == 1


def test_a_policy_change_is_audited_once_it_settles(
    server: FakeApiServer, baseline: Config, tmp_path: Path
) -> None:
    config = [baseline]
    audit, clock, _, api = replica(server, config, "pod-a", interval=3600)
    with api:
        assert audit.step()
        clock.now += continuous.MIN_GAP_SECONDS
        (tmp_path / "small.yaml").write_text(SMALL_INSTANCES)
        config[0] = Config(policies=load_policies([baseline_policy(), tmp_path / "small.yaml"]))
        assert not audit.step()  # changed just now: more changes may follow
        clock.now += continuous.SETTLE_SECONDS
        assert audit.step()
    stored = report(server, "team-a")
    assert stored is not None
    failed = [result for result in stored["results"] if result["result"] == "fail"]
    assert [(result["policy"], result["rule"]) for result in failed] == [("small", "types")]


def test_only_the_lease_holder_audits_and_writes(server: FakeApiServer, baseline: Config) -> None:
    a, a_clock, _, a_api = replica(server, [baseline], "pod-a", lease=True)
    b, b_clock, b_log, b_api = replica(server, [baseline], "pod-b", lease=True)
    with a_api, b_api:
        assert a.step()
        assert not b.step()
        for _ in range(10):  # a keeps renewing; b follows, 20 s of both clocks
            a_clock.now += 2
            b_clock.now += 2
            a.step()
            assert not b.step()
        assert set(report_writers(server)) == {"pod-a"}
        assert (a.status.leader, b.status.leader) == (True, False)
        # a stops cleanly: it gives the lease up and b takes over at once.
        a.close()
        b_clock.now += 2
        assert b.step()
    assert b.status.leader
    assert [fields["leader"] for fields in b_log.named("audit-leadership")] == [True]


def test_a_replica_that_loses_the_lease_mid_round_stops_writing(
    server: FakeApiServer, baseline: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, clock, log, api = replica(server, [baseline], "pod-a", interval=40, lease=True)
    with api:
        assert audit.step()  # leads, and has written every report
        for namespace in ("team-a", "team-b", "team-c"):
            server.delete(*REPORT, REPORT_NAME, namespace)
        while clock.now < 1038:  # renewing every 2 s until the next round is due
            clock.now += 2
            assert not audit.step()
        server.clear_requests()
        server.fail("/apis/coordination.k8s.io/*", times=None)  # no renewal from now on
        hold = audit._hold_lease  # checked before each job and each write

        def slow() -> None:  # each step of the round takes 4 s of this replica's clock
            clock.now += 4
            hold()

        monkeypatch.setattr(audit, "_hold_lease", slow)
        clock.now += 2
        assert audit.step()  # still leader: renewed 2 s ago
    assert report_writers(server) == []  # the lease lapsed before the first write
    [stopped] = log.named("audit-stopped")
    assert stopped["reason"] == "the lease went to another replica"
    assert audit.status.rounds == {"success": 1, "failure": 1}


def test_a_failed_list_is_logged_and_retried_after_the_gap(
    server: FakeApiServer, baseline: Config
) -> None:
    audit, clock, log, api = replica(server, [baseline], "pod-a", interval=3600)
    with api:
        assert audit.step()
        clock.now += 3600
        server.fail("/apis/sagemaker.services.k8s.aws/*", times=1)
        assert audit.step()
        [failed] = log.named("audit-failed")
        assert "cannot list TrainingJobs" in failed["error"]
        assert not audit.step()  # not again at once
        clock.now += continuous.MIN_GAP_SECONDS  # after the gap, not another hour
        assert audit.step()
    assert audit.status.rounds == {"success": 2, "failure": 1}
    assert report(server, "team-a") is not None


def test_metrics_show_the_audit(server: FakeApiServer, baseline: Config) -> None:
    audit, _, _, api = replica(server, [baseline], "pod-a")
    metrics = Metrics()
    assert b"trainingjob_guard_audit" not in metrics.render()  # no audit, no series
    metrics.audit = audit.status
    with api:
        audit.step()
    text = metrics.render().decode()
    assert "trainingjob_guard_audit_leader 1.0" in text
    assert "trainingjob_guard_audit_last_jobs 3.0" in text
    assert "trainingjob_guard_audit_last_writes 3.0" in text
    assert 'trainingjob_guard_audit_rounds_total{result="success"} 1.0' in text
    assert "trainingjob_guard_audit_last_success_timestamp_seconds" in text
