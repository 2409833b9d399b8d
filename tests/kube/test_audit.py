"""``audit`` of the TrainingJobs in a (fake) cluster, through the real ``kubernetes`` client."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes.client import ApiClient

from tests.kube.fake_apiserver import DEFAULT_RESOURCES, FakeApiServer
from webhook.cli.output.audit import AUDIT_FORMATS, render_json, render_text
from webhook.engine import Config
from webhook.findings import Action
from webhook.kube.audit import (
    AuditReport,
    audit,
    list_training_jobs,
    namespace_lookup,
)
from webhook.kube.client import (
    api_client,
    client_for,
    default_namespace,
    load_config,
)
from webhook.kube.errors import KubeConfigError, KubeError
from webhook.policy.load import baseline_policy, load_policies

TRAINING_JOBS = "/apis/sagemaker.services.k8s.aws/v1alpha1"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

# What ACK and the API server add to a stored TrainingJob: none of it is a finding.
STORED_STATUS = {
    "ackResourceMetadata": {
        "arn": "arn:aws:sagemaker:us-east-1:123456789012:training-job/x",
        "ownerAccountID": "123456789012",
        "region": "us-east-1",
    },
    "trainingJobStatus": "Completed",
    "conditions": [
        {
            "type": "ACK.ResourceSynced",
            "status": "True",
            "lastTransitionTime": "2026-01-01T00:00:00Z",
        }
    ],
}


def training_job(base: dict[str, Any], namespace: str, name: str) -> dict[str, Any]:
    job = copy.deepcopy(base)
    job["metadata"] = {
        "name": name,
        "namespace": namespace,
        "finalizers": ["finalizers.sagemaker.services.k8s.aws/TrainingJob"],
        "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
    }
    job["spec"]["trainingJobName"] = name
    job["status"] = STORED_STATUS
    return job


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


@pytest.fixture
def server(job: dict[str, Any]) -> Iterator[FakeApiServer]:
    """team-a, team-b and team-c with 8 TrainingJobs, 3 of them non-compliant."""
    with FakeApiServer() as fake:
        fake.create(namespace("team-a", env="prod"))
        fake.create(namespace("team-b", env="dev"))
        fake.create(namespace("team-c", env="dev"))
        for ns, name in [
            ("team-a", "churn-1"),
            ("team-a", "churn-2"),
            ("team-b", "forecast-1"),
            ("team-c", "vision-1"),
            ("team-c", "vision-2"),
        ]:
            fake.create(training_job(job, ns, name))
        bad_instance = training_job(job, "team-a", "big-instance")
        bad_instance["spec"]["resourceConfig"]["instanceType"] = "ml.bogus.xlarge"
        fake.create(bad_instance)
        bad_name = training_job(job, "team-b", "underscore")
        bad_name["spec"]["trainingJobName"] = "churn_xgboost"
        fake.create(bad_name)
        leaky = training_job(job, "team-b", "leaky")
        leaky["spec"]["environment"] = {"AWS_SECRET_ACCESS_KEY": SECRET}
        fake.create(leaky)
        fake.clear_requests()
        yield fake


@pytest.fixture(scope="module")
def baseline() -> Config:
    return Config(policies=load_policies([baseline_policy()]))


def run(api: ApiClient, config: Config, namespace: str | None = None) -> AuditReport:
    return audit(list_training_jobs(api, namespace, page_size=3), config, namespace_lookup(api))


def summary(report: AuditReport) -> dict[str, list[tuple[str, str, str]]]:
    return {
        f"{r.namespace}/{r.name}": [(f.rule, f.where, f.action.value) for f in r.findings]
        for r in report.results
    }


def test_audit_reports_exactly_the_non_compliant_jobs(
    server: FakeApiServer, api: ApiClient, baseline: Config
) -> None:
    report = run(api, baseline)
    assert summary(report) == {
        "team-a/big-instance": [
            ("sagemaker.instance-type", "spec.resourceConfig.instanceType", "deny")
        ],
        "team-b/leaky": [
            ("baseline/no-secrets", "spec.environment[AWS_SECRET_ACCESS_KEY]", "deny")
        ],
        "team-b/underscore": [("sagemaker.pattern", "spec.trainingJobName", "deny")],
    }
    assert all(not result.allowed for result in report.results)
    assert report.checked == 8
    assert report.non_compliant == report.denied == 3
    assert report.by_rule == {
        "sagemaker.instance-type": 1,
        "baseline/no-secrets": 1,
        "sagemaker.pattern": 1,
    }
    assert report.by_namespace == {"team-a": 1, "team-b": 2}
    assert report.exit_code == 1


def test_audit_lists_page_by_page_and_never_writes(
    server: FakeApiServer, api: ApiClient, baseline: Config
) -> None:
    run(api, baseline)
    lists = server.requests_to(f"{TRAINING_JOBS}/trainingjobs", "GET")
    assert [r.query.get("limit") for r in lists] == ["3", "3", "3"]
    assert "continue" not in lists[0].query
    assert all(r.query.get("continue") for r in lists[1:])
    assert server.writes() == []
    assert {r.method for r in server.requests} == {"GET"}


def test_audit_of_one_namespace(server: FakeApiServer, api: ApiClient, baseline: Config) -> None:
    report = run(api, baseline, "team-b")
    assert report.checked == 3
    assert sorted(summary(report)) == ["team-b/leaky", "team-b/underscore"]
    paths = {r.path for r in server.requests_to(f"{TRAINING_JOBS}/*", "GET")}
    assert paths == {f"{TRAINING_JOBS}/namespaces/team-b/trainingjobs"}


def test_audit_does_not_apply_defaults(
    server: FakeApiServer, api: ApiClient, job: dict[str, Any]
) -> None:
    # The baseline defaults stoppingCondition on CREATE; a stored job is judged as it is,
    # even when the caller's Config asks for mutation.
    legacy = training_job(job, "team-c", "legacy")
    del legacy["spec"]["stoppingCondition"]
    server.create(legacy)
    config = Config(policies=load_policies([baseline_policy()]), mutate=True)
    report = run(api, config, "team-c")
    assert summary(report) == {
        "team-c/legacy": [("crd.required", "spec.stoppingCondition", "deny")]
    }


def test_namespace_labels_select_policies(
    server: FakeApiServer, api: ApiClient, tmp_path: Path
) -> None:
    policy = tmp_path / "prod.yaml"
    policy.write_text(
        """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: prod-instances}
