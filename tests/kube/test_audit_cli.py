"""`trainingjob-guard audit` from the command line, against a fake API server.

No kube-apiserver runs here: a kubeconfig points the real client at
tests/kube/fake_apiserver.py, which holds the TrainingJobs.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.audit.crd import problems
from tests.conftest import EXAMPLES
from tests.kube.fake_apiserver import DEFAULT_RESOURCES, POLICY_REPORTS, FakeApiServer
from webhook.cli import main

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())


def _job(namespace: str, name: str, job_name: str | None = None, **spec: Any) -> dict[str, Any]:
    job = copy.deepcopy(BASE)
    job["metadata"] = {"name": name, "namespace": namespace}
    job["spec"]["trainingJobName"] = job_name or name
    job["spec"].update(spec)
    return job


def write_kubeconfig(path: Path, url: str) -> None:
    """A kubeconfig for the fake server, its context's namespace team-a."""
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": url}}],
                "users": [{"name": "me", "user": {"token": "t"}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "me", "namespace": "team-a"},
                    }
                ],
                "current-context": "fake",
            }
        )
    )


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Iterator[tuple[FakeApiServer, Path]]:
    with FakeApiServer() as server:
        for namespace in ("team-a", "team-b"):
            server.create(
                {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
            )
        server.create(_job("team-a", "good-one"))
        server.create(_job("team-a", "bad-name", "bad_name"))
        resources = copy.deepcopy(BASE["spec"]["resourceConfig"])
        resources["instanceType"] = "ml.t2.medium"
        server.create(_job("team-b", "wrong-type", resourceConfig=resources))
        server.create(_job("team-b", "good-two"))
        path = tmp_path / "kubeconfig"
        write_kubeconfig(path, server.url)
        yield server, path


def test_audit_all_namespaces_reports_exactly_the_non_compliant_jobs(
    capsys: pytest.CaptureFixture[str], kubeconfig: tuple[FakeApiServer, Path]
) -> None:
    server, path = kubeconfig
    code = main(["audit", "--kubeconfig", str(path), "-A", "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    found = {
        (r["namespace"], r["name"]): sorted({v["rule"] for v in r["violations"]})
        for r in report["results"]
    }
    assert found == {
        ("team-a", "bad-name"): ["sagemaker.pattern"],
        ("team-b", "wrong-type"): ["sagemaker.instance-type"],
    }
    assert report["summary"]["checked"] == 4
    assert server.writes() == []  # read-only


def test_audit_defaults_to_the_context_namespace_and_prints_text(
    capsys: pytest.CaptureFixture[str], kubeconfig: tuple[FakeApiServer, Path]
) -> None:
    _, path = kubeconfig
    code = main(["audit", "--kubeconfig", str(path)])
    out = capsys.readouterr().out
    assert code == 1
    assert "bad-name" in out
    assert "wrong-type" not in out  # team-b is not the context's namespace


def test_audit_without_a_cluster_is_a_clear_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["audit", "--kubeconfig", str(tmp_path / "missing")])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: ")


# --- -o policyreport, --apply, --compare-to ------------------------------------------

REPORTS = "/apis/wgpolicyk8s.io/v1alpha2"
NEW_POLICY = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: compute
version: "2.0.0"
rules:
  - {id: instances, kind: resources, instanceTypes: ["ml.c5.*"]}
"""


def test_policyreport_output_is_printed_and_nothing_is_written(
    capsys: pytest.CaptureFixture[str], kubeconfig: tuple[FakeApiServer, Path]
) -> None:
    server, path = kubeconfig
    code = main(["audit", "--kubeconfig", str(path), "-A", "-o", "policyreport"])
    out = capsys.readouterr().out
    reports = list(yaml.safe_load_all(out))
    assert code == 1  # bad-name and wrong-type would be denied
    assert [(r["kind"], r["metadata"]["namespace"]) for r in reports] == [
        ("PolicyReport", "team-a"),
        ("PolicyReport", "team-b"),
    ]
    for report in reports:
        assert problems(report) == []
    uids = {r["resources"][0]["uid"] for r in reports[0]["results"]}
    stored = {
        o["metadata"]["uid"]
        for o in server.objects("sagemaker.services.k8s.aws/v1alpha1", "TrainingJob", "team-a")
    }
    assert uids == stored
    assert server.writes() == []


def test_apply_writes_the_reports_once(
    capsys: pytest.CaptureFixture[str], kubeconfig: tuple[FakeApiServer, Path]
) -> None:
    server, path = kubeconfig
    command = ["audit", "--kubeconfig", str(path), "-A", "-o", "policyreport", "--apply"]
    assert main(command) == 1
    assert capsys.readouterr().out.splitlines() == [
        "team-a: policyreport.wgpolicyk8s.io/trainingjob-guard created (3 pass, 1 fail, 0 warn)",
        "team-b: policyreport.wgpolicyk8s.io/trainingjob-guard created (3 pass, 1 fail, 0 warn)",
        "4 TrainingJobs checked: 2 non-compliant (2 would be denied)",
    ]
    assert len(server.objects("wgpolicyk8s.io/v1alpha2", "PolicyReport")) == 2
    server.clear_requests()
    assert main(command) == 1
    assert capsys.readouterr().out.splitlines()[:2] == [
        "team-a: policyreport.wgpolicyk8s.io/trainingjob-guard unchanged (3 pass, 1 fail, 0 warn)",
        "team-b: policyreport.wgpolicyk8s.io/trainingjob-guard unchanged (3 pass, 1 fail, 0 warn)",
    ]
    assert server.writes() == []


def test_apply_without_the_crd_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    resources = [r for r in DEFAULT_RESOURCES if r != POLICY_REPORTS]
    with FakeApiServer(resources) as server:
        server.create(_job("team-a", "good-one"))
        path = tmp_path / "kubeconfig"
        write_kubeconfig(path, server.url)
        code = main(["audit", "--kubeconfig", str(path), "-o", "policyreport", "--apply"])
        assert server.writes() == []
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (
        'error: cannot list PolicyReports in namespace "team-a": the API server does not serve '
        "policyreports.wgpolicyk8s.io/v1alpha2: install the PolicyReport CRD first; Kyverno's "
        "and Policy Reporter's Helm charts install it, and kubernetes-sigs/wg-policy-prototypes "
        "publishes it (policy-report/crd/v1alpha2)\n"
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--apply"], "--apply writes PolicyReports: give -o policyreport too"),
        (
            ["-o", "policyreport", "--compare-to", "baseline"],
            "--compare-to lists the jobs a policy change flips (-o text or json), not reports",
        ),
        (
            ["jobs/", "-A", "--apply", "-o", "policyreport"],
            "-A, --apply: for a cluster, not for manifests given as PATHs",
        ),
    ],
)
def test_flags_that_do_not_go_together(
    capsys: pytest.CaptureFixture[str], flags: list[str], message: str
) -> None:
    assert main(["audit", *flags]) == 2
    assert capsys.readouterr().err == f"trainingjob-guard audit: error: {message}\n"


def test_compare_to_lists_the_jobs_a_new_policy_would_deny(
    capsys: pytest.CaptureFixture[str], kubeconfig: tuple[FakeApiServer, Path], tmp_path: Path
) -> None:
    server, path = kubeconfig
    policy = tmp_path / "compute.yaml"
    policy.write_text(NEW_POLICY)
    cluster = ["audit", "--kubeconfig", str(path), "-A"]
    code = main([*cluster, "--policy", str(policy), "--compare-to", "baseline", "-o", "json"])
    impact = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [
        (r["namespace"], r["name"], r["change"], [v["rule"] for v in r["added"]])
        for r in impact["results"]
    ] == [
        ("team-a", "good-one", "newlyDenied", ["compute/instances"]),
        ("team-b", "good-two", "newlyDenied", ["compute/instances"]),
        # denied already, by a built-in check: one more reason
        ("team-a", "bad-name", "findingsChanged", ["compute/instances"]),
        ("team-b", "wrong-type", "findingsChanged", ["compute/instances"]),
    ]
    assert impact["summary"] == {
        "checked": 4,
        "newlyDenied": 2,
        "newlyAllowed": 0,
        "findingsChanged": 2,
        "unchanged": 0,
    }
    # Rolling compute back: the baseline alone, compared to the baseline with compute.
    assert main([*cluster, "--compare-to", str(policy)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "team-a/good-one: newly allowed\n"
        "  - deny compute/instances spec.resourceConfig.instanceType: "
    )
    assert out.endswith(
        "4 TrainingJobs checked: 0 newly denied, 2 newly allowed, 2 findings changed, 0 unchanged\n"
    )
    assert server.writes() == []
