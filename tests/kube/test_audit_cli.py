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

from tests.conftest import EXAMPLES
from tests.kube.fake_apiserver import FakeApiServer
from webhook.cli import main

BASE: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())


def _job(namespace: str, name: str, job_name: str | None = None, **spec: Any) -> dict[str, Any]:
    job = copy.deepcopy(BASE)
    job["metadata"] = {"name": name, "namespace": namespace}
    job["spec"]["trainingJobName"] = job_name or name
    job["spec"].update(spec)
    return job


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
        path.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "fake", "cluster": {"server": server.url}}],
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
