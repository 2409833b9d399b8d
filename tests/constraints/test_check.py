"""The SageMaker API's constraints, checked through the decision function."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from webhook.engine import Config, review
from webhook.findings import Action

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Set spec.<path> (dotted, with [i] for list items) to *value*."""

    def apply(job: dict[str, Any]) -> None:
        target: Any = job["spec"]
        steps = path.replace("[", ".[").split(".")
        for step in steps[:-1]:
            target = (
                target[int(step[1:-1])] if step.startswith("[") else target.setdefault(step, {})
            )
        last = steps[-1]
        target[last] = value

    return apply


def _hyperparameters(count: int) -> Mutation:
    return _set("hyperParameters", {f"p{i}": "1" for i in range(count)})


def _findings(job: dict[str, Any], config: Config) -> list[tuple[str, str, str]]:
    return [(f.rule, f.where, f.message) for f in review(job, config=config).findings]


def test_the_valid_example_passes(job: dict[str, Any], config: Config) -> None:
    decision = review(job, config=config)
    assert decision.findings == ()
    assert decision.allowed


# The invalid manifests of the acceptance list: each denied with its rule and path.
@pytest.mark.parametrize(
    ("mutate", "rule", "path", "message_part"),
    [
        (
            _set("trainingJobName", "churn_model_v2"),
            "sagemaker.pattern",
            "spec.trainingJobName",
            'is not 1-63 letters, digits and hyphens, starting and ending with a letter or digit; did you mean "churn-model-v2"?',
        ),
        (
            _set("resourceConfig.instanceType", "ml.t2.medium"),
            "sagemaker.instance-type",
            "spec.resourceConfig.instanceType",
            '"ml.t2.medium" is not a SageMaker training instance type (list from the SageMaker API 2017-07-24 model in botocore 1.44.8); did you mean "ml.t3.medium"? If AWS has added it since',
        ),
        (
            _set(
                "inputDataConfig[0].dataSource.s3DataSource.s3DataDistributionType",
                "FullReplicated",
            ),
            "sagemaker.enum",
            "spec.inputDataConfig[0].dataSource.s3DataSource.s3DataDistributionType",
            '"FullReplicated" is not allowed; allowed: FullyReplicated, ShardedByS3Key; did you mean "FullyReplicated"?',
        ),
        (
            _set("stoppingCondition.maxWaitTimeInSeconds", 14400),
            "sagemaker.spot-max-wait",
            "spec.stoppingCondition.maxWaitTimeInSeconds",
            "maxWaitTimeInSeconds is only allowed with enableManagedSpotTraining: true",
        ),
        (
            _set("hyperParameters.notes", "x" * 2600),
            "sagemaker.length",
            "spec.hyperParameters[notes]",
            "value is 2600 characters long; SageMaker allows 0 to 2500 characters",
        ),
        (
            _set("hyperParameters.max_depth", 5),
            "crd.not-string",
            "spec.hyperParameters[max_depth]",
            'quote it: "5"',
        ),
        (
            _hyperparameters(101),
            "sagemaker.map-size",
            "spec.hyperParameters",
            "has 101 entries; SageMaker allows 0 to 100 entries",
        ),
        (
            _set("vpcConfig.securityGroupIDs", [f"sg-{i:017x}" for i in range(6)]),
            "sagemaker.list-size",
            "spec.vpcConfig.securityGroupIDs",
            "has 6 items; SageMaker allows 1 to 5 items",
        ),
        (
            _set("outputDataConfig.kmsKeyId", "alias/team-a"),
            "crd.unknown-field",
            "spec.outputDataConfig.kmsKeyId",
            'unknown field "kmsKeyId"; did you mean "kmsKeyID"?',
        ),
        (
            _set("resourceConfig.volumeSizeInGB", 2**31),
            "sagemaker.int32",
            "spec.resourceConfig.volumeSizeInGB",
            "2147483648 is above 2147483647",
        ),
        (
            _set("resourceConfig.keepAlivePeriodInSeconds", 30000),
            "sagemaker.range",
            "spec.resourceConfig.keepAlivePeriodInSeconds",
            "30000 is out of range; SageMaker allows 0 to 21600",
        ),
        (
            _set("stoppingCondition.maxRuntimeInSeconds", 0),
            "sagemaker.range",
            "spec.stoppingCondition.maxRuntimeInSeconds",
            "0 is out of range; SageMaker allows at least 1",
        ),
        (
            _set("algorithmSpecification.trainingInputMode", None),
            "sagemaker.required",
            "spec.algorithmSpecification.trainingInputMode",
            "trainingInputMode is required by SageMaker (one of: Pipe, File, FastFile); missing",
        ),
        (
            _set("roleARN", "team-a-sagemaker-execution"),
            "sagemaker.pattern",
            "spec.roleARN",
            '"team-a-sagemaker-execution" is not an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecution',
        ),
        (
            _set(
                "roleARN",
                "arn:aws:iam::\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662:role/x",
            ),
            "sagemaker.pattern",
            "spec.roleARN",
            "is not an IAM role ARN such as arn:aws:iam::123456789012:role/SageMakerExecution; SageMaker takes only the ASCII digits 0-9 here",
        ),
        (
            _set("hyperParameters.notes", "line1\rline2"),
            "sagemaker.pattern",
            "spec.hyperParameters[notes]",
            "value does not match .*; it holds a line break (U+000D), and SageMaker takes none here",
        ),
        (
            _set("hyperParameters", {"max\u2028depth": "5"}),
            "sagemaker.pattern",
            'spec.hyperParameters["max\\u2028depth"]',
            "keys must be a match for .*; it holds a line break (U+2028), and SageMaker takes none here",
        ),
        (
            _set("outputDataConfig.s3OutputPath", "s3://ml-team-a/churn/output/\x85"),
            "sagemaker.pattern",
            "spec.outputDataConfig.s3OutputPath",
            "is not an s3:// or https:// URI naming a bucket, such as s3://my-bucket/prefix/; it holds a line break (U+0085)",
        ),
        (
            _set("inputDataConfig[0].shuffleConfig", {"seed": 2**63}),
            "sagemaker.range",
            "spec.inputDataConfig[0].shuffleConfig.seed",
            "9223372036854775808 is out of range; SageMaker allows at most 9223372036854775807",
        ),
        (
            _set("outputDataConfig.s3OutputPath", "ml-team-a/churn/output/"),
            "sagemaker.pattern",
            "spec.outputDataConfig.s3OutputPath",
            "is not an s3:// or https:// URI naming a bucket",
        ),
        (
            _set("environment", {"1_BAD": "x"}),
            "sagemaker.pattern",
            "spec.environment[1_BAD]",
            "keys must be a letter or '_' followed by letters, digits and '_'",
        ),
        (
            _set("tags", [{"key": "owner", "value": "team-a#1"}]),
            "sagemaker.pattern",
            "spec.tags[0].value",
            "is not letters, digits, spaces and _ . : / = + - @",
        ),
        (
            _set(
                "resourceConfig.instanceGroups",
                [{"instanceGroupName": "g", "instanceType": "ml.m5.xlarge", "instanceCount": 2}],
            ),
            "sagemaker.instance-groups",
            "spec.resourceConfig.instanceType",
            "instanceType cannot be set together with instanceGroups",
        ),
        (
            _set("algorithmSpecification.algorithmName", "my-algorithm"),
            "sagemaker.image-or-algorithm",
            "spec.algorithmSpecification.algorithmName",
            "algorithmName and trainingImage are mutually exclusive",
        ),
        (
            _set("inputDataConfig[0].dataSource", {}),
            "sagemaker.data-source",
            "spec.inputDataConfig[0].dataSource",
            "dataSource needs s3DataSource or fileSystemDataSource",
        ),
        (
            _set("inputDataConfig[0].dataSource.s3DataSource.s3URI", "s3://${BUCKET}/train/"),
            "placeholder",
            "spec.inputDataConfig[0].dataSource.s3DataSource.s3URI",
            "contains the unsubstituted placeholder ${BUCKET}",
        ),
        (
            _set(
                "debugRuleConfigurations",
                [
                    {
                        "ruleConfigurationName": "r",
                        "ruleEvaluatorImage": "i",
                        "instanceType": "ml.p9.huge",
                    }
                ],
            ),
            "sagemaker.instance-type",
            "spec.debugRuleConfigurations[0].instanceType",
            "is not a SageMaker processing instance type",
        ),
    ],
)
def test_constraint_is_denied_with_rule_path_and_message(
    job: dict[str, Any], config: Config, mutate: Mutation, rule: str, path: str, message_part: str
) -> None:
    mutate(job)
    decision = review(job, config=config)
    assert not decision.allowed
    matching = [f for f in decision.findings if (f.rule, f.where) == (rule, path)]
    assert matching, [(f.rule, f.where) for f in decision.findings]
    assert message_part in matching[0].message
    assert matching[0].action is Action.DENY


