"""A TrainingJobPolicy object end to end: applied, enforced, broken, fixed, deleted.

No kube-apiserver runs here. The chart is rendered with Helm's own engine (its
default: policies from the cluster, self-managed certificates); its webhook
configurations are stored in the fake API server of tests/kube/fake_apiserver.py,
which serves ``trainingjobpolicies`` as the chart's CRD declares them (cluster
scope, the status subresource) and runs admission for every write as
kube-apiserver does, calling the webhook over TLS verified with the caBundle the
webhook injected. ``trainingjob-guard serve`` runs as a real process with the
chart's arguments (as in tests/kube/test_serve_in_cluster.py) and a kubeconfig
pointing at the fake.

The test then does what a platform team does with ``kubectl``: applies
``policies/require-vpc/policy.yaml``, creates TrainingJobs that the policy
denies, breaks the policy with an edit the CRD's schema lets through (a field of
another rule kind), fixes it, deletes it, and reads what ``kubectl get`` and
``kubectl describe`` would show: the Ready condition and the events.
"""

from __future__ import annotations

import copy
import json
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import httpx
import pytest
import yaml
from kubernetes.client import CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from tests.conftest import EXAMPLES, PROJECT, eventually
from tests.kube.fake_apiserver import FakeApiServer
from tests.kube.test_serve_in_cluster import (
    NAMESPACE,
    RELEASE,
    SNI,
    Replica,
    _ca_bundle,
    _chart_args,
    _kubeconfig,
    _one,
    _render,
)
from tests.policy.crd_schema import object_problems
from webhook.policy.crd import GROUP, PLURAL, VERSION, custom_resource_definition
from webhook.policy.model import API_VERSION, KIND

pytestmark = pytest.mark.slow

TEAM = "team-a"
JOBS = ("sagemaker.services.k8s.aws", "v1alpha1", "trainingjobs")
SERVICE = f"{RELEASE}-trainingjob-guard"
SCHEMA = custom_resource_definition()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
POLICY = PROJECT / "policies" / "require-vpc" / "policy.yaml"
T = TypeVar("T")


def slowly(condition: Callable[[], T], timeout: float = 20.0) -> T:
    """:func:`~tests.conftest.eventually`, with time for a server process and its watches."""
    return eventually(condition, timeout)


Obj = dict[str, Any]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApiServer, Replica]]:
    # The continuous audit on, every second (the chart's minimum is a minute; the last
    # --audit-interval wins), so the PolicyReports follow the policy object quickly.
    objects = _render(
        {"audit": {"continuous": {"enabled": True}}, "extraArgs": ["--audit-interval", "1"]}
    )
    with FakeApiServer() as server:
        for name in (NAMESPACE, TEAM):
            server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            server.create(_one(objects, kind))
        folder = tmp_path / "policies"  # the chart's ConfigMap, empty: no policy files
        folder.mkdir()
        args = _chart_args(
            _one(objects, "Deployment"), tmp_path, _kubeconfig(tmp_path, server), folder / "x"
        )
        assert "--cluster-policies" in args
        assert "--audit-lease" in args
        replica = Replica(args, tmp_path)
        try:
            server.route_service(NAMESPACE, SERVICE, f"https://127.0.0.1:{replica.port}")
            yield server, replica
        finally:
            replica.stop()


def _ready(replica: Replica, ca: bytes) -> Obj:
    context = ssl.create_default_context(cadata=ca.decode())
    with httpx.Client(verify=context, timeout=10) as client:
        answer = client.get(f"https://127.0.0.1:{replica.port}/readyz", extensions=SNI)
        return cast(Obj, answer.json())


def _job(name: str) -> Obj:
    job: Obj = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    job["metadata"] = {"name": name, "namespace": TEAM}
    job["spec"]["trainingJobName"] = name
    del job["spec"]["vpcConfig"]  # what require-vpc denies
    return job


def _create_job(server: FakeApiServer, name: str, *, dry_run: bool = False) -> str:
    """'created', or the API server's refusal as kubectl prints it."""
    with server.api_client() as api:
        try:
            CustomObjectsApi(api).create_namespaced_custom_object(
                *JOBS[:2], TEAM, JOBS[2], _job(name), dry_run="All" if dry_run else None
            )
        except ApiException as refused:
            return str(json.loads(refused.body or "{}").get("message"))
    return "created"


def _stored(server: FakeApiServer) -> Obj:
    found = server.get(API_VERSION, KIND, "require-vpc")
    assert found is not None
    return found


def _ready_condition(server: FakeApiServer, generation: int) -> Obj | None:
    """The Ready condition once it describes *generation* (what kubectl get's READY shows)."""
    found = server.get(API_VERSION, KIND, "require-vpc")
    status = (found or {}).get("status") or {}
    if status.get("observedGeneration") != generation:
        return None
    [ready] = [c for c in status["conditions"] if c["type"] == "Ready"]
    return cast(Obj, ready)


def _events(server: FakeApiServer) -> list[tuple[str, str, str]]:
    """What kubectl describe trainingjobpolicy require-vpc lists under Events."""
    return [
        (event["type"], event["reason"], event["message"])
        for event in sorted(
            server.objects("v1", "Event", "default"), key=lambda e: e["metadata"]["name"]
        )
        if event["involvedObject"]["name"] == "require-vpc"
    ]


def _decisions(folder: Path, name: str) -> list[Obj]:
    """The validating webhook's decision lines about the job *name*, from its JSON log."""
    lines = (folder / "stderr.log").read_text().splitlines()
    return [
        record
        for record in map(json.loads, lines)
        if record.get("event") == "decision"
        and record.get("endpoint") == "validate"
        and record.get("name") == name
    ]