id: prod-instances
version: "1.0.0"
action: warn
match:
  namespaceSelector:
    matchLabels: {env: prod}
rules:
  - id: small
    kind: resources
    instanceTypes: ["ml.m5.large"]
"""
    )
    config = Config(policies=load_policies([policy]))
    report = run(api, config)
    # Only team-a is labelled env=prod: its jobs get the warning, the others do not.
    warned = {
        key: rules
        for key, rules in summary(report).items()
        if ("prod-instances/small", "spec.resourceConfig.instanceType", "warn") in rules
    }
    assert sorted(warned) == ["team-a/big-instance", "team-a/churn-1", "team-a/churn-2"]
    assert report.by_namespace["team-a"] == 3
    assert report.by_namespace["team-b"] == 1  # the SageMaker name finding only (no baseline)
    assert report.by_rule["prod-instances/small"] == 3
    assert report.denied == 2
    # Labels read once per namespace.
    assert len(server.requests_to("/api/v1/namespaces/*", "GET")) == 3


def test_unknown_namespace_labels_are_reported_not_guessed(
    server: FakeApiServer, api: ApiClient, job: dict[str, Any], tmp_path: Path
) -> None:
    server.create(training_job(job, "orphan", "no-namespace-object"))
    policy = tmp_path / "prod.yaml"
    policy.write_text(
        "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\n"
        "metadata: {name: p}\nid: p\nversion: '1'\naction: deny\n"
        "match: {namespaceSelector: {matchLabels: {env: prod}}}\n"
        "rules: [{id: tags, kind: tags, required: {cost-center: null}}]\n"
    )
    report = run(api, Config(policies=load_policies([policy])), "orphan")
    (result,) = report.results
    rules = [(f.rule, f.action) for f in result.findings]
    assert ("policy.namespace-labels-unknown", Action.WARN) in rules
    assert ("p/tags", Action.DENY) in rules  # applied, as the webhook would


def test_render_json(server: FakeApiServer, api: ApiClient, baseline: Config) -> None:
    document = json.loads(render_json(run(api, baseline)))
    assert document["summary"] == {
        "checked": 8,
        "nonCompliant": 3,
        "denied": 3,
        "byRule": {"baseline/no-secrets": 1, "sagemaker.instance-type": 1, "sagemaker.pattern": 1},
        "byNamespace": {"team-a": 1, "team-b": 2},
    }
    assert [(r["namespace"], r["name"], r["allowed"]) for r in document["results"]] == [
        ("team-a", "big-instance", False),
        ("team-b", "leaky", False),
        ("team-b", "underscore", False),
    ]
    (violation,) = document["results"][1]["violations"]
    assert violation["rule"] == "baseline/no-secrets"
    assert violation["action"] == "deny"
    assert violation["path"] == "spec.environment[AWS_SECRET_ACCESS_KEY]"
    assert violation["message"].startswith("value looks like an AWS secret access key")
    assert SECRET not in json.dumps(document)
    assert AUDIT_FORMATS["json"] is render_json


def test_render_text(server: FakeApiServer, api: ApiClient, baseline: Config) -> None:
    text = render_text(run(api, baseline))
    lines = text.splitlines()
    assert lines[0].startswith(
        "team-a/big-instance: deny sagemaker.instance-type spec.resourceConfig.instanceType: "
        '"ml.bogus.xlarge" is not a SageMaker training instance type'
    )
    assert lines[1].startswith(
        "team-b/leaky: deny baseline/no-secrets spec.environment[AWS_SECRET_ACCESS_KEY]: "
    )
    assert lines[2].startswith('team-b/underscore: deny sagemaker.pattern spec.trainingJobName: "')
    assert lines[3:] == [
        "",
        "8 TrainingJobs checked: 3 non-compliant (3 would be denied)",
        "by rule: baseline/no-secrets 1, sagemaker.instance-type 1, sagemaker.pattern 1",
        "by namespace: team-b 2, team-a 1",
    ]
    assert SECRET not in text


def test_clean_cluster(api: ApiClient, server: FakeApiServer, baseline: Config) -> None:
    report = run(api, baseline, "team-c")
    assert report.results == []
    assert report.exit_code == 0
    assert render_text(report) == "2 TrainingJobs checked: 0 non-compliant\n"


def test_list_errors_name_the_scope_and_the_reason(
    server: FakeApiServer, api: ApiClient, baseline: Config
) -> None:
    server.fail(f"{TRAINING_JOBS}/namespaces/team-a/trainingjobs", status=403)
    with pytest.raises(KubeError, match=r'in namespace "team-a": 403 Forbidden: injected fault'):
        run(api, baseline, "team-a")
    server.fail(f"{TRAINING_JOBS}/trainingjobs", status=500)
    with pytest.raises(KubeError, match="in all namespaces: 500 Internal Server Error"):
        run(api, baseline)


def test_missing_crd_is_named() -> None:
    resources = [r for r in DEFAULT_RESOURCES if r.plural != "trainingjobs"]
    missing = "is the ACK SageMaker controller's CRD installed"
    with (
        FakeApiServer(resources) as server,
        server.api_client() as api,
        pytest.raises(KubeError, match=missing),
    ):
        list(list_training_jobs(api))


# --- how the audit command connects: kubeconfig, contexts, errors ---------------------

KUBECONFIG = """
apiVersion: v1
kind: Config
clusters:
  - name: fake
    cluster: {{server: "{url}"}}