def test_every_violation_is_reported_at_once(job: dict[str, Any], config: Config) -> None:
    job["spec"]["trainingJobName"] = "bad_name"
    job["spec"]["resourceConfig"]["instanceType"] = "ml.t2.medium"
    job["spec"]["vpcConfig"]["subnets"] = []
    job["spec"]["outputDataConfig"]["kmsKeyId"] = "x"
    assert [(rule, path) for rule, path, _ in _findings(job, config)] == [
        ("crd.unknown-field", "spec.outputDataConfig.kmsKeyId"),
        ("sagemaker.pattern", "spec.trainingJobName"),
        ("sagemaker.instance-type", "spec.resourceConfig.instanceType"),
        ("sagemaker.list-size", "spec.vpcConfig.subnets"),
    ]


def test_secret_values_never_appear_in_messages(job: dict[str, Any], config: Config) -> None:
    secret = "AKIA" + "Z" * 2600
    job["spec"]["hyperParameters"]["api_key"] = secret
    job["spec"]["environment"] = {"TOKEN": secret[:600]}
    found = _findings(job, config)
    assert {(rule, path) for rule, path, _ in found} == {
        ("sagemaker.length", "spec.hyperParameters[api_key]"),
        ("sagemaker.length", "spec.environment[TOKEN]"),
    }
    assert "AKIA" not in repr(found)


