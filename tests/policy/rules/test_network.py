from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.model import NetworkRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.network import compile_rule

SET_ENCRYPTION = "set enableInterContainerTrafficEncryption: true"


def rule(**config: Any) -> NetworkRule:
    return NetworkRule.model_validate({"id": "r", "kind": "network", **config})


run = runner("network")


def test_valid_job_passes(job: dict[str, Any]) -> None:
    job["spec"]["enableNetworkIsolation"] = True
    assert (
        run(
            job,
            requireVpc=True,
            subnets=["subnet-0a1b*"],
            securityGroups=["sg-0a1b2c3d4e5f60718"],
            requireNetworkIsolation=True,
            interContainerEncryption="distributed",
        )
        == []
    )


def test_require_vpc_without_vpc_config(job: dict[str, Any]) -> None:
    del job["spec"]["vpcConfig"]
    assert run(job, requireVpc=True, subnets=["subnet-*"]) == [
        (
            "spec.vpcConfig",
            "the policy requires the job to run in a VPC: set vpcConfig with subnets and "
            "securityGroupIDs",
        )
    ]
    assert run(job, subnets=["subnet-*"]) == []


def test_require_vpc_with_empty_lists(job: dict[str, Any]) -> None:
    job["spec"]["vpcConfig"] = {"subnets": []}
    assert run(job, requireVpc=True) == [
        (
            "spec.vpcConfig",
            "vpcConfig has no subnets; the policy requires the job to run in a VPC with at least "
            "one subnet",
        ),
        (
            "spec.vpcConfig",
            "vpcConfig has no securityGroupIDs; the policy requires the job to run in a VPC with "
            "at least one security group",
        ),
    ]


def test_subnets_and_security_groups_not_allowed(job: dict[str, Any]) -> None:
    job["spec"]["vpcConfig"] = {
        "subnets": ["subnet-0abc1", "subnet-0fff2"],
        "securityGroupIDs": ["sg-team-a-1", "sg-team-b-1"],
    }
    assert run(job, subnets=["subnet-0abc*"], securityGroups=["sg-{namespace}-*"]) == [
        (
            "spec.vpcConfig.subnets[1]",
            '"subnet-0fff2" is not an allowed subnet; allowed: subnet-0abc*',
        ),
        (
            "spec.vpcConfig.securityGroupIDs[1]",
            '"sg-team-b-1" is not an allowed security group; allowed: sg-team-a-*',
        ),
    ]


@pytest.mark.parametrize("value", [None, False])
def test_network_isolation(job: dict[str, Any], value: bool | None) -> None:
    job["spec"]["enableNetworkIsolation"] = value
    assert run(job, requireNetworkIsolation=True) == [
        (
            "spec.enableNetworkIsolation",
            "the policy requires network isolation (no network access from the training "
            "containers): set enableNetworkIsolation: true",
        )
    ]


def test_encryption_always(job: dict[str, Any]) -> None:
    assert run(job, interContainerEncryption="always") == [
        (
            "spec.enableInterContainerTrafficEncryption",
            f"the policy requires encrypting traffic between training containers: {SET_ENCRYPTION}",
        )
    ]
    job["spec"]["enableInterContainerTrafficEncryption"] = True
    assert run(job, interContainerEncryption="always") == []


def distributed(instances: str) -> list[tuple[str, str]]:
    return [
        (
            "spec.enableInterContainerTrafficEncryption",
            f"the job runs on {instances} and the policy requires encrypting traffic between "
            f"them: {SET_ENCRYPTION}",
        )
    ]


def test_encryption_distributed_by_instance_count(job: dict[str, Any]) -> None:
    assert run(job, interContainerEncryption="distributed") == []
    job["spec"]["resourceConfig"]["instanceCount"] = 4
    assert run(job, interContainerEncryption="distributed") == distributed("4 instances")
    assert run(job) == []
    job["spec"]["enableInterContainerTrafficEncryption"] = True
    assert run(job, interContainerEncryption="distributed") == []


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ([{"instanceType": "ml.m5.xlarge", "instanceCount": 1}], []),
        ([{"instanceType": "ml.m5.xlarge", "instanceCount": 3}], distributed("3 instances")),
        (
            [{"instanceType": "ml.m5.xlarge"}, {"instanceType": "ml.g5.xlarge"}],
            distributed("2 instance groups"),
        ),
        (
            [{"instanceCount": 1}, {"instanceCount": 2}],
            distributed("3 instances"),
        ),
    ],
)
def test_encryption_distributed_by_instance_groups(
    job: dict[str, Any], groups: list[dict[str, Any]], expected: list[tuple[str, str]]
) -> None:
    config = job["spec"]["resourceConfig"]
    del config["instanceType"], config["instanceCount"]
    config["instanceGroups"] = groups
    assert run(job, interContainerEncryption="distributed") == expected


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        (
            {"subnets": []},
            "subnets",
            "is empty: no job in a VPC could pass; leave it out to allow any",
        ),
        (
            {"securityGroups": []},
            "securityGroups",
            "is empty: no job in a VPC could pass; leave it out to allow any",
        ),
        (
            {"subnets": ["subnet-1", "sn-*"]},
            "subnets",
            '"sn-*" can never match: the ids start with subnet-',
        ),
        (
            {"securityGroups": ["sg0*"]},
            "securityGroups",
            '"sg0*" can never match: the ids start with sg-',
        ),
    ],
)
def test_bad_configuration(config: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule(**config))
    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize(
    "patterns", [["*"], ["sub*"], ["subnet-*"], ["subnet-{namespace}"], ["[s]ubnet-0"]]
)
def test_globs_that_can_match_are_accepted(patterns: list[str]) -> None:
    compile_rule(rule(subnets=patterns))


@pytest.mark.parametrize(
    "spec",
    [
        {
            "vpcConfig": "vpc-123",
            "enableNetworkIsolation": "true",
            "enableInterContainerTrafficEncryption": 0,
            "resourceConfig": {"instanceCount": "4"},
        },
        {
            "vpcConfig": {"subnets": "subnet-1", "securityGroupIDs": [None, 7]},
            "enableNetworkIsolation": 1,
            "enableInterContainerTrafficEncryption": "false",
            "resourceConfig": {"instanceGroups": ["x", 5]},
        },
        {
            "resourceConfig": ["x"],
            "enableInterContainerTrafficEncryption": None,
            "enableNetworkIsolation": True,
        },
    ],
)
def test_odd_input_is_left_to_the_type_check(job: dict[str, Any], spec: dict[str, Any]) -> None:
    job["spec"].update(spec)
    found = run(
        job,
        requireVpc=True,
        subnets=["subnet-0a1b*"],
        securityGroups=["sg-0a1b*"],
        requireNetworkIsolation=True,
        interContainerEncryption="distributed",
    )
    assert found == []
