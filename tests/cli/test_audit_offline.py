"""`trainingjob-guard audit PATH...`: the same audit on manifest files, no cluster."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.audit.crd import problems
from tests.conftest import EXAMPLES, write
from webhook.cli import main

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
COMPUTE = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: compute
rules:
  - {id: instances, kind: resources, instanceTypes: ["ml.c5.*"]}
"""


def job(name: str, namespace: str | None = None, instance_type: str = "ml.m5.xlarge") -> Any:
    item = copy.deepcopy(BASE)
    item["metadata"] = {"name": name} | ({"namespace": namespace} if namespace else {})
    item["spec"]["trainingJobName"] = name
    item["spec"]["resourceConfig"]["instanceType"] = instance_type
    return item


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    """As `kubectl get trainingjobs -A -o yaml` prints them, plus a file of its own."""
    folder = tmp_path / "jobs"
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [job("a-m5", "team-a"), job("a-c5", "team-a", "ml.c5.xlarge")],
    }
    write(folder, "dump.yaml", yaml.safe_dump(listed))
    other = yaml.safe_dump(job("loose")) + "---\n" + yaml.safe_dump({"kind": "ConfigMap"})
    write(folder, "more/loose.yml", other)
    return folder


def test_audit_of_manifests_reads_lists_and_places_loose_jobs_in_default(
    capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    compute = write(tmp_path, "compute.yaml", COMPUTE)
    code = main(["audit", str(manifests), "--policy", str(compute), "-o", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert [(r["namespace"], r["name"], r["allowed"]) for r in report["results"]] == [
        ("default", "loose", False),
        ("team-a", "a-m5", False),
    ]
    assert report["summary"]["checked"] == 3
    assert main(["audit", str(manifests), "-n", "team-z", "--policy", str(compute)]) == 1
    assert "team-z/loose: deny compute/instances" in capsys.readouterr().out


def test_impact_preview_offline_and_its_exit_codes(
    capsys: pytest.CaptureFixture[str], manifests: Path, tmp_path: Path
) -> None:
    compute = str(write(tmp_path, "compute.yaml", COMPUTE))
    assert main(["audit", str(manifests), "--policy", compute, "--compare-to", "baseline"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "default/loose: newly denied",
        '  + deny compute/instances spec.resourceConfig.instanceType: "ml.m5.xlarge" is not an '
        "allowed instance type; allowed: ml.c5.*",
        "team-a/a-m5: newly denied",
        '  + deny compute/instances spec.resourceConfig.instanceType: "ml.m5.xlarge" is not an '
        "allowed instance type; allowed: ml.c5.*",
        "",
        "3 TrainingJobs checked: 2 newly denied, 0 newly allowed, 0 findings changed, 1 unchanged",
    ]
    # Rolling it back only allows: CI passes.
    assert main(["audit", str(manifests), "--compare-to", compute]) == 0
    assert "2 newly allowed" in capsys.readouterr().out


def test_policyreports_of_manifests(capsys: pytest.CaptureFixture[str], manifests: Path) -> None:
    assert main(["audit", str(manifests), "-o", "policyreport"]) == 0
    reports = list(yaml.safe_load_all(capsys.readouterr().out))
    assert [r["metadata"]["namespace"] for r in reports] == ["default", "team-a"]
    assert all(problems(report) == [] for report in reports)
    # Never stored, so no uid to point at.
    assert reports[1]["results"][0]["resources"] == [
        {
            "apiVersion": "sagemaker.services.k8s.aws/v1alpha1",
            "kind": "TrainingJob",
            "name": "a-c5",
            "namespace": "team-a",
        }
    ]


def test_unreadable_input_is_exit_2_after_the_rest_is_audited(
    capsys: pytest.CaptureFixture[str], manifests: Path
) -> None:
    write(manifests, "broken.yaml", "kind: TrainingJob\nspec: [unclosed\n")
    code = main(["audit", str(manifests)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out.endswith("3 TrainingJobs checked: 0 non-compliant\n")
    assert captured.err.startswith(f"{manifests / 'broken.yaml'}:3:1: error: ")


def test_no_training_jobs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = write(tmp_path, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\n")
    assert main(["audit", str(empty), "-o", "policyreport"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "no TrainingJobs found: no PolicyReport to print\n"
