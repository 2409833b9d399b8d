"""Writing PolicyReports to a (fake) cluster: create, update, delete, idempotently."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.audit.crd import problems
from tests.kube.fake_apiserver import DEFAULT_RESOURCES, POLICY_REPORTS, FakeApiServer
from webhook.audit.policyreport import MANAGED_BY, REPORT_NAME, PolicyReport, build_reports
from webhook.engine import Config
from webhook.kube.audit import list_training_jobs, namespace_lookup
from webhook.kube.errors import KubeError
from webhook.kube.policyreports import INSTALL_HINT, write_reports
from webhook.policy.load import baseline_policy, load_policies

REPORTS = "/apis/wgpolicyk8s.io/v1alpha2"
API_VERSION, KIND = "wgpolicyk8s.io/v1alpha2", "PolicyReport"
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def training_job(base: dict[str, Any], namespace: str, name: str, **spec: Any) -> dict[str, Any]:
    job = copy.deepcopy(base)
    job["metadata"] = {"name": name, "namespace": namespace}
    job["spec"]["trainingJobName"] = name
    job["spec"].update(spec)
    return job


@pytest.fixture
def server(job: dict[str, Any]) -> Iterator[FakeApiServer]:
    """team-a (2 jobs, one with a bad name), team-b (1 clean job)."""
    with FakeApiServer() as fake:
        fake.create(training_job(job, "team-a", "churn"))
        fake.create(training_job(job, "team-a", "typo", trainingJobName="churn_x"))
        fake.create(training_job(job, "team-b", "vision"))
        yield fake


@pytest.fixture(scope="module")
def config() -> Config:
    return Config(policies=load_policies([baseline_policy()]))


def reports_of(api: ApiClient, config: Config, now: datetime) -> list[PolicyReport]:
    jobs = list_training_jobs(api, None, page_size=2)
    return build_reports(jobs, config, namespace_lookup(api), now=now)[1]


def stored(server: FakeApiServer, namespace: str) -> dict[str, Any] | None:
    return server.get(API_VERSION, KIND, REPORT_NAME, namespace)


def test_reports_are_created_then_left_alone_when_nothing_changed(
    server: FakeApiServer, api: ApiClient, config: Config
) -> None:
    server.clear_requests()
    first = write_reports(api, reports_of(api, config, MONDAY), None)
    assert [(w.namespace, w.outcome) for w in first.written] == [
        ("team-a", "created"),
        ("team-b", "created"),
    ]
    assert first.errors == []
    assert [(r.method, r.path) for r in server.writes()] == [
        ("POST", f"{REPORTS}/namespaces/team-a/policyreports"),
        ("POST", f"{REPORTS}/namespaces/team-b/policyreports"),
    ]
    team_a = stored(server, "team-a")
    assert team_a is not None
    assert team_a["metadata"]["labels"] == {MANAGED_BY: "trainingjob-guard"}
    assert team_a["summary"] == {"pass": 3, "fail": 1, "warn": 0, "error": 0, "skip": 0}
    assert problems({k: v for k, v in team_a.items() if k != "metadata"}) == []
    # The next day, the same findings: one list, no write at all.
    server.clear_requests()
    second = write_reports(api, reports_of(api, config, TUESDAY), None)
    assert [w.outcome for w in second.written] == ["unchanged", "unchanged"]
    assert second.writes == 0
    assert server.writes() == []
    assert stored(server, "team-a") == team_a


def test_a_change_replaces_the_report_with_its_resource_version(
    server: FakeApiServer, api: ApiClient, config: Config, job: dict[str, Any]
) -> None:
    write_reports(api, reports_of(api, config, MONDAY), None)
    before = stored(server, "team-a")
    assert before is not None
    server.put(training_job(job, "team-a", "typo"))  # fixed
    server.clear_requests()
    result = write_reports(api, reports_of(api, config, TUESDAY), None)
    assert [(w.namespace, w.outcome) for w in result.written] == [
        ("team-a", "updated"),
        ("team-b", "unchanged"),
    ]
    (put,) = server.writes()
    assert (put.method, put.path) == (
        "PUT",
        f"{REPORTS}/namespaces/team-a/policyreports/{REPORT_NAME}",
    )
    assert put.body["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    after = stored(server, "team-a")
    assert after is not None
    assert after["summary"] == {"pass": 4, "fail": 0, "warn": 0, "error": 0, "skip": 0}
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    seconds = {
        (r["resources"][0]["name"], r["policy"]): r["timestamp"]["seconds"]
        for r in after["results"]
    }
    assert seconds["churn", "baseline"] == int(MONDAY.timestamp())  # unchanged since Monday
    assert seconds["typo", "trainingjob-guard.builtin"] == int(TUESDAY.timestamp())  # new pass


def test_our_report_goes_when_its_namespace_has_no_jobs_left(
    server: FakeApiServer, api: ApiClient, config: Config
) -> None:
    write_reports(api, reports_of(api, config, MONDAY), None)
    foreign = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": "kyverno-report", "namespace": "team-b"},
        "results": [],
    }
    server.create(foreign)
    server.delete("sagemaker.services.k8s.aws/v1alpha1", "TrainingJob", "vision", "team-b")
    server.clear_requests()
    result = write_reports(api, reports_of(api, config, TUESDAY), None)
    assert [(w.namespace, w.outcome) for w in result.written] == [
        ("team-a", "unchanged"),
        ("team-b", "deleted"),
    ]
    assert [(r.method, r.path) for r in server.writes()] == [
        ("DELETE", f"{REPORTS}/namespaces/team-b/policyreports/{REPORT_NAME}")
    ]
    assert stored(server, "team-b") is None
    assert server.get(API_VERSION, KIND, "kyverno-report", "team-b") is not None
    (listed,) = server.requests_to(f"{REPORTS}/policyreports", "GET")
    assert listed.query["labelSelector"] == f"{MANAGED_BY}=trainingjob-guard"


def test_one_namespace_is_all_that_is_touched(
    server: FakeApiServer, api: ApiClient, config: Config
) -> None:
    write_reports(api, reports_of(api, config, MONDAY), None)
    server.clear_requests()
    # An audit of team-b alone that found no job there: team-a's report is not its business.
    result = write_reports(api, [], "team-b")
    assert [(w.namespace, w.outcome) for w in result.written] == [("team-b", "deleted")]
    assert stored(server, "team-a") is not None
    assert {r.path for r in server.requests} == {
        f"{REPORTS}/namespaces/team-b/policyreports",
        f"{REPORTS}/namespaces/team-b/policyreports/{REPORT_NAME}",
    }


def test_without_the_crd_nothing_is_written_and_the_error_says_how_to_install_it(
    job: dict[str, Any], config: Config
) -> None:
    resources = [r for r in DEFAULT_RESOURCES if r != POLICY_REPORTS]
    with FakeApiServer(resources) as server, server.api_client() as api:
        server.create(training_job(job, "team-a", "churn"))
        reports = reports_of(api, config, MONDAY)
        with pytest.raises(KubeError) as failure:
            write_reports(api, reports, None)
        assert server.writes() == []
    assert str(failure.value) == f"cannot list PolicyReports in all namespaces: {INSTALL_HINT}"
    assert "Kyverno" in INSTALL_HINT
    assert "wg-policy-prototypes" in INSTALL_HINT


def test_forbidden_names_the_permissions(
    server: FakeApiServer, api: ApiClient, config: Config
) -> None:
    reports = reports_of(api, config, MONDAY)
    server.fail(f"{REPORTS}/policyreports", status=403)
    with pytest.raises(KubeError) as failure:
        write_reports(api, reports, None)
    assert str(failure.value) == (
        "cannot list PolicyReports in all namespaces: 403 Forbidden: injected fault: 403 "
        "Forbidden (writing reports needs list, get, create, update and delete on "
        "policyreports.wgpolicyk8s.io)"
    )
    server.fail(f"{REPORTS}/namespaces/team-b/policyreports", status=403, method="POST")
    result = write_reports(api, reports, None)
    assert [(w.namespace, w.outcome) for w in result.written] == [("team-a", "created")]
    assert result.errors == [
        f"cannot create PolicyReport team-b/{REPORT_NAME}: 403 Forbidden: injected fault: 403 "
        "Forbidden (writing reports needs list, get, create, update and delete on "
        "policyreports.wgpolicyk8s.io)"
    ]


def test_a_report_of_that_name_that_is_not_ours_is_never_overwritten(
    server: FakeApiServer, api: ApiClient, config: Config
) -> None:
    theirs = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": REPORT_NAME, "namespace": "team-a"},
        "results": [{"policy": "someone-else", "result": "pass"}],
    }
    server.create(theirs)
    result = write_reports(api, reports_of(api, config, MONDAY), None)
    assert result.errors == [
        f"PolicyReport team-a/{REPORT_NAME} exists and is not ours (no label "
        f"{MANAGED_BY}=trainingjob-guard): not overwriting it; delete it or give it that label"
    ]
    assert [(w.namespace, w.outcome) for w in result.written] == [("team-b", "created")]
    kept = stored(server, "team-a")
    assert kept is not None
    assert kept["results"] == theirs["results"]


def test_a_concurrent_change_is_read_again_not_overwritten_blindly(
    server: FakeApiServer, api: ApiClient, config: Config, job: dict[str, Any]
) -> None:
    write_reports(api, reports_of(api, config, MONDAY), None)
    server.put(training_job(job, "team-a", "typo"))
    server.fail(
        f"{REPORTS}/namespaces/team-a/policyreports/{REPORT_NAME}", status=409, method="PUT"
    )
    server.clear_requests()
    result = write_reports(api, reports_of(api, config, TUESDAY), None)
    assert result.errors == []
    assert [(w.namespace, w.outcome) for w in result.written] == [
        ("team-a", "updated"),
        ("team-b", "unchanged"),
    ]
    assert [r.method for r in server.requests_to(f"{REPORTS}/namespaces/team-a/*")] == [
        "PUT",  # 409
        "GET",  # read again
        "PUT",
    ]
    after = stored(server, "team-a")
    assert after is not None
    assert after["summary"]["fail"] == 0
