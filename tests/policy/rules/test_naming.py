from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.policy.model import NamingRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.naming import compile_rule

NAME = "spec.trainingJobName"


run = runner("naming")


def named(job: dict[str, Any], name: Any) -> dict[str, Any]:
    job["spec"]["trainingJobName"] = name
    return job


def test_allowed_name(job: dict[str, Any]) -> None:
    named(job, "team-a-churn-2026-11-27")
    assert (
        run(job, prefix="{namespace}-", pattern=r"{namespace}-[a-z0-9-]+-\d{4}-\d{2}-\d{2}") == []
    )


def test_prefix_missing(job: dict[str, Any]) -> None:
    assert run(job, prefix="{namespace}-") == [
        (
            NAME,
            '"churn-xgboost-2026-11-27" does not start with the required prefix "team-a-"; '
            'did you mean "team-a-churn-xgboost-2026-11-27"?',
        )
    ]


def test_prefix_suggestion_only_when_it_fits(job: dict[str, Any]) -> None:
    named(job, "x" * 60)
    assert run(job, prefix="{namespace}-") == [
        (
            NAME,
            f'"{"x" * 60}" does not start with the required prefix "team-a-"',
        )
    ]


def test_static_pattern(job: dict[str, Any]) -> None:
    assert run(job, pattern=r"[a-z]+-\d+") == [
        (NAME, '"churn-xgboost-2026-11-27" does not match the naming pattern [a-z]+-\\d+')
    ]
    assert run(job, pattern=r"[a-z-]+-\d{4}-\d{2}-\d{2}") == []


def test_pattern_must_match_the_whole_name(job: dict[str, Any]) -> None:
    assert [p for p, _ in run(job, pattern="churn")] == [NAME]
    assert [p for p, _ in run(job, pattern="2026-11-27")] == [NAME]


def test_templated_pattern(job: dict[str, Any]) -> None:
    named(job, "team-b-churn")
    assert run(job, pattern="{namespace}-[a-z]+") == [
        (NAME, '"team-b-churn" does not match the naming pattern team-a-[a-z]+')
    ]
    assert run(job, "team-b", pattern="{namespace}-[a-z]+") == []


def test_name_and_training_job_name_placeholders(job: dict[str, Any]) -> None:
    # metadata.name and trainingJobName are the same in the example
    assert run(job, pattern="{name}") == []
    assert run(job, pattern="{trainingJobName}") == []
    job["metadata"]["name"] = "other"
    assert [p for p, _ in run(job, pattern="{name}")] == [NAME]


def test_placeholder_values_are_matched_literally(job: dict[str, Any]) -> None:
    # a namespace of regex syntax cannot widen the pattern
    named(job, "teamXa-job")
    assert [p for p, _ in run(job, "team.a", pattern="{namespace}-job")] == [NAME]
    named(job, "team.a-job")
    assert run(job, "team.a", pattern="{namespace}-job") == []
    named(job, "anything")
    assert [p for p, _ in run(job, ".*", pattern="{namespace}")] == [NAME]


def test_both_problems_are_reported(job: dict[str, Any]) -> None:
    assert [p for p, _ in run(job, prefix="{namespace}-", pattern="{namespace}-.+")] == [NAME, NAME]


@pytest.mark.parametrize("pattern", ["(", "{namespace}[", "*{name}", "x{2,1}"])
def test_bad_regex_is_a_config_error(pattern: str) -> None:
    rule = NamingRule.model_validate({"id": "r", "kind": "naming", "pattern": pattern})
    with pytest.raises(RuleConfigError) as error:
        compile_rule(rule)
    assert error.value.field == "pattern"
    assert "is not a valid regular expression" in error.value.message


@pytest.mark.parametrize("name", [None, 5, "", ["a"], {"a": 1}])
def test_odd_name_never_raises(job: dict[str, Any], name: Any) -> None:
    assert run(named(job, name), prefix="{namespace}-", pattern="{namespace}-.+") == []


def test_spec_of_wrong_type_never_raises() -> None:
    assert run({"spec": "x", "metadata": 5}, prefix="p", pattern="p.*") == []
