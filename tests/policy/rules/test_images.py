from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.rules.images import ImageRef, parse_image

ECR = "683313688378.dkr.ecr.us-east-1.amazonaws.com"
IMAGE = "spec.algorithmSpecification.trainingImage"
DIGEST = "sha256:" + "0123456789abcdef" * 4


run = runner("images")


def set_image(job: dict[str, Any], image: Any) -> None:
    job["spec"]["algorithmSpecification"]["trainingImage"] = image


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("ubuntu", ("docker.io", "library/ubuntu", None, None)),
        ("ubuntu:22.04", ("docker.io", "library/ubuntu", "22.04", None)),
        ("docker.io/ubuntu", ("docker.io", "library/ubuntu", None, None)),
        ("index.docker.io/library/ubuntu:latest", ("docker.io", "library/ubuntu", "latest", None)),
        ("pytorch/pytorch:2.3", ("docker.io", "pytorch/pytorch", "2.3", None)),
        ("localhost/foo", ("localhost", "foo", None, None)),
        ("localhost:5000/a/b:1", ("localhost:5000", "a/b", "1", None)),
        ("registry:5000/a", ("registry:5000", "a", None, None)),
        ("[::1]:5000/x", ("[::1]:5000", "x", None, None)),
        ("Registry.Example.COM/team/x", ("registry.example.com", "team/x", None, None)),
        (f"{ECR}/sagemaker-xgboost:1.7-1", (ECR, "sagemaker-xgboost", "1.7-1", None)),
        (f"{ECR}/a/b@{DIGEST}", (ECR, "a/b", None, DIGEST)),
        (f"{ECR}/a:v1@{DIGEST}", (ECR, "a", "v1", DIGEST)),
        ("a__b/c.d-e--f", ("docker.io", "a__b/c.d-e--f", None, None)),
    ],
)
def test_parse_image(reference: str, expected: tuple[str, str, str | None, str | None]) -> None:
    assert parse_image(reference) == ImageRef(*expected)


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "Ubuntu",  # repositories are lower case
        f"{ECR}/Sagemaker",
        "a:b:c",
        "a/",
        "/a",
        "a//b",
        "a:",
        "a@",
        "a b",
        "a@sha256:abc",  # too short
        "a@sha256:" + "A" * 64,  # upper-case hex
        "a@md5:" + "a" * 32,  # unknown algorithm
        "a:" + "t" * 129,  # tag too long
        "a/" + "b" * 255,  # name too long
        "-a",
        "a-",
    ],
)
def test_parse_image_rejects_invalid_references(reference: str) -> None:
    assert parse_image(reference) is None


def test_parse_image_name() -> None:
    ref = parse_image("ubuntu:22.04")
    assert ref is not None
    assert ref.name == "docker.io/library/ubuntu"


def test_example_job_passes(job: dict[str, Any]) -> None:
    assert (
        run(job, registries=["*.dkr.ecr.*.amazonaws.com"], repositories=[f"{ECR}/sagemaker-*"])
        == []
    )


def test_registry_not_allowed(job: dict[str, Any]) -> None:
    set_image(job, "ghcr.io/evil/miner:1.0")
    assert run(job, registries=["*.dkr.ecr.*.amazonaws.com"]) == [
        (
            IMAGE,
            '"ghcr.io/evil/miner:1.0" comes from registry ghcr.io, which is not allowed; '
            "allowed registries: *.dkr.ecr.*.amazonaws.com",
        )
    ]


def test_docker_hub_images_are_normalized(job: dict[str, Any]) -> None:
    set_image(job, "ubuntu:22.04")
    assert run(job, registries=["*.amazonaws.com"], repositories=["docker.io/pytorch/*"]) == [
        (
            IMAGE,
            '"ubuntu:22.04" comes from registry docker.io, which is not allowed; '
            "allowed registries: *.amazonaws.com",
        ),
        (
            IMAGE,
            '"ubuntu:22.04" is repository docker.io/library/ubuntu, which is not allowed; '
            "allowed repositories: docker.io/pytorch/*",
        ),
    ]
    for spelling in ("ubuntu:1", "docker.io/ubuntu:1", "index.docker.io/library/ubuntu:1"):
        set_image(job, spelling)
        assert run(job, repositories=["docker.io/library/ubuntu"]) == []


def test_repository_globs_use_placeholders(job: dict[str, Any]) -> None:
    set_image(job, f"{ECR}/team-b/train:1")
    assert run(job, repositories=[f"{ECR}/{{namespace}}/*"]) == [
        (
            IMAGE,
            f'"{ECR}/team-b/train:1" is repository {ECR}/team-b/train, which is not allowed; '
            f"allowed repositories: {ECR}/team-a/*",
        )
    ]
    assert run(job, "team-b", repositories=[f"{ECR}/{{namespace}}/*"]) == []


def test_latest_is_forbidden_by_default(job: dict[str, Any]) -> None:
    set_image(job, "my.registry/train:latest")
    assert run(job) == [
        (
            IMAGE,
            '"my.registry/train:latest" uses the tag latest, which can change under a job; '
            "pin a version tag or a digest",
        )
    ]
    assert run(job, forbidLatest=False) == []


def test_untagged_image_resolves_to_latest(job: dict[str, Any]) -> None:
    set_image(job, "my.registry/train")
    message = (
        '"my.registry/train" has neither tag nor digest, so it resolves to latest, which can '
        "change under a job; pin a version tag or a digest"
    )
    assert run(job) == [(IMAGE, message)]
    assert run(job, forbidLatest=False) == [(IMAGE, message)]
    assert run(job, requireTag=False) == [(IMAGE, message)]
    assert run(job, requireTag=False, forbidLatest=False) == []


