from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.model import ResourcesRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.resources import compile_rule, duration


def rule(**config: Any) -> ResourcesRule:
    return ResourcesRule.model_validate({"id": "r", "kind": "resources", **config})


run = runner("resources")


def groups(job: dict[str, Any], *members: tuple[str, int]) -> None:
    config = job["spec"]["resourceConfig"]
    del config["instanceType"], config["instanceCount"]
    config["instanceGroups"] = [
        {"instanceGroupName": f"g{i}", "instanceType": t, "instanceCount": n}
        for i, (t, n) in enumerate(members)
    ]


def test_valid_job_passes(job: dict[str, Any]) -> None:
    assert (
        run(
            job,
            instanceTypes=["ml.m5.*", "ml.g5.*"],
            maxInstanceCount=1,
            maxVolumeSizeInGB=30,
            maxRuntimeInSeconds=7200,
            maxWaitTimeInSeconds=10,
            spot="forbidden",
        )
        == []
    )


def test_instance_type_not_allowed(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["instanceType"] = "ml.p4d.24xlarge"
    assert run(job, instanceTypes=["ml.m5.*", "ml.g5.*"]) == [
        (
            "spec.resourceConfig.instanceType",
            '"ml.p4d.24xlarge" is not an allowed instance type; allowed: ml.m5.*, ml.g5.*',
        )
    ]


def test_instance_groups_types_and_total_count(job: dict[str, Any]) -> None:
    groups(job, ("ml.m5.xlarge", 3), ("ml.p4d.24xlarge", 2))
    assert run(job, instanceTypes=["ml.m5.*"], maxInstanceCount=4) == [
        (
            "spec.resourceConfig.instanceGroups[1].instanceType",
            '"ml.p4d.24xlarge" is not an allowed instance type; allowed: ml.m5.*',
        ),
        (
            "spec.resourceConfig.instanceGroups",
            "the instance groups have 5 instances in all; the policy allows at most 4",
        ),
    ]
    assert run(job, maxInstanceCount=5) == []


def test_instance_count(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["instanceCount"] = 8
    assert run(job, maxInstanceCount=4) == [
        ("spec.resourceConfig.instanceCount", "8 instances; the policy allows at most 4")
    ]


def test_volume_size(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["volumeSizeInGB"] = 500
    assert run(job, maxVolumeSizeInGB=100) == [
        ("spec.resourceConfig.volumeSizeInGB", "500 GB; the policy allows at most 100 GB")
    ]


def test_run_and_wait_times(job: dict[str, Any]) -> None:
    job["spec"]["stoppingCondition"] = {"maxRuntimeInSeconds": 90000, "maxWaitTimeInSeconds": 95400}
    assert run(job, maxRuntimeInSeconds=7200, maxWaitTimeInSeconds=10800) == [
        (
            "spec.stoppingCondition.maxRuntimeInSeconds",
            "90000 seconds (1d1h); the policy allows at most 7200 seconds (2h)",
        ),
        (
            "spec.stoppingCondition.maxWaitTimeInSeconds",
            "95400 seconds (1d2h30m); the policy allows at most 10800 seconds (3h)",
        ),
    ]


def test_missing_runtime_uses_sagemakers_default(job: dict[str, Any]) -> None:
    job["spec"]["stoppingCondition"] = {}
    assert run(job, maxRuntimeInSeconds=7200, maxWaitTimeInSeconds=60) == [
        (
            "spec.stoppingCondition.maxRuntimeInSeconds",
            "not set, so SageMaker's default of 86400 seconds (1d) applies; "
            "the policy allows at most 7200 seconds (2h)",
        )
    ]
    assert run(job, maxRuntimeInSeconds=86400) == []


@pytest.mark.parametrize("enabled", [None, False])
def test_spot_required(job: dict[str, Any], enabled: bool | None) -> None:
    if enabled is not None:
        job["spec"]["enableManagedSpotTraining"] = enabled
    assert run(job, spot="required") == [
        (
            "spec.enableManagedSpotTraining",
            "the policy requires managed spot training: set enableManagedSpotTraining: true "
            "and stoppingCondition.maxWaitTimeInSeconds",
        )
    ]
    job["spec"]["enableManagedSpotTraining"] = True
    assert run(job, spot="required") == []


def test_spot_forbidden(job: dict[str, Any]) -> None:
    job["spec"]["enableManagedSpotTraining"] = True
    assert run(job, spot="forbidden") == [
        (
            "spec.enableManagedSpotTraining",
            "the policy forbids managed spot training: remove enableManagedSpotTraining or set "
            "it to false",
        )
    ]
    assert run(job, spot="allowed") == []


def test_instance_types_with_placeholder(job: dict[str, Any]) -> None:
    job["metadata"]["labels"] = {}
    assert run(job, instanceTypes=["ml.{namespace}.*"]) == [
        (
            "spec.resourceConfig.instanceType",
            '"ml.m5.xlarge" is not an allowed instance type; allowed: ml.team-a.*',
        )
    ]


@pytest.mark.parametrize(
    ("patterns", "message"),
    [
        ([], "is empty: no job could pass; leave it out to allow any type"),
        (
            ["ml.m5.*", "m5.*"],
            '"m5.*" can never match: SageMaker instance types start with ml.; did you mean "ml.m5.*"?',
        ),
        (
            ["ML.p4d.24xlarge"],
            '"ML.p4d.24xlarge" can never match: SageMaker instance types start with ml.; '
            'did you mean "ml.p4d.24xlarge"?',
        ),
    ],
)
def test_bad_configuration(patterns: list[str], message: str) -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule(instanceTypes=patterns))
    assert (raised.value.field, raised.value.message) == ("instanceTypes", message)


@pytest.mark.parametrize(
    "patterns", [["*"], ["m*"], ["ml*"], ["?l.m5.large"], ["[m]l.*"], ["{namespace}"]]
)
def test_globs_that_can_match_are_accepted(patterns: list[str]) -> None:
    compile_rule(rule(instanceTypes=patterns))


@pytest.mark.parametrize(
    "spec",
    [
        {
            "resourceConfig": "ml.m5.large",
            "stoppingCondition": 3,
            "enableManagedSpotTraining": "yes",
        },
        {
            "resourceConfig": {
                "instanceType": 5,
                "instanceCount": "99",
                "volumeSizeInGB": True,
                "instanceGroups": ["x", {"instanceType": None, "instanceCount": "9"}],
            },
            "stoppingCondition": {"maxRuntimeInSeconds": "999999", "maxWaitTimeInSeconds": 1.5e9},
            "enableManagedSpotTraining": 1,
        },
    ],
)
def test_odd_input_is_left_to_the_type_check(job: dict[str, Any], spec: dict[str, Any]) -> None:
    job["spec"].update(spec)
    found = run(
        job,
        instanceTypes=["ml.m5.*"],
        maxInstanceCount=1,
        maxVolumeSizeInGB=1,
        maxRuntimeInSeconds=60,
        maxWaitTimeInSeconds=60,
        spot="required",
    )
    assert found == []


def test_duration() -> None:
    assert [duration(s) for s in (0, 45, 60, 5400, 86400, 90061)] == [
        "0s",
        "45s",
        "1m",
        "1h30m",
        "1d",
        "1d1h1m1s",
    ]


@pytest.mark.parametrize("rules", ["debugRuleConfigurations", "profilerRuleConfigurations"])
def test_rule_evaluators_instances_and_volumes_are_limited(job: dict[str, Any], rules: str) -> None:
    """A job on small instances cannot run its rule evaluators on large ones."""
    job["spec"][rules] = [
        {"ruleConfigurationName": "ok", "instanceType": "ml.m5.xlarge", "volumeSizeInGB": 30},
        {"ruleConfigurationName": "big", "instanceType": "ml.p3.16xlarge", "volumeSizeInGB": 16384},
    ]
    assert run(job, instanceTypes=["ml.m5.*"], maxVolumeSizeInGB=500) == [
        (
            f"spec.{rules}[1].instanceType",
            '"ml.p3.16xlarge" is not an allowed instance type; allowed: ml.m5.*',
        ),
        (f"spec.{rules}[1].volumeSizeInGB", "16384 GB; the policy allows at most 500 GB"),
    ]


def test_placement_counts_are_limited_one_by_one(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["instancePlacementConfig"] = {
        "placementSpecifications": [{"instanceCount": 2}, {"instanceCount": 9}]
    }
    assert run(job, maxInstanceCount=4) == [
        (
            "spec.resourceConfig.instancePlacementConfig.placementSpecifications[1].instanceCount",
            "9 instances; the policy allows at most 4",
        )
    ]