users:
  - name: auditor
    user: {{token: s3cr3t-token}}
contexts:
  - name: main
    context: {{cluster: fake, user: auditor, namespace: team-b}}
  - name: other
    context: {{cluster: fake, user: auditor}}
current-context: main
"""


@pytest.fixture
def kubeconfig(server: FakeApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1")
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    path = tmp_path / "config"
    path.write_text(KUBECONFIG.format(url=server.url))
    return path


def test_audit_through_a_kubeconfig(
    server: FakeApiServer, kubeconfig: Path, baseline: Config
) -> None:
    cluster = load_config(str(kubeconfig))
    assert cluster.namespace == "team-b"
    assert cluster.source == f"kubeconfig {kubeconfig} (context main)"
    with api_client(str(kubeconfig)) as api:
        report = run(api, baseline, cluster.namespace)
    assert sorted(summary(report)) == ["team-b/leaky", "team-b/underscore"]
    (first, *_) = server.requests_to(f"{TRAINING_JOBS}/*")
    assert first.headers["authorization"] == "Bearer s3cr3t-token"


def test_context_and_default_kubeconfig(
    kubeconfig: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert default_namespace(str(kubeconfig), "other") == "default"
    with pytest.raises(KubeConfigError, match="context nope"):
        load_config(str(kubeconfig), "nope")
    with pytest.raises(KubeConfigError, match="no-such-file: no such file"):
        load_config(str(tmp_path / "no-such-file"))
    # $KUBECONFIG, after in-cluster was tried (a service host, but no token in this sandbox).
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    assert load_config().namespace == "team-b"


def test_no_configuration_says_what_was_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    with pytest.raises(KubeConfigError) as failure:
        api_client()
    assert str(failure.value) == (
        "no Kubernetes cluster configuration found: tried in-cluster "
        f"(KUBERNETES_SERVICE_HOST is not set); kubeconfig {tmp_path / 'none'} "
        "(no such file); give --kubeconfig or set KUBECONFIG"
    )


def test_an_unreachable_api_server_is_a_kube_error() -> None:
    with FakeApiServer() as server:
        url = server.url
    with client_for(url, retries=0) as api, pytest.raises(KubeError) as failure:
        list(list_training_jobs(api))
    assert str(failure.value).startswith(
        "cannot list TrainingJobs in all namespaces: cannot reach the API server: "
    )
