from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.model import TagsRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.tags import compile_rule

run = runner("tags")


def with_tags(job: dict[str, Any], count: int) -> dict[str, Any]:
    job["spec"]["tags"] = [{"key": f"k{i}", "value": "v"} for i in range(count)]
    return job


def test_example_job_passes(job: dict[str, Any]) -> None:
    assert run(job, required={"team": r"team-[a-z]+", "team ": None}) == [
        ("spec.tags", 'tag "team " is required; missing')
    ]
    assert run(job, required={"team": r"team-[a-z]+"}) == []


def test_required_tags_missing(job: dict[str, Any]) -> None:
    assert run(job, required={"cost-center": r"CC-\d{4}", "owner": None}) == [
        ("spec.tags", 'tag "cost-center" is required (with a value matching CC-\\d{4}); missing'),
        ("spec.tags", 'tag "owner" is required; missing'),
    ]


def test_required_tags_missing_when_there_are_no_tags(job: dict[str, Any]) -> None:
    del job["spec"]["tags"]
    assert run(job, required={"owner": None}) == [("spec.tags", 'tag "owner" is required; missing')]
    job["spec"]["tags"] = None
    assert run(job, required={"owner": None}) == [("spec.tags", 'tag "owner" is required; missing')]


def test_value_must_fully_match(job: dict[str, Any]) -> None:
    job["spec"]["tags"].append({"key": "cost-center", "value": "CC-12345"})
    assert run(job, required={"cost-center": r"CC-\d{4}"}) == [
        (
            "spec.tags[1].value",
            '"CC-12345" is not an allowed value of tag "cost-center"; it must match CC-\\d{4}',
        )
    ]
    job["spec"]["tags"][1]["value"] = "CC-1234"
    assert run(job, required={"cost-center": r"CC-\d{4}"}) == []


@pytest.mark.parametrize("tag", [{"key": "owner"}, {"key": "owner", "value": None}])
def test_missing_value_is_empty(job: dict[str, Any], tag: dict[str, Any]) -> None:
    job["spec"]["tags"].append(tag)
    assert run(job, required={"owner": ".+"}) == [
        ("spec.tags[1].value", '"" is not an allowed value of tag "owner"; it must match .+')
    ]
    assert run(job, required={"owner": None}) == []


def test_duplicate_keys_are_denied_and_every_value_checked(job: dict[str, Any]) -> None:
    job["spec"]["tags"] += [{"key": "owner", "value": "x"}, {"key": "team", "value": "team-b!"}]
    assert run(job, required={"team": "team-[a-z]+"}) == [
        (
            "spec.tags[2].key",
            'tag key "team" repeats spec.tags[0]; the ACK controller keeps only the last value '
            "of a key, so the others are silently dropped",
        ),
        (
            "spec.tags[2].value",
            '"team-b!" is not an allowed value of tag "team"; it must match team-[a-z]+',
        ),
    ]


def test_budget_counts_the_controllers_tags(job: dict[str, Any]) -> None:
    assert run(with_tags(job, 46)) == []
    assert run(with_tags(job, 47)) == [
        (
            "spec.tags",
            "has 47 distinct tag keys; the ACK controller adds 4 tags of its own at creation "
            "(services.k8s.aws/controller-version, services.k8s.aws/namespace, "
            "app.kubernetes.io/managed-by, kro.run/kro-version by default) and SageMaker "
            "allows 50 in all: remove at least 1",
        )
    ]


def test_budget_with_configured_controller_tags(job: dict[str, Any]) -> None:
    assert run(with_tags(job, 50), controllerTags=0) == []
    assert run(with_tags(job, 49), controllerTags=2) == [
        (
            "spec.tags",
            "has 49 distinct tag keys; the ACK controller adds 2 tags of its own at creation "
            "and SageMaker allows 50 in all: remove at least 1",
        )
    ]


def test_budget_counts_repeated_keys_once(job: dict[str, Any]) -> None:
    with_tags(job, 47)
    job["spec"]["tags"].append({"key": "k0", "value": "again"})
    found = run(job)
    assert [p for p, _ in found] == ["spec.tags[47].key", "spec.tags"]
    assert found[1][1].startswith(
        "has 47 distinct tag keys (repeated keys counted once); the ACK controller adds 4"
    )
    del job["spec"]["tags"][1]  # 46 distinct keys: within budget
    assert [p for p, _ in run(job)] == ["spec.tags[46].key"]


@pytest.mark.parametrize("pattern", ["(", "[a-", "*x", "a{2,1}"])
def test_bad_regex_is_a_config_error(pattern: str) -> None:
    rule = TagsRule.model_validate({"id": "r", "kind": "tags", "required": {"owner": pattern}})
    with pytest.raises(RuleConfigError) as error:
        compile_rule(rule)
    assert error.value.field == "required.owner"
    assert "is not a valid regular expression" in error.value.message


MISSING = [("spec.tags", 'tag "team" is required (with a value matching a); missing')]


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ("team=a", []),  # not a list: left to the schema checks
        ({"team": "a"}, []),
        ([None, 1, "x", {"key": 5, "value": "a"}, {"value": "a"}], MISSING),
        ([{"key": "team", "value": 3}], []),  # present; its value is left to the schema
        (
            [{"key": "team", "value": ["a"]}, {"key": "team", "value": "a"}],
            [
                (
                    "spec.tags[1].key",
                    'tag key "team" repeats spec.tags[0]; the ACK controller keeps only the last value of a key, so the others are silently dropped',
                ),
            ],
        ),
    ],
)
def test_odd_input_never_raises(tags: Any, expected: list[tuple[str, str]]) -> None:
    assert run({"spec": {"tags": tags}}, required={"team": "a"}) == expected


def test_spec_of_wrong_type_never_raises() -> None:
    assert run({"spec": 1}, required={"x": None}) == [("spec.tags", 'tag "x" is required; missing')]
