from __future__ import annotations

import copy
import functools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from webhook.engine import Config
from webhook.policy.load import baseline_policy, load_policies

PROJECT = Path(__file__).resolve().parent.parent
EXAMPLES = PROJECT / "webhook" / "examples"
POLICY_FOLDERS = sorted(path for path in (PROJECT / "policies").iterdir() if path.is_dir())
"""The shipped policy library: one folder per policy (policy.yaml, cases.yaml, jobs)."""

# The ACK sagemaker-controller's own files (its TrainingJob CRD, sample, unit- and
# e2e-test manifests) are what many tests compare against. They are not part of this
# repository: one setting names a checkout of the controller at the pinned tag, and
# without it the tests that read it are skipped while every other test runs.
ACK_DIR_VARIABLE = "TRAININGJOB_GUARD_ACK_DIR"
ACK_REPOSITORY = "github.com/aws-controllers-k8s/sagemaker-controller"
ACK_TAG = "v1.9.1"
ACK_DEFAULT = PROJECT.parent / "shared" / "ack"
ACK_MARK = "requires_ack"
"""Marks the tests that read the ACK data; every user of the ``ack`` fixture has it."""


@dataclass(frozen=True)
class AckData:
    """A checkout of the ACK sagemaker-controller at :data:`ACK_TAG` (upstream paths)."""

    root: Path

    @property
    def crd(self) -> Path:
        """The TrainingJob CRD as installed in clusters."""
        return self.root / "config/crd/bases/sagemaker.services.k8s.aws_trainingjobs.yaml"

    @property
    def unit_testdata(self) -> Path:
        """The manifests of the controller's unit tests."""
        return self.root / "pkg/resource/training_job/testdata/v1alpha1"

    @property
    def e2e_resources(self) -> Path:
        """The manifests of the controller's end-to-end tests (``$VARIABLE`` placeholders)."""
        return self.root / "test/e2e/resources"

    def unit_test_manifest(self, name: str) -> dict[str, Any]:
        """One manifest of the controller's unit tests, read anew (the caller may change it)."""
        data: dict[str, Any] = yaml.safe_load((self.unit_testdata / name).read_text())
        return data


def _ack_root() -> Path:
    configured = os.environ.get(ACK_DIR_VARIABLE)
    return Path(configured) if configured else ACK_DEFAULT


def _ack_missing(root: Path) -> str:
    return (
        f"ACK sagemaker-controller {ACK_TAG} data not found in {root}: set "
        f"{ACK_DIR_VARIABLE} to a checkout of {ACK_REPOSITORY} at {ACK_TAG}"
    )


def ack_data() -> AckData:
    """The ACK reference data ($TRAININGJOB_GUARD_ACK_DIR, default ``../shared/ack``).

    Skips the calling test, saying what to set, when the folder holds no TrainingJob CRD.
    """
    data = AckData(_ack_root())
    if not data.crd.is_file():
        pytest.skip(_ack_missing(data.root))
    return data


@pytest.fixture(scope="session")
def ack() -> AckData:
    """The ACK reference data; the tests that use it are skipped when it is absent."""
    return ack_data()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{ACK_MARK}: reads the ACK sagemaker-controller {ACK_TAG} reference data "
        f"(${ACK_DIR_VARIABLE}); skipped without it",
    )


@pytest.hookimpl(tryfirst=True)  # before ``-m`` selects by markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "ack" in getattr(item, "fixturenames", ()):
            item.add_marker(ACK_MARK)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(ACK_MARK) is not None:
        ack_data()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say where the ACK data came from and how many tests read it, or were skipped."""
    ran: set[str] = set()
    skipped: set[str] = set()
    for reports in terminalreporter.stats.values():
        for report in reports:
            if not isinstance(report, pytest.TestReport) or ACK_MARK not in report.keywords:
                continue
            if report.skipped:
                skipped.add(report.nodeid)
            elif report.when == "call":
                ran.add(report.nodeid)
    if not ran and not skipped:
        return
    root = _ack_root()
    if ran:
        line = f"ACK sagemaker-controller {ACK_TAG} reference data in {root}: {_tests(ran)} ran"
        terminalreporter.write_line(line + (f", {len(skipped)} skipped" if skipped else ""))
    else:
        terminalreporter.write_line(f"{_ack_missing(root)} ({_tests(skipped)} skipped)")


def _tests(nodeids: set[str]) -> str:
    return f"{len(nodeids)} test{'' if len(nodeids) == 1 else 's'}"


T = TypeVar("T")


def eventually(condition: Callable[[], T], timeout: float = 5.0) -> T:
    """Poll *condition* until it gives a true value or *timeout* seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.01)
    return condition()


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
def crd_schema(ack: AckData) -> dict[str, Any]:
    """The openAPIV3Schema of the ACK TrainingJob CRD."""
    crd = yaml.safe_load(ack.crd.read_text())
    schema: dict[str, Any] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schema


@functools.cache
def baseline_config(*, mutate: bool = True) -> Config:
    """The bundled baseline policy as an engine configuration, built on first use.

    Shared and built once, when a test first asks, never while modules are imported.
    """
    return Config(policies=load_policies([baseline_policy()]), mutate=mutate)