def test_a_policy_object_is_enforced_kept_when_broken_and_removed_when_deleted(
    cluster: tuple[FakeApiServer, Replica], tmp_path: Path
) -> None:
    server, replica = cluster
    ca = _ca_bundle(server, "ValidatingWebhookConfiguration")
    assert slowly(lambda: _ready(replica, ca)["status"] == "ok")
    assert _create_job(server, "before", dry_run=True) == "created"  # no policy yet

    # kubectl apply -f policies/require-vpc/policy.yaml
    applied = yaml.safe_load(POLICY.read_text())
    with server.api_client() as api:
        CustomObjectsApi(api).create_cluster_custom_object(GROUP, VERSION, PLURAL, applied)
    ready = slowly(lambda: _ready_condition(server, 1))
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("True", "Loaded")
    assert ready["message"] == "version 1.0.0 in force: 3 rules"
    refused = slowly(lambda: m if "require-vpc/vpc" in (m := _create_job(server, "one")) else "")
    assert refused.startswith(
        f'admission webhook "validate.{SERVICE}.{NAMESPACE}.svc" denied the request'
    )
    assert "[require-vpc/vpc]" in refused

    # An edit the API server stores (the CRD's schema has the field, for encryption
    # rules) but the loader refuses: the network rule does not take it.
    broken = copy.deepcopy(_stored(server))
    broken["rules"][0]["requireVolumeKey"] = True
    assert object_problems(SCHEMA, broken) == []
    with server.api_client() as api:
        CustomObjectsApi(api).replace_cluster_custom_object(
            GROUP, VERSION, PLURAL, "require-vpc", broken
        )
    ready = slowly(lambda: _ready_condition(server, 2))
    assert ready is not None
    assert (ready["status"], ready["reason"], ready["observedGeneration"]) == (
        "False",
        "Invalid",
        2,
    )
    broken_message = ready["message"]
    assert broken_message == (
        'rules[0].requireVolumeKey: unknown field "requireVolumeKey"; did you mean '
        '"requireVpc"?; the last good generation, 1 (version 1.0.0), stays in force'
    )
    assert "[require-vpc/vpc]" in _create_job(server, "two")  # generation 1 still decides

    # Fixed, and switched to warn: generation 3 is in force.
    fixed = copy.deepcopy(_stored(server))
    del fixed["rules"][0]["requireVolumeKey"]
    fixed["action"] = "warn"
    fixed["version"] = "1.1.0"
    with server.api_client() as api:
        CustomObjectsApi(api).replace_cluster_custom_object(
            GROUP, VERSION, PLURAL, "require-vpc", fixed
        )
    ready = slowly(lambda: _ready_condition(server, 3))
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("True", "Loaded")
    assert ready["message"] == "version 1.1.0 in force: 3 rules"
    assert slowly(lambda: _create_job(server, "three") == "created")
    [decision] = slowly(lambda: _decisions(tmp_path, "three"))
    assert decision["decision"] == "warned"  # admitted, with require-vpc's warning
    assert "require-vpc/vpc" in decision["rules"]

    # The continuous audit's PolicyReport for team-a: job "three" warned by require-vpc.
    report = slowly(lambda: _require_vpc_results(server), timeout=30)
    assert report == [("three", "network-isolation", "warn"), ("three", "vpc", "warn")], report

    # kubectl describe: an event for each change of the Ready condition.
    expected = [
        ("Normal", "Loaded", "version 1.0.0 in force: 3 rules"),
        ("Warning", "Invalid", broken_message),
        ("Normal", "Loaded", "version 1.1.0 in force: 3 rules"),
    ]
    assert slowly(lambda: _events(server) == expected), _events(server)

    # kubectl delete trainingjobpolicy require-vpc
    with server.api_client() as api:
        CustomObjectsApi(api).delete_cluster_custom_object(GROUP, VERSION, PLURAL, "require-vpc")
    assert slowly(lambda: not _decisions_with_policy(server, tmp_path))
    assert _create_job(server, "after") == "created"
    [decision] = slowly(lambda: _decisions(tmp_path, "after"))
    assert not [rule for rule in decision["rules"] if rule.startswith("require-vpc/")]
    assert _ready(replica, ca)["policies"] == ["baseline"]
    # The next audit round drops the deleted policy's results from the report.
    assert slowly(lambda: _require_vpc_results(server) == [], timeout=30)
    lease = server.get("coordination.k8s.io/v1", "Lease", f"{SERVICE}-audit", NAMESPACE)
    assert lease is not None
    assert lease["spec"]["holderIdentity"]


def _require_vpc_results(server: FakeApiServer) -> list[tuple[str, str, str]] | None:
    """(job, rule, result) of require-vpc in team-a's PolicyReport; None before one exists."""
    report = server.get("wgpolicyk8s.io/v1alpha2", "PolicyReport", "trainingjob-guard", TEAM)
    if report is None:
        return None
    return [
        (result["resources"][0]["name"], result["rule"], result["result"])
        for result in report.get("results") or []
        if result["policy"] == "require-vpc"
    ]


_probes = iter(range(10_000))


def _decisions_with_policy(server: FakeApiServer, folder: Path) -> bool:
    """Whether a dry-run create is still judged by require-vpc (polls the webhook)."""
    name = f"probe-{next(_probes)}"
    _create_job(server, name, dry_run=True)
    decisions = slowly(lambda: _decisions(folder, name), timeout=5)
    return any(rule.startswith("require-vpc/") for d in decisions for rule in d["rules"])
