from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.paths import format_path
from webhook.policy.model import RequiredRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.required import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context

run = runner("required")


def test_present_fields_and_tags_pass(job: dict[str, Any]) -> None:
    assert (
        run(
            job,
            fields=["vpcConfig", "outputDataConfig.kmsKeyID", "resourceConfig.volumeKMSKeyID"],
            whenSpot=["checkpointConfig"],
            tagKeys=["team"],
        )
        == []
    )


def test_missing_nested_field_reports_its_full_path(job: dict[str, Any]) -> None:
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    assert run(job, fields=["outputDataConfig.kmsKeyID"]) == [
        ("spec.outputDataConfig.kmsKeyID", "kmsKeyID is required; missing")
    ]


def test_missing_parent_reports_the_field(job: dict[str, Any]) -> None:
    del job["spec"]["vpcConfig"]
    job["spec"]["experimentConfig"] = None
    assert run(job, fields=["vpcConfig", "experimentConfig.experimentName"]) == [
        ("spec.vpcConfig", "vpcConfig is required; missing"),
        ("spec.experimentConfig.experimentName", "experimentName is required; missing"),
    ]


@pytest.mark.parametrize("empty", ["", "  ", [], {}, None])
def test_empty_values_count_as_missing(job: dict[str, Any], empty: Any) -> None:
    job["spec"]["outputDataConfig"]["kmsKeyID"] = empty
    state = "missing" if empty is None else "empty"
    assert run(job, fields=["outputDataConfig.kmsKeyID"]) == [
        ("spec.outputDataConfig.kmsKeyID", f"kmsKeyID is required; {state}")
    ]


def test_when_spot_fields_apply_only_with_spot(job: dict[str, Any]) -> None:
    assert run(job, whenSpot=["checkpointConfig"]) == []
    job["spec"]["enableManagedSpotTraining"] = False
    assert run(job, whenSpot=["checkpointConfig"]) == []
    job["spec"]["enableManagedSpotTraining"] = True
    assert run(job, whenSpot=["checkpointConfig.s3URI"]) == [
        (
            "spec.checkpointConfig.s3URI",
            "s3URI is required with managed spot training (enableManagedSpotTraining: true); "
            "missing",
        )
    ]


def test_field_in_both_lists_is_reported_once(job: dict[str, Any]) -> None:
    job["spec"]["enableManagedSpotTraining"] = True
    found = run(job, fields=["checkpointConfig"], whenSpot=["checkpointConfig"])
    assert found == [("spec.checkpointConfig", "checkpointConfig is required; missing")]


def test_missing_tag_keys_each_reported(job: dict[str, Any]) -> None:
    assert run(job, tagKeys=["team", "cost-center", "owner-{namespace}"]) == [
        ("spec.tags", 'tag "cost-center" is required; missing'),
        ("spec.tags", 'tag "owner-team-a" is required; missing'),
    ]
    del job["spec"]["tags"]
    assert run(job, tagKeys=["team"]) == [("spec.tags", 'tag "team" is required; missing')]


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "fields",
            "outputDataConfig.kmsKeyId",
            'unknown field "outputDataConfig.kmsKeyId"; did you mean "outputDataConfig.kmsKeyID"?',
        ),
        (
            "whenSpot",
            "checkpointconfig",
            'unknown field "checkpointconfig"; did you mean "checkpointConfig"?',
        ),
        ("fields", "nothingLikeIt", 'unknown field "nothingLikeIt"'),
        (
            "fields",
            "spec.vpcConfig",
            '"spec.vpcConfig": paths are relative to spec; write "vpcConfig"',
        ),
        ("fields", "vpcConfig.", '"vpcConfig." is not a dotted field path like vpcConfig'),
        (
            "fields",
            "inputDataConfig.channelName",
            '"inputDataConfig.channelName" goes inside inputDataConfig, which is a list: '
            "a required field can only go through objects",
        ),
        (
            "fields",
            "hyperParameters.epochs",
            '"hyperParameters.epochs" goes inside hyperParameters, which is a map: a required '
            "field can only go through objects; use a hyperparameters rule with keys.<name>.required",
        ),
        (
            "fields",
            "roleARN.x",
            '"roleARN.x" goes inside roleARN, which is a single value: '
            "a required field can only go through objects",
        ),
    ],
)
def test_bad_paths_are_config_errors(option: str, value: str, message: str) -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(RequiredRule.model_validate({"id": "r", "kind": "required", option: [value]}))
    assert (raised.value.field, raised.value.message) == (option, message)


def test_empty_tag_key_is_a_config_error() -> None:
    with pytest.raises(RuleConfigError, match="tagKeys: a tag key cannot be empty"):
        compile_rule(RequiredRule.model_validate({"id": "r", "kind": "required", "tagKeys": [""]}))


SPOT_S3 = (
    "spec.checkpointConfig.s3URI",
    "s3URI is required with managed spot training (enableManagedSpotTraining: true); missing",
)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            {
                "outputDataConfig": "not-an-object",
                "tags": "nope",
                "enableManagedSpotTraining": True,
            },
            [SPOT_S3],
        ),
        (
            {"outputDataConfig": ["x"], "tags": [1, None, {"key": 5}], "checkpointConfig": 3},
            [("spec.tags", 'tag "team" is required; missing')],
        ),
        (
            {"enableManagedSpotTraining": "true", "checkpointConfig": {"s3URI": 7}},
            [],
        ),
    ],
)
def test_odd_input_is_left_to_the_type_check(
    job: dict[str, Any], spec: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    job["spec"].update(spec)
    found = run(
        job,
        fields=["outputDataConfig.kmsKeyID"],
        whenSpot=["checkpointConfig.s3URI"],
        tagKeys=["team"],
    )
    assert found == expected


def test_odd_spec_does_not_raise() -> None:
    rule = RequiredRule.model_validate({"id": "r", "kind": "required", "fields": ["vpcConfig"]})
    found = list(compile_rule(rule)(Subject.of({"spec": "x"}, Context())))
    assert [(format_path(v.path), v.message) for v in found] == [
        ("spec.vpcConfig", "vpcConfig is required; missing")
    ]
