from __future__ import annotations

from typing import Any

import pytest

from webhook.model.parse import parse


def _findings(obj: dict[str, Any]) -> list[tuple[str, str, str]]:
    typed, findings = parse(obj)
    assert (typed is None) == bool(findings)
    return [(f.rule, f.where, f.message) for f in findings]


def test_valid_object_parses_to_typed_model(job: dict[str, Any]) -> None:
    typed, findings = parse(job)
    assert findings == []
    assert typed is not None
    assert typed.spec.resourceConfig.instanceType == "ml.m5.xlarge"
    assert typed.spec.vpcConfig is not None
    assert typed.spec.vpcConfig.securityGroupIDs == ["sg-0a1b2c3d4e5f60718"]


@pytest.mark.parametrize(
    ("block", "wrong", "right"),
    [
        (("inputDataConfig", 0, "dataSource", "s3DataSource"), "s3Uri", "s3URI"),
        (("outputDataConfig",), "kmsKeyId", "kmsKeyID"),
        (("resourceConfig",), "volumeKmsKeyId", "volumeKMSKeyID"),
        (("vpcConfig",), "subnet", "subnets"),
        (("vpcConfig",), "securityGroupIds", "securityGroupIDs"),
        ((), "roleArn", "roleARN"),
        ((), "hyperparameters", "hyperParameters"),
    ],
)
def test_unknown_field_suggests_the_crd_name(
    job: dict[str, Any], block: tuple[str | int, ...], wrong: str, right: str
) -> None:
    target: Any = job["spec"]
    for step in block:
        target = target[step]
    target[wrong] = target.pop(right)
    path = ".".join(["spec", *(f"[{s}]" if isinstance(s, int) else s for s in block), wrong])
    path = path.replace(".[", "[")
    found = _findings(job)
    assert ("crd.unknown-field", path, f'unknown field "{wrong}"; did you mean "{right}"?') in found


def test_unknown_field_without_a_near_name(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["gpus"] = 8
    assert _findings(job) == [
        ("crd.unknown-field", "spec.resourceConfig.gpus", 'unknown field "gpus"')
    ]


def test_numeric_hyperparameter_says_quote_it(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"]["max_depth"] = 5
    job["spec"]["hyperParameters"]["early_stop"] = True
    found = _findings(job)
    assert (
        "crd.not-string",
        "spec.hyperParameters[max_depth]",
        'values of hyperParameters must be strings and this one is a number: quote it: "5"',
    ) in found
    assert any(
        p == "spec.hyperParameters[early_stop]" and 'quote it: "true"' in m for _, p, m in found
    )


def test_wrong_types_and_missing_fields_are_all_reported(job: dict[str, Any]) -> None:
    job["spec"]["resourceConfig"]["instanceCount"] = "2"
    job["spec"]["enableNetworkIsolation"] = "yes"
    job["spec"]["inputDataConfig"] = {"channelName": "train"}
    del job["spec"]["roleARN"]
    assert sorted(_findings(job)) == [
        ("crd.required", "spec.roleARN", "roleARN is required; missing"),
        (
            "crd.type",
            "spec.enableNetworkIsolation",
            'must be a boolean (true or false), not the string "yes"',
        ),
        ("crd.type", "spec.inputDataConfig", "must be a list, not an object"),
        ("crd.type", "spec.resourceConfig.instanceCount", 'must be an integer, not the string "2"'),
    ]


def test_wrong_api_version_and_kind(job: dict[str, Any]) -> None:
    job["apiVersion"] = "sagemaker.services.k8s.aws/v1"
    found = _findings(job)
    assert found == [
        (
            "crd.type",
            "apiVersion",
            'must be sagemaker.services.k8s.aws/v1alpha1, not the string "sagemaker.services.k8s.aws/v1"',
        )
    ]


def test_environment_value_of_wrong_type_is_not_shown(job: dict[str, Any]) -> None:
    job["spec"]["environment"] = {"TOKEN": ["s3cr3t"]}
    found = _findings(job)
    assert found == [("crd.type", "spec.environment[TOKEN]", "must be a string, not a list")]
    assert "s3cr3t" not in repr(found)


def test_non_string_map_key(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"][10] = "x"
    assert (
        "crd.type",
        "spec.hyperParameters[10]",
        "key the number 10 must be a string: quote it",
    ) in _findings(job)
