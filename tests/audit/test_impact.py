"""Impact preview: which jobs a policy change flips, and how CI reads it."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write
from webhook.audit.impact import Change, compare
from webhook.cli.output.audit import render_impact_json, render_impact_text
from webhook.engine import Config
from webhook.findings import Action
from webhook.policy.load import load_policies

POLICY = """
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
id: compute
version: "{version}"
action: {action}
rules:
  - {{id: instances, kind: resources, instanceTypes: [{allowed}]}}
"""


def stored(base: dict[str, Any], name: str, instance_type: str) -> dict[str, Any]:
    job = copy.deepcopy(base)
    job["metadata"] = {"name": name, "namespace": "team-a"}
    job["spec"]["trainingJobName"] = name
    job["spec"]["resourceConfig"]["instanceType"] = instance_type
    return job


def config(folder: Path, name: str, action: str, allowed: str, version: str = "1") -> Config:
    path = write(folder, name, POLICY.format(action=action, allowed=allowed, version=version))
    return Config(policies=load_policies([path]))


def no_labels(namespace: str) -> None:
    return None


@pytest.fixture
def jobs(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        stored(job, "c5", "ml.c5.xlarge"),
        stored(job, "m5", "ml.m5.xlarge"),
        stored(job, "p3", "ml.p3.2xlarge"),
        stored(job, "t2", "ml.t2.medium"),  # not a SageMaker training type: always denied
    ]


def changes(impact: Any) -> list[tuple[str, Change, list[str], list[str]]]:
    return [
        (
            flip.name,
            flip.change,
            [f"{f.action.value} {f.rule}" for f in flip.added],
            [f"{f.action.value} {f.rule}" for f in flip.removed],
        )
        for flip in impact.flips
    ]


def test_enforcing_a_warning_denies_the_jobs_it_warned(
    tmp_path: Path, jobs: list[dict[str, Any]]
) -> None:
    before = config(tmp_path / "a", "p.yaml", "warn", '"ml.c5.*", "ml.m5.*"')
    after = config(tmp_path / "b", "p.yaml", "deny", '"ml.c5.*", "ml.m5.*"')
    impact = compare(jobs, before, after, no_labels)
    assert changes(impact) == [
        ("p3", Change.NEWLY_DENIED, ["deny compute/instances"], ["warn compute/instances"]),
        ("t2", Change.FINDINGS_CHANGED, ["deny compute/instances"], ["warn compute/instances"]),
    ]
    assert impact.checked == 4
    assert impact.unchanged == 2
    assert impact.exit_code == 1


def test_widening_allows_and_a_new_warning_is_only_a_change(
    tmp_path: Path, jobs: list[dict[str, Any]]
) -> None:
    before = config(tmp_path / "a", "p.yaml", "deny", '"ml.c5.*"')
    after = config(tmp_path / "b", "p.yaml", "deny", '"ml.c5.*", "ml.m5.*", "ml.p3.*"')
    impact = compare(jobs, before, after, no_labels)
    assert changes(impact) == [
        ("m5", Change.NEWLY_ALLOWED, [], ["deny compute/instances"]),
        ("p3", Change.NEWLY_ALLOWED, [], ["deny compute/instances"]),
    ]
    assert impact.exit_code == 0
    warned = config(tmp_path / "c", "p.yaml", "warn", '"ml.c5.*"')
    impact = compare(jobs, Config(), warned, no_labels)
    assert [(name, change) for name, change, _, _ in changes(impact)] == [
        ("m5", Change.FINDINGS_CHANGED),
        ("p3", Change.FINDINGS_CHANGED),
        ("t2", Change.FINDINGS_CHANGED),
    ]
    assert impact.exit_code == 0


def test_the_same_findings_in_other_words_are_no_change(
    tmp_path: Path, jobs: list[dict[str, Any]]
) -> None:
    before = config(tmp_path / "a", "p.yaml", "deny", '"ml.c5.*"', version="1")
    # Another allow-list message, the same rule, path and action for the same jobs.
    after = config(tmp_path / "b", "p.yaml", "deny", '"ml.c5.*", "ml.g5.*"', version="2")
    impact = compare(jobs, before, after, no_labels)
    assert impact.flips == []
    assert impact.exit_code == 0


def test_rule_actions_apply_on_both_sides(tmp_path: Path, jobs: list[dict[str, Any]]) -> None:
    before = config(tmp_path / "a", "p.yaml", "deny", '"ml.c5.*"')
    relaxed = {"sagemaker.instance-type": Action.WARN}
    after = Config(policies=before.policies, actions=relaxed)
    impact = compare(jobs, before, after, no_labels)
    assert changes(impact) == [
        (
            "t2",
            Change.FINDINGS_CHANGED,  # still denied by compute/instances
            ["warn sagemaker.instance-type"],
            ["deny sagemaker.instance-type"],
        )
    ]


def test_text_and_json(tmp_path: Path, jobs: list[dict[str, Any]]) -> None:
    before = config(tmp_path / "a", "p.yaml", "deny", '"ml.c5.*", "ml.m5.*"')
    after = config(tmp_path / "b", "p.yaml", "deny", '"ml.c5.*", "ml.p3.*"')
    impact = compare(jobs, before, after, no_labels)
    assert render_impact_text(impact).splitlines() == [
        "team-a/m5: newly denied",
        '  + deny compute/instances spec.resourceConfig.instanceType: "ml.m5.xlarge" is not an '
        "allowed instance type; allowed: ml.c5.*, ml.p3.*",
        "team-a/p3: newly allowed",
        '  - deny compute/instances spec.resourceConfig.instanceType: "ml.p3.2xlarge" is not an '
        "allowed instance type; allowed: ml.c5.*, ml.m5.*",
        "",
        "4 TrainingJobs checked: 1 newly denied, 1 newly allowed, 0 findings changed, 2 unchanged",
    ]
    document = json.loads(render_impact_json(impact))
    assert document["summary"] == {
        "checked": 4,
        "newlyDenied": 1,
        "newlyAllowed": 1,
        "findingsChanged": 0,
        "unchanged": 2,
    }
    assert document["results"][0] == {
        "namespace": "team-a",
        "name": "m5",
        "change": "newlyDenied",
        "allowedBefore": True,
        "allowedAfter": False,
        "added": [
            {
                "rule": "compute/instances",
                "action": "deny",
                "path": "spec.resourceConfig.instanceType",
                "message": '"ml.m5.xlarge" is not an allowed instance type; allowed: '
                "ml.c5.*, ml.p3.*",
            }
        ],
        "removed": [],
    }
