"""The continuous audit against the fake API server: rounds, triggers, one writer.

The real client lists TrainingJobs and writes PolicyReports and Leases through
HTTP; each replica has its own client (its own user, so the test sees who wrote)
and its own clock, moved by the test, so intervals and lease expiry pass without
waiting. TrainingJobs are served as the ACK CRD declares them, with the status
subresource, so the ACK controller's status writes are what they are in a cluster.
Watch events arrive in the background: a test that waits for the leader to act
on one ticks it (``eventually(audit.step)``) as its thread would.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest
from kubernetes.client import ApiClient, CustomObjectsApi

from tests.conftest import eventually
from tests.kube.fake_apiserver import FakeApiServer, RecordedRequest, Resource
from webhook.audit.policyreport import REPORT_NAME
from webhook.engine import Config
from webhook.kube import continuous
from webhook.kube.continuous import ContinuousAudit
from webhook.kube.lease import LeaderElector, LeaseTiming
from webhook.policy.load import baseline_policy, load_policies
from webhook.server.metrics import Metrics

REPORT = ("wgpolicyk8s.io/v1alpha2", "PolicyReport")
GROUP, VERSION, PLURAL = "sagemaker.services.k8s.aws", "v1alpha1", "trainingjobs"
JOBS = f"/apis/{GROUP}/{VERSION}"
TRAINING_JOBS = Resource(f"{GROUP}/{VERSION}", PLURAL, "TrainingJob", True, True)
"""As the ACK CRD declares it: namespaced, with the status subresource."""
ACK_CONTROLLER = "system:serviceaccount:ack-system:ack-sagemaker-controller"
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
        fake.register(TRAINING_JOBS)
        for namespace in ("team-a", "team-b", "team-c"):
            fake.create(training_job(job, namespace, "churn"))
        yield fake


@pytest.fixture
def baseline() -> Config:
    return Config(policies=load_policies([baseline_policy()]))


def report(server: FakeApiServer, namespace: str) -> dict[str, Any] | None:
    return server.get(*REPORT, REPORT_NAME, namespace)


def broken(base: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    """A job the baseline finds fault with (an invalid trainingJobName)."""
    job = training_job(base, namespace, name)
    job["spec"]["trainingJobName"] = f"{name}_broken"
    return job


def stored_job(server: FakeApiServer, namespace: str) -> dict[str, Any]:
    """The job "churn" of *namespace* as stored."""
    found = server.get(f"{GROUP}/{VERSION}", "TrainingJob", "churn", namespace)
    assert found is not None
    return found


def fails(server: FakeApiServer, namespace: str) -> int | None:
    """The failures in *namespace*'s report (None: no report)."""
    stored = report(server, namespace)
    return None if stored is None else int(stored["summary"]["fail"])


def job_lists(server: FakeApiServer) -> list[str]:
    """The scope of each list of TrainingJobs (not watches): a namespace, or "all"."""
    scopes = []
    for request in server.requests_to(f"{JOBS}/*", "GET", watch=False):
        parts = request.path.split("/")
        scopes.append(parts[5] if parts[4] == "namespaces" else "all")
    return scopes


def report_requests(server: FakeApiServer) -> list[RecordedRequest]:
    return server.requests_to("/apis/wgpolicyk8s.io/*")


def job_watches(server: FakeApiServer) -> list[RecordedRequest]:
    return server.requests_to(f"{JOBS}/{PLURAL}", "GET", watch=True)


def report_writers(server: FakeApiServer) -> list[str]:
    """Who wrote each PolicyReport write request, in order."""
    return [
        request.headers.get("impersonate-user", "")
        for request in server.writes()
        if "/policyreports" in request.path
    ]


class Replica(Protocol):
    """Makes a replica's audit, reading the configuration in force from *config*[0]."""

    def __call__(
        self, config: list[Config], name: str, *, interval: float = 600, lease: bool = False
    ) -> tuple[ContinuousAudit, Clock, Log, ApiClient]: ...


@pytest.fixture
def replica(server: FakeApiServer) -> Iterator[Replica]:
    """Replicas of the server, each closed at the end (its TrainingJob watch stopped)."""
    made: list[ContinuousAudit] = []

    def make(
        config: list[Config], name: str, *, interval: float = 600, lease: bool = False
    ) -> tuple[ContinuousAudit, Clock, Log, ApiClient]:
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
        made.append(audit)
        return audit, clock, log, api

    yield make
    for audit in made:
        audit.close()