def test_digest_pins_whatever_the_tag(job: dict[str, Any]) -> None:
    for image in (f"my.registry/train@{DIGEST}", f"my.registry/train:latest@{DIGEST}"):
        set_image(job, image)
        assert run(job, requireDigest=True) == []


def test_require_digest(job: dict[str, Any]) -> None:
    assert run(job, requireDigest=True) == [
        (
            IMAGE,
            f'"{ECR}/sagemaker-xgboost:1.7-1" is not pinned by digest; add @sha256:<digest> '
            "so the job runs exactly the image that was reviewed",
        )
    ]
    set_image(job, "my.registry/train:latest")
    assert [p for p, _ in run(job, requireDigest=True)] == [IMAGE]  # one pinning violation


def test_rule_evaluator_images_are_checked(job: dict[str, Any]) -> None:
    job["spec"]["debugRuleConfigurations"] = [
        {
            "ruleConfigurationName": "ok",
            "ruleEvaluatorImage": f"{ECR}/sagemaker-debugger-rules:latest",
        }
    ]
    job["spec"]["profilerRuleConfigurations"] = [
        {"ruleConfigurationName": "none"},
        {"ruleConfigurationName": "bad", "ruleEvaluatorImage": "quay.io/x/rules:1"},
    ]
    found = run(job, registries=["*.dkr.ecr.*.amazonaws.com"])
    assert [p for p, _ in found] == [
        "spec.debugRuleConfigurations[0].ruleEvaluatorImage",
        "spec.profilerRuleConfigurations[1].ruleEvaluatorImage",
    ]
    assert "uses the tag latest" in found[0][1]
    assert "comes from registry quay.io" in found[1][1]


def test_invalid_reference_is_denied(job: dict[str, Any]) -> None:
    set_image(job, "My Image")
    assert run(job, forbidLatest=False, requireTag=False) == [
        (
            IMAGE,
            '"My Image" is not a valid image reference; expected '
            "registry/repository[:tag][@sha256:digest] in lower case",
        )
    ]


def test_empty_registry_list_allows_nothing(job: dict[str, Any]) -> None:
    found = run(job, registries=[])
    assert found[0][1].endswith("allowed registries: none")


@pytest.mark.parametrize(
    "spec",
    [
        {"algorithmSpecification": {"trainingImage": 5}},
        {"algorithmSpecification": "x", "debugRuleConfigurations": {"a": 1}},
        {"debugRuleConfigurations": [None, 1, {"ruleEvaluatorImage": ["x"]}]},
        {"profilerRuleConfigurations": [{"ruleEvaluatorImage": ""}]},
        {"algorithmSpecification": {"trainingImage": None, "algorithmName": ""}},
        {"algorithmSpecification": {"trainingImage": None, "algorithmName": 7}},
    ],
)
def test_odd_input_never_raises(spec: dict[str, Any]) -> None:
    assert run({"spec": spec}, registries=["x"], repositories=["y"], requireDigest=True) == []


def test_spec_of_wrong_type_never_raises() -> None:
    assert run({"spec": "x"}, registries=["x"]) == []


ALGORITHM = "spec.algorithmSpecification.algorithmName"
OTHER_ALGORITHM = "arn:aws:sagemaker:us-east-1:999999999999:algorithm/churn-trainer"


def use_algorithm(job: dict[str, Any], name: str) -> None:
    job["spec"]["algorithmSpecification"] = {"algorithmName": name, "trainingInputMode": "File"}


@pytest.mark.parametrize(
    "config",
    [
        {"registries": [ECR]},
        {"repositories": [f"{ECR}/*"]},
        {"requireDigest": True},
        {},  # the baseline's pinning rule: it cannot see the algorithm's tag either
    ],
)
def test_an_algorithm_resource_is_reported_by_every_images_rule(
    job: dict[str, Any], config: dict[str, Any]
) -> None:
    use_algorithm(job, OTHER_ALGORITHM)
    assert run(job, **config) == [
        (
            ALGORITHM,
            f'"{OTHER_ALGORITHM}" is an algorithm resource, whose image this rule cannot '
            "check; name an allowed trainingImage instead, or list the algorithm in the "
            "rule's algorithms (allowed: none)",
        )
    ]


def test_listed_algorithms_pass_and_others_are_reported(job: dict[str, Any]) -> None:
    own = "arn:aws:sagemaker:us-east-1:123456789012:algorithm/{namespace}-*"
    use_algorithm(job, "arn:aws:sagemaker:us-east-1:123456789012:algorithm/team-a-xgb")
    assert run(job, registries=[ECR], algorithms=[own]) == []
    use_algorithm(job, OTHER_ALGORITHM)
    found = run(job, registries=[ECR], algorithms=[own])
    assert [path for path, _ in found] == [ALGORITHM]
    assert found[0][1].endswith(
        "(allowed: arn:aws:sagemaker:us-east-1:123456789012:algorithm/team-a-*)"
    )


def test_rule_evaluator_images_of_both_lists_are_checked(job: dict[str, Any]) -> None:
    job["spec"]["debugRuleConfigurations"] = [{"ruleEvaluatorImage": "x/rules:1"}]
    job["spec"]["profilerRuleConfigurations"] = [{}, {"ruleEvaluatorImage": "x/rules:1"}]
    found = run(job, registries=[ECR])
    assert [path for path, _ in found] == [
        "spec.debugRuleConfigurations[0].ruleEvaluatorImage",
        "spec.profilerRuleConfigurations[1].ruleEvaluatorImage",
    ]
