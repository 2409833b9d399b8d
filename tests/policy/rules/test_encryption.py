from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.model import EncryptionRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.encryption import compile_rule, role_account

KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OUTPUT = "spec.outputDataConfig.kmsKeyID"
VOLUME = "spec.resourceConfig.volumeKMSKeyID"
SHOWN_KEY = f'"{KEY}"'


run = runner("encryption")

FULL: dict[str, Any] = {
    "requireOutputKey": True,
    "requireVolumeKey": True,
    "keys": ["arn:aws:kms:us-east-1:123456789012:key/*", "alias/{namespace}-*"],
    "sameAccountAsRole": True,
    "region": "us-east-1",
}


def test_example_job_passes_every_check(job: dict[str, Any]) -> None:
    assert run(job, **FULL) == []


def test_missing_keys_are_denied(job: dict[str, Any]) -> None:
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = "  "
    assert run(job, requireOutputKey=True, requireVolumeKey=True) == [
        (
            OUTPUT,
            "kmsKeyID is required: the job's output in S3 must be encrypted with a KMS key; missing",
        ),
        (
            VOLUME,
            "volumeKMSKeyID is required: the training instances' storage volumes must be "
            "encrypted with a KMS key; missing",
        ),
    ]


def test_missing_key_message_lists_allowed_keys(job: dict[str, Any]) -> None:
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = "alias/team-a-volumes"
    assert run(job, requireOutputKey=True, keys=["alias/{namespace}-*"]) == [
        (
            OUTPUT,
            "kmsKeyID is required: the job's output in S3 must be encrypted with a KMS key "
            "(allowed: alias/team-a-*); missing",
        )
    ]


def test_missing_keys_are_fine_when_not_required(job: dict[str, Any]) -> None:
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    del job["spec"]["resourceConfig"]["volumeKMSKeyID"]
    assert run(job, keys=["alias/x"], sameAccountAsRole=True, region="us-east-1") == []


def test_keys_globs_apply_to_both_keys(job: dict[str, Any]) -> None:
    job["spec"]["outputDataConfig"]["kmsKeyID"] = "alias/team-b-output"
    assert run(job, keys=["alias/{namespace}-*"]) == [
        (OUTPUT, '"alias/team-b-output" is not an allowed KMS key; allowed: alias/team-a-*'),
        (VOLUME, f"{SHOWN_KEY} is not an allowed KMS key; allowed: alias/team-a-*"),
    ]
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = "alias/team-b-volume"
    assert run(job, namespace="team-b", keys=["alias/{namespace}-*"]) == []


def test_empty_keys_list_allows_no_key(job: dict[str, Any]) -> None:
    del job["spec"]["resourceConfig"]["volumeKMSKeyID"]
    assert run(job, keys=[]) == [(OUTPUT, f"{SHOWN_KEY} is not an allowed KMS key; allowed: none")]


def test_key_in_another_account_than_the_role(job: dict[str, Any]) -> None:
    other = "arn:aws:kms:us-east-1:210987654321:alias/shared"
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = other
    assert run(job, sameAccountAsRole=True) == [
        (
            VOLUME,
            f'KMS key "{other}" is in account 210987654321, not in account 123456789012 '
            "of the job's role (spec.roleARN)",
        )
    ]


def test_key_in_another_region(job: dict[str, Any]) -> None:
    other = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd"
    job["spec"]["outputDataConfig"]["kmsKeyID"] = other
    assert run(job, region="us-east-1") == [
        (OUTPUT, f'KMS key "{other}" is in region eu-west-1; keys must be in us-east-1')
    ]


def test_all_problems_of_a_key_are_reported(job: dict[str, Any]) -> None:
    other = "arn:aws:kms:eu-west-1:210987654321:key/abcd"
    job["spec"]["outputDataConfig"]["kmsKeyID"] = other
    paths = [path for path, _ in run(job, **FULL)]
    assert paths == [OUTPUT, OUTPUT, OUTPUT]


@pytest.mark.parametrize(
    "key", ["1234abcd-12ab-34cd-56ef-1234567890ab", "alias/team-a-key", "arn:aws:s3:::bucket"]
)
def test_keys_without_kms_arn_cannot_be_checked_for_account_or_region(
    job: dict[str, Any], key: str
) -> None:
    job["spec"]["outputDataConfig"]["kmsKeyID"] = key
    assert run(job, sameAccountAsRole=True, region="eu-west-1", requireOutputKey=True) == [
        (VOLUME, f"KMS key {SHOWN_KEY} is in region us-east-1; keys must be in eu-west-1")
    ]


def test_role_that_is_not_an_arn_skips_the_account_check(job: dict[str, Any]) -> None:
    job["spec"]["roleARN"] = "team-a-sagemaker-execution"
    job["spec"]["outputDataConfig"]["kmsKeyID"] = "arn:aws:kms:us-east-1:210987654321:key/x"
    assert run(job, sameAccountAsRole=True) == []


def test_role_account() -> None:
    assert role_account("arn:aws-cn:iam::123456789012:role/x") == "123456789012"
    assert role_account("arn:aws:iam:::role/x") is None
    assert role_account("role/x") is None
    assert role_account(123) is None


@pytest.mark.parametrize("region", ["", "US-EAST-1", "us-east", "us-east-1 "])
def test_bad_region_is_a_config_error(region: str) -> None:
    rule = EncryptionRule.model_validate({"id": "r", "kind": "encryption", "region": region})
    with pytest.raises(RuleConfigError) as error:
        compile_rule(rule)
    assert error.value.field == "region"
    assert "is not an AWS region name such as us-east-1" in error.value.message


@pytest.mark.parametrize("region", ["us-gov-west-1", "cn-northwest-1", "us-isob-east-1"])
def test_partition_regions_are_accepted(region: str) -> None:
    compile_rule(EncryptionRule.model_validate({"id": "r", "kind": "encryption", "region": region}))


@pytest.mark.parametrize(
    "spec",
    [
        {"outputDataConfig": {"kmsKeyID": 5}, "resourceConfig": {"volumeKMSKeyID": ["x"]}},
        {"outputDataConfig": "x", "resourceConfig": None, "roleARN": 7},
        {"outputDataConfig": {"kmsKeyID": None}, "resourceConfig": []},
    ],
)
def test_odd_input_never_raises(spec: dict[str, Any]) -> None:
    job: dict[str, Any] = {"spec": spec}
    config: dict[str, Any] = dict(FULL, requireOutputKey=False, requireVolumeKey=False)
    assert run(job, **config) == []
    # null and wrong containers count as missing; wrong-typed keys are left to the schema
    required = {(p, m.split(":")[0]) for p, m in run(job, **FULL)}
    assert required <= {(OUTPUT, "kmsKeyID is required"), (VOLUME, "volumeKMSKeyID is required")}


def test_spec_of_wrong_type_never_raises() -> None:
    assert run({"spec": "nope"}, **FULL) == [
        (
            OUTPUT,
            "kmsKeyID is required: the job's output in S3 must be encrypted with a KMS key (allowed: arn:aws:kms:us-east-1:123456789012:key/*, alias/team-a-*); missing",
        ),
        (
            VOLUME,
            "volumeKMSKeyID is required: the training instances' storage volumes must be encrypted with a KMS key (allowed: arn:aws:kms:us-east-1:123456789012:key/*, alias/team-a-*); missing",
        ),
    ]