def test_spot_max_wait_must_cover_max_runtime(job: dict[str, Any], config: Config) -> None:
    job["spec"]["enableManagedSpotTraining"] = True
    job["spec"]["stoppingCondition"]["maxWaitTimeInSeconds"] = 3600
    assert _findings(job, config) == [
        (
            "sagemaker.spot-max-wait",
            "spec.stoppingCondition.maxWaitTimeInSeconds",
            "3600 is less than maxRuntimeInSeconds (7200); "
            "maxWaitTimeInSeconds must be equal to or greater than it",
        )
    ]
    job["spec"]["stoppingCondition"]["maxWaitTimeInSeconds"] = 7200
    assert _findings(job, config) == []


def test_unicode_tags_are_allowed(job: dict[str, Any], config: Config) -> None:
    job["spec"]["tags"] = [{"key": "équipe", "value": "données 2026"}]
    assert _findings(job, config) == []


def test_instance_type_rule_can_be_downgraded_to_a_warning(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["instanceType"] = "ml.p9.48xlarge"
    job["spec"]["trainingJobName"] = "bad_name"
    config = Config(actions={"sagemaker.instance-type": Action.WARN})
    decision = review(job, config=config)
    assert [(f.rule, f.action) for f in decision.findings] == [
        ("sagemaker.pattern", Action.DENY),
        ("sagemaker.instance-type", Action.WARN),
    ]
    assert [f.rule for f in decision.warnings] == ["sagemaker.instance-type"]
    job["spec"]["trainingJobName"] = "good-name"
    assert review(job, config=config).allowed


def test_delete_is_always_allowed(job: dict[str, Any], config: Config) -> None:
    from webhook.engine import Context

    job["spec"]["trainingJobName"] = "bad_name"
    assert review(job, context=Context(operation="DELETE"), config=config).allowed


def test_field_required_by_crd_and_sagemaker_is_reported_once(
    job: dict[str, Any], config: Config
) -> None:
    del job["spec"]["trainingJobName"]
    assert _findings(job, config) == [
        ("crd.required", "spec.trainingJobName", "trainingJobName is required; missing")
    ]