def test_a_round_writes_every_namespace_report_and_its_counts(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, _, log, api = replica([baseline], "pod-a")
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
    server: FakeApiServer, baseline: Config, job: dict[str, Any], replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=600)
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
    server: FakeApiServer, baseline: Config, tmp_path: Path, replica: Replica
) -> None:
    config = [baseline]
    audit, clock, _, api = replica(config, "pod-a", interval=3600)
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


def test_only_the_lease_holder_audits_and_writes(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    a, a_clock, _, a_api = replica([baseline], "pod-a", lease=True)
    b, b_clock, b_log, b_api = replica([baseline], "pod-b", lease=True)
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
    server: FakeApiServer, baseline: Config, replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=40, lease=True)
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
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
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


def test_metrics_show_the_audit(server: FakeApiServer, baseline: Config, replica: Replica) -> None:
    audit, _, _, api = replica([baseline], "pod-a")
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


# --- between rounds: the namespaces whose jobs changed ------------------------------------------


def test_a_job_created_after_a_round_shows_without_waiting_for_the_interval(
    server: FakeApiServer, baseline: Config, job: dict[str, Any], replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
    with api:
        assert audit.step()
        server.clear_requests()
        server.create(broken(job, "team-b", "late"))
        assert not audit.step()  # the round began a moment ago: not yet
        clock.now += continuous.RECHECK_SECONDS
        assert eventually(audit.step)
        assert fails(server, "team-b") == 1
        # Only team-b was listed (no list of every job) and written.
        assert job_lists(server) == ["team-b"]
        assert [request.path.split("/")[5] for request in server.writes()] == ["team-b"]
        [finished] = log.named("audit-namespaces-finished")
        assert (finished["namespaces"], finished["jobs"], finished["writes"]) == (["team-b"], 2, 1)
        assert audit.status.rechecks == {"success": 1, "failure": 0}
        assert audit.status.rounds == {"success": 1, "failure": 0}  # no full round for it
        metrics = Metrics()
        metrics.audit = audit.status
        text = metrics.render().decode()
        assert 'trainingjob_guard_audit_namespace_rechecks_total{result="success"} 1.0' in text
        assert 'trainingjob_guard_audit_rounds_total{result="success"} 1.0' in text
        # Changes that come meanwhile wait for the next time, a few seconds on.
        server.create(broken(job, "team-c", "later"))
        clock.now += continuous.RECHECK_SECONDS / 2
        time.sleep(0.2)  # the watch has brought it by now
        assert not audit.step()
        clock.now += continuous.RECHECK_SECONDS / 2
        assert eventually(audit.step)
    assert fails(server, "team-c") == 1
    assert job_lists(server) == ["team-b", "team-c"]


def test_a_status_only_update_causes_no_audit_and_no_write(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
    with api, server.api_client(user=ACK_CONTROLLER) as controller:
        assert audit.step()
        server.clear_requests()
        ack = CustomObjectsApi(controller)
        # What the ACK controller does all along: its finalizer, then status after status.
        finalizer = {"metadata": {"finalizers": ["finalizers.sagemaker.services.k8s.aws/x"]}}
        ack.patch_namespaced_custom_object(GROUP, VERSION, "team-a", PLURAL, "churn", finalizer)
        for status in ("InProgress", "Completed"):
            body = {"status": {"trainingJobStatus": status}}
            ack.patch_namespaced_custom_object_status(
                GROUP, VERSION, "team-a", PLURAL, "churn", body
            )
        stored = stored_job(server, "team-a")
        assert stored["status"] == {"trainingJobStatus": "Completed"}
        assert stored["metadata"]["generation"] == 1
        clock.now += continuous.RECHECK_SECONDS
        time.sleep(0.2)  # the watch has brought the three updates by now
        assert not audit.step()
        # A label is what policies select on: that is a change, in team-c only.
        labelled = stored_job(server, "team-c")
        labelled["metadata"]["labels"] = {"team": "c"}
        server.put(labelled)
        assert eventually(audit.step)  # events arrive in order: team-a's came first
    [finished] = log.named("audit-namespaces-finished")
    assert finished["namespaces"] == ["team-c"]
    assert job_lists(server) == ["team-c"]
    assert not [r for r in report_requests(server) if "/namespaces/team-a/" in r.path]
    assert [r.path for r in server.writes() if "/policyreports" in r.path] == []  # unchanged


def test_spec_label_and_annotation_changes_are_audited_again(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)

    def audited() -> list[str]:
        return sorted(
            namespace
            for fields in log.named("audit-namespaces-finished")
            for namespace in fields["namespaces"]
        )

    with api:
        assert audit.step()
        spec, labels, annotations = (
            stored_job(server, ns) for ns in ("team-a", "team-b", "team-c")
        )
        spec["spec"]["trainingJobName"] = "churn_broken"
        labels["metadata"]["labels"] = {"cost-center": "42"}
        annotations["metadata"]["annotations"] = {"owner": "ml"}
        for changed in (spec, labels, annotations):
            server.put(changed)
        while len(audited()) < 3:  # the watch may bring them over more than one tick
            clock.now += continuous.RECHECK_SECONDS
            assert eventually(audit.step)
    assert audited() == ["team-a", "team-b", "team-c"]
    assert fails(server, "team-a") == 1


def test_a_namespace_whose_last_job_is_deleted_loses_its_report(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, clock, _, api = replica([baseline], "pod-a", interval=3600)
    with api:
        assert audit.step()
        assert report(server, "team-c") is not None
        server.clear_requests()
        server.delete(f"{GROUP}/{VERSION}", "TrainingJob", "churn", "team-c")
        clock.now += continuous.RECHECK_SECONDS
        assert eventually(audit.step)
    assert report(server, "team-c") is None
    assert [(r.method, r.path.split("/")[5]) for r in server.writes()] == [("DELETE", "team-c")]
    assert report(server, "team-a") is not None


def test_a_namespace_that_fails_is_audited_again_the_next_time(
    server: FakeApiServer, baseline: Config, job: dict[str, Any], replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
    with api:
        assert audit.step()
        server.fail(f"{JOBS}/namespaces/team-b/{PLURAL}", watch=False, times=1)
        server.create(broken(job, "team-b", "late"))
        clock.now += continuous.RECHECK_SECONDS
        assert eventually(audit.step)
        [failed] = log.named("audit-failed")
        assert failed["namespace"] == "team-b"
        assert 'cannot list TrainingJobs in namespace "team-b"' in failed["error"]
        assert fails(server, "team-b") == 0
        clock.now += continuous.RECHECK_SECONDS
        assert audit.step()  # marked again: no new event needed
    assert fails(server, "team-b") == 1
    assert audit.status.rechecks == {"success": 1, "failure": 1}


def test_a_watch_that_lists_again_schedules_a_full_round(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
    with api:
        assert audit.step()
        server.clear_requests()
        server.expire()  # 410 Gone: the watch lists again, what happened meanwhile is unknown
        assert eventually(lambda: len(job_lists(server)) == 1)
        assert eventually(lambda: len(job_watches(server)) == 2)  # the one refused, the new one
        clock.now += continuous.MIN_GAP_SECONDS - 1
        assert not audit.step()  # rounds stay apart
        clock.now += 1
        assert audit.step()
    assert job_lists(server) == ["all", "all"]  # the watch's, then the round's
    assert len(log.named("audit-finished")) == 2
    assert log.named("audit-namespaces-finished") == []


def test_many_changed_namespaces_make_one_full_round(
    server: FakeApiServer, baseline: Config, job: dict[str, Any], replica: Replica
) -> None:
    audit, clock, log, api = replica([baseline], "pod-a", interval=3600)
    many = [f"team-{index:02}" for index in range(continuous.RECHECK_LIMIT + 1)]
    with api:
        assert audit.step()
        server.clear_requests()
        for namespace in many:
            server.create(broken(job, namespace, "late"))
        clock.now += continuous.RECHECK_SECONDS
        time.sleep(0.2)  # the watch has brought them by now
        assert not audit.step()  # not one by one; a full round, once the gap allows
        clock.now += continuous.MIN_GAP_SECONDS
        assert audit.step()
    assert job_lists(server) == ["all"]
    assert all(fails(server, namespace) == 1 for namespace in many)
    assert log.named("audit-namespaces-finished") == []


def test_only_the_leader_watches_and_stops_when_it_loses_the_lease(
    server: FakeApiServer, baseline: Config, replica: Replica
) -> None:
    a, a_clock, a_log, a_api = replica([baseline], "pod-a", lease=True)
    b, b_clock, _, b_api = replica([baseline], "pod-b", lease=True)
    with a_api, b_api:
        assert a.step()
        for _ in range(3):
            a_clock.now += 2
            b_clock.now += 2
            a.step()
            assert not b.step()
        assert len(job_watches(server)) == 1  # the follower opens none
        assert eventually(lambda: server.watch_count() == 1)
        # a stops renewing (stalled); b takes over after 15 s without renewal on its clock.
        b_clock.now += 16
        assert b.step()
        assert eventually(lambda: server.watch_count() == 2)
        a_clock.now += 16
        assert not a.step()  # a learns it lost the lease, and stops watching
        assert eventually(lambda: server.watch_count() == 1)
    assert [fields["leader"] for fields in a_log.named("audit-leadership")] == [True, False]
    assert len(job_watches(server)) == 2  # one for each leadership
