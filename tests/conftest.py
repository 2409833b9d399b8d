from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from webhook.engine import Config

PROJECT = Path(__file__).resolve().parent.parent
ACK = PROJECT.parent / "shared" / "ack"
CRD_FILE = ACK / "config/crd/bases/sagemaker.services.k8s.aws_trainingjobs.yaml"
UNIT_TESTDATA = ACK / "pkg/resource/training_job/testdata/v1alpha1"
E2E_RESOURCES = ACK / "test/e2e/resources"
EXAMPLES = PROJECT / "webhook" / "examples"


def write(folder: Path, name: str, text: str) -> Path:
    """Write *text* to *folder*/*name* (creating folders) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def admission_review(job: Any, namespace: str | None, **request: Any) -> dict[str, Any]:
    """The AdmissionReview v1 of a CREATE of *job* as the API server sends it; *request*
    replaces or adds fields of its ``request``."""
    body: dict[str, Any] = {
        "uid": "u-1",
        "kind": {
            "group": "sagemaker.services.k8s.aws",
            "version": "v1alpha1",
            "kind": "TrainingJob",
        },
        "resource": {"group": "sagemaker.services.k8s.aws", "resource": "trainingjobs"},
        "operation": "CREATE",
        "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
        "object": job,
        "dryRun": False,
    }
    if namespace is not None:
        body["namespace"] = namespace
    body.update(request)
    return {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": body}


_VALID_JOB: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())


@pytest.fixture(scope="session")
def config() -> Config:
    return Config()


@pytest.fixture
def job() -> dict[str, Any]:
    """A fresh copy of a TrainingJob that passes every check."""
    return copy.deepcopy(_VALID_JOB)


@pytest.fixture(scope="session")
def crd_schema() -> dict[str, Any]:
    crd = yaml.safe_load(CRD_FILE.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema
