from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.paths import format_path
from webhook.policy.rules.tenancy import s3_globs, s3_locations

TEAM_RULE: dict[str, Any] = {
    "roles": ["arn:aws:iam::123456789012:role/{namespace}-*"],
    "s3": ["s3://ml-{namespace}/"],
    "kmsKeys": ["arn:aws:kms:us-east-1:123456789012:alias/{namespace}-*"],
}
TEAM_A_KEY = "arn:aws:kms:us-east-1:123456789012:alias/team-a-ml"


run = runner("tenancy")


@pytest.fixture
def team_a_job(job: dict[str, Any]) -> dict[str, Any]:
    """The example job of team-a, with team-a's alias as KMS key."""
    job["spec"]["outputDataConfig"]["kmsKeyID"] = TEAM_A_KEY
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = TEAM_A_KEY
    return job


def test_job_in_its_own_namespace_passes(team_a_job: dict[str, Any]) -> None:
    assert run(team_a_job, "team-a", **TEAM_RULE) == []


def test_same_manifest_in_another_namespace_is_denied(team_a_job: dict[str, Any]) -> None:
    assert run(team_a_job, "team-b", **TEAM_RULE) == [
        (
            "spec.roleARN",
            '"arn:aws:iam::123456789012:role/team-a-sagemaker-execution" is not one of the IAM '
            "roles allowed in namespace team-b: arn:aws:iam::123456789012:role/team-b-*",
        ),
        (
            "spec.inputDataConfig[0].dataSource.s3DataSource.s3URI",
            '"s3://ml-team-a/churn/train/" is outside the S3 locations allowed in namespace '
            "team-b: s3://ml-team-b/",
        ),
        (
            "spec.outputDataConfig.s3OutputPath",
            '"s3://ml-team-a/churn/output/" is outside the S3 locations allowed in namespace '
            "team-b: s3://ml-team-b/",
        ),
        (
            "spec.outputDataConfig.kmsKeyID",
            f'"{TEAM_A_KEY}" is not one of the KMS keys allowed in namespace team-b: '
            "arn:aws:kms:us-east-1:123456789012:alias/team-b-*",
        ),
        (
            "spec.resourceConfig.volumeKMSKeyID",
            f'"{TEAM_A_KEY}" is not one of the KMS keys allowed in namespace team-b: '
            "arn:aws:kms:us-east-1:123456789012:alias/team-b-*",
        ),
    ]


def test_namespace_comes_from_metadata_without_request_namespace(
    team_a_job: dict[str, Any],
) -> None:
    assert run(team_a_job, None, **TEAM_RULE) == []
    team_a_job["metadata"]["namespace"] = "team-b"
    assert len(run(team_a_job, None, **TEAM_RULE)) == 5


# In the CRD's (alphabetical) order of the fields.
ALL_S3 = [
    "spec.checkpointConfig.s3URI",
    "spec.debugHookConfig.s3OutputPath",
    "spec.debugRuleConfigurations[0].s3OutputPath",
    "spec.inputDataConfig[0].dataSource.s3DataSource.s3URI",
    "spec.inputDataConfig[1].dataSource.s3DataSource.s3URI",
    "spec.outputDataConfig.s3OutputPath",
    "spec.profilerConfig.s3OutputPath",
    "spec.profilerRuleConfigurations[1].s3OutputPath",
    "spec.tensorBoardOutputConfig.s3OutputPath",
]


def _every_s3_location(job: dict[str, Any], uri: str) -> dict[str, Any]:
    spec = job["spec"]
    spec["inputDataConfig"].append(
        {"channelName": "validation", "dataSource": {"s3DataSource": {"s3URI": uri + "in/"}}}
    )
    spec["inputDataConfig"].append(
        {"channelName": "efs", "dataSource": {"fileSystemDataSource": {"directoryPath": "/x"}}}
    )
    spec["inputDataConfig"][0]["dataSource"]["s3DataSource"]["s3URI"] = uri + "in/"
    spec["outputDataConfig"]["s3OutputPath"] = uri + "out/"
    spec["checkpointConfig"] = {"s3URI": uri + "checkpoints/"}
    spec["tensorBoardOutputConfig"] = {"s3OutputPath": uri + "tb/"}
    spec["debugHookConfig"] = {"s3OutputPath": uri + "debug/"}
    spec["debugRuleConfigurations"] = [{"ruleConfigurationName": "r", "s3OutputPath": uri + "r/"}]
    spec["profilerConfig"] = {"s3OutputPath": uri + "profiler/"}
    spec["profilerRuleConfigurations"] = [
        {"ruleConfigurationName": "p0"},
        {"ruleConfigurationName": "p1", "s3OutputPath": uri + "p/"},
    ]
    return job


def test_every_s3_location_is_checked(job: dict[str, Any]) -> None:
    _every_s3_location(job, "s3://ml-team-b/")
    found = run(job, "team-a", s3=["s3://ml-{namespace}/"])
    assert [path for path, _ in found] == ALL_S3
    assert found[0][1] == (
        '"s3://ml-team-b/checkpoints/" is outside the S3 locations allowed in namespace '
        "team-a: s3://ml-team-a/"
    )
    assert run(job, "team-b", s3=["s3://ml-{namespace}/"]) == []


def test_s3_locations_lists_uris_with_paths(job: dict[str, Any]) -> None:
    _every_s3_location(job, "s3://b/")
    assert [(format_path(p), uri) for p, uri in s3_locations(job["spec"])][6:] == [
        ("spec.profilerConfig.s3OutputPath", "s3://b/profiler/"),
        ("spec.profilerRuleConfigurations[1].s3OutputPath", "s3://b/p/"),
        ("spec.tensorBoardOutputConfig.s3OutputPath", "s3://b/tb/"),
    ]


@pytest.mark.parametrize(
    ("uri", "allowed"),
    [
        ("s3://ml-team-a/", True),
        ("s3://ml-team-a", True),  # the bucket itself
        ("s3://ml-team-a/deep/er/key.csv", True),
        ("s3://ml-team-a-evil/x", False),  # another bucket with the same start
        ("s3://ml-team-ab", False),
        ("s3://shared/team-a/x", True),
        ("s3://shared/team-a", False),  # a prefix, would also reach shared/team-ab...
        ("s3://shared/team-ab/x", False),
        ("s3://models/exact.tar.gz", True),
        ("s3://models/exact.tar.gz.bak", False),
        ("https://ml-team-a.s3.amazonaws.com/x", False),
    ],
)
def test_s3_entry_semantics(job: dict[str, Any], uri: str, allowed: bool) -> None:
    job["spec"]["outputDataConfig"]["s3OutputPath"] = uri
    s3 = ["s3://ml-{namespace}/", "s3://shared/{namespace}/", "s3://models/exact.tar.gz"]
    found = run(job, "team-a", s3=s3)
    assert [p for p, _ in found] == ([] if allowed else ["spec.outputDataConfig.s3OutputPath"])


def test_s3_globs() -> None:
    assert s3_globs(["s3://b/", "s3://b/p/", "s3://b/x*"]) == [
        "s3://b/",
        "s3://b/*",
        "s3://b",
        "s3://b/p/",
        "s3://b/p/*",
        "s3://b/x*",
    ]


def test_namespace_name_cannot_widen_a_glob(team_a_job: dict[str, Any]) -> None:
    found = run(team_a_job, "*", **TEAM_RULE)
    assert len(found) == 5
    assert found[1] == (
        "spec.inputDataConfig[0].dataSource.s3DataSource.s3URI",
        '"s3://ml-team-a/churn/train/" is outside the S3 locations allowed in namespace *: '
        "s3://ml-*/",
    )
    assert len(run(team_a_job, "team-?", **TEAM_RULE)) == 5
    assert len(run(team_a_job, "team-[ab]", **TEAM_RULE)) == 5
    # the value is still matched literally
    team_a_job["spec"]["roleARN"] = "arn:aws:iam::123456789012:role/*-x"
    assert [p for p, _ in run(team_a_job, "*", roles=TEAM_RULE["roles"])] == []


def test_empty_lists_allow_nothing(team_a_job: dict[str, Any]) -> None:
    found = run(team_a_job, roles=[], s3=[], kmsKeys=[])
    assert len(found) == 5
    assert found[0][1].endswith("is not one of the IAM roles allowed in namespace team-a: none")


def test_unconfigured_checks_allow_anything(team_a_job: dict[str, Any]) -> None:
    assert run(team_a_job, "team-b") == []


def test_without_any_namespace_the_message_still_reads(team_a_job: dict[str, Any]) -> None:
    del team_a_job["metadata"]["namespace"]
    found = run(team_a_job, None, s3=["s3://ml-{namespace}/"])
    assert found[0][1] == (
        '"s3://ml-team-a/churn/train/" is outside the S3 locations allowed here: s3://ml-/'
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"roleARN": 5, "inputDataConfig": {"x": 1}, "outputDataConfig": ["s3://x"]},
        {
            "inputDataConfig": [
                None,
                5,
                {"dataSource": "s3://x"},
                {"dataSource": {"s3DataSource": 1}},
            ]
        },
        {"checkpointConfig": {"s3URI": 42}, "debugRuleConfigurations": [{"s3OutputPath": None}]},
        {"resourceConfig": {"volumeKMSKeyID": {}}, "profilerRuleConfigurations": "x"},
        {"outputDataConfig": {"s3OutputPath": "", "kmsKeyID": ""}, "roleARN": ""},
    ],
)
def test_odd_input_never_raises(spec: dict[str, Any]) -> None:
    assert run({"spec": spec}, **TEAM_RULE) == []


def test_spec_of_wrong_type_never_raises() -> None:
    assert run({"spec": [1, 2]}, **TEAM_RULE) == []
    assert run({}, **TEAM_RULE) == []


FILE_SYSTEM = "spec.inputDataConfig[1].dataSource.fileSystemDataSource.fileSystemID"
HUB = "spec.inputDataConfig[0].dataSource.s3DataSource.hubAccessConfig.hubContentARN"
PUBLIC_MODEL = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/m/1.0.0"


def add_file_system(job: dict[str, Any], file_system: str) -> None:
    job["spec"]["inputDataConfig"].append(
        {
            "channelName": "features",
            "dataSource": {"fileSystemDataSource": {"fileSystemID": file_system}},
        }
    )


def test_a_file_system_is_denied_when_the_rule_allows_none(job: dict[str, Any]) -> None:
    """A rule that vouches for the team's buckets cannot vouch for a file system."""
    add_file_system(job, "fs-0b1c2d3e4f5a6b7c8")
    assert run(job, s3=["s3://ml-{namespace}/"]) == [
        (
            FILE_SYSTEM,
            '"fs-0b1c2d3e4f5a6b7c8" is outside the file systems allowed in namespace team-a: '
            "none (list them in the rule's fileSystems)",
        )
    ]


def test_file_systems_are_checked_against_their_allow_list(job: dict[str, Any]) -> None:
    add_file_system(job, "fs-0aaa1")
    storage: dict[str, Any] = {"s3": ["s3://ml-{namespace}/"], "fileSystems": ["fs-0aaa*"]}
    assert run(job, "team-a", **storage) == []
    job["spec"]["inputDataConfig"][1]["dataSource"]["fileSystemDataSource"]["fileSystemID"] = (
        "fs-0bbb1"
    )
    assert run(job, "team-a", **storage) == [
        (
            FILE_SYSTEM,
            '"fs-0bbb1" is outside the file systems allowed in namespace team-a: fs-0aaa*',
        )
    ]


def test_storage_lists_cover_every_storage_kind(job: dict[str, Any]) -> None:
    """With only ``fileSystems`` given, S3 locations and hub contents are not vouched for."""
    job["spec"]["inputDataConfig"][0]["dataSource"]["s3DataSource"]["hubAccessConfig"] = {
        "hubContentARN": PUBLIC_MODEL
    }
    found = [path for path, _ in run(job, fileSystems=["fs-*"])]
    assert HUB in found
    assert "spec.outputDataConfig.s3OutputPath" in found
    hubs = "arn:aws:sagemaker:*:aws:hub-content/SageMakerPublicHub/*"
    assert HUB not in [path for path, _ in run(job, hubContents=[hubs])]


def test_a_rule_without_storage_lists_leaves_storage_alone(job: dict[str, Any]) -> None:
    add_file_system(job, "fs-0b1c2d3e4f5a6b7c8")
    assert run(job, roles=["arn:aws:iam::123456789012:role/{namespace}-*"]) == []


@pytest.mark.parametrize(
    "field", ["spec.outputDataConfig.kmsKeyID", "spec.resourceConfig.volumeKMSKeyID"]
)
def test_every_kms_key_field_is_checked(job: dict[str, Any], field: str) -> None:
    _, block, name = field.split(".")
    job["spec"]["outputDataConfig"]["kmsKeyID"] = TEAM_A_KEY
    job["spec"]["resourceConfig"]["volumeKMSKeyID"] = TEAM_A_KEY
    job["spec"][block][name] = "arn:aws:kms:us-east-1:999999999999:key/other"
    found = run(job, kmsKeys=TEAM_RULE["kmsKeys"])
    assert [path for path, _ in found] == [field]
