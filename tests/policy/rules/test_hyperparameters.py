from __future__ import annotations

from typing import Any

import pytest

from tests.policy.rules import runner
from webhook.paths import format_path
from webhook.policy.model import HyperparametersRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.hyperparameters import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context


def rule(**config: Any) -> HyperparametersRule:
    return HyperparametersRule.model_validate({"id": "r", "kind": "hyperparameters", **config})


run = runner("hyperparameters")


def with_params(job: dict[str, Any], **params: Any) -> dict[str, Any]:
    job["spec"]["hyperParameters"] = params
    return job


def test_valid_job_passes(job: dict[str, Any]) -> None:
    assert (
        run(
            job,
            maxCount=4,
            allowKeys=["max_depth", "eta", "objective", "num_*"],
            denyKeys=["debug*"],
            keys={
                "max_depth": {"type": "integer", "min": 1, "max": 10, "required": True},
                "eta": {"type": "float", "exclusiveMin": 0, "exclusiveMax": 1},
                "objective": {"enum": ["binary:logistic", "reg:squarederror"]},
                "num_round": {"type": "integer", "pattern": "[0-9]+"},
            },
        )
        == []
    )


def test_max_count(job: dict[str, Any]) -> None:
    assert run(job, maxCount=3) == [
        ("spec.hyperParameters", "has 4 hyperparameters; the policy allows at most 3")
    ]


def test_keys_not_allowed_with_did_you_mean(job: dict[str, Any]) -> None:
    assert run(job, allowKeys=["max_depth", "eta", "objective", "num_rounds", "x_*"]) == [
        (
            "spec.hyperParameters[num_round]",
            '"num_round" is not an allowed hyperparameter; allowed: max_depth, eta, objective, '
            'num_rounds, x_*; did you mean "num_rounds"?',
        )
    ]


def test_allow_keys_with_placeholder(job: dict[str, Any]) -> None:
    with_params(job, **{"team-a_seed": "1", "team-b_seed": "2"})
    assert run(job, allowKeys=["{namespace}_*"]) == [
        (
            "spec.hyperParameters[team-b_seed]",
            '"team-b_seed" is not an allowed hyperparameter; allowed: team-a_*',
        )
    ]


def test_denied_keys_win_over_allowed(job: dict[str, Any]) -> None:
    with_params(job, eta="0.1", debug_mode="true")
    assert run(job, allowKeys=["*"], denyKeys=["debug_*", "trace"]) == [
        (
            "spec.hyperParameters[debug_mode]",
            '"debug_mode" is a denied hyperparameter; denied: debug_*, trace',
        )
    ]


@pytest.mark.parametrize(
    ("limits", "value", "messages"),
    [
        ({"type": "integer"}, "1.5", ["value is not an integer"]),
        ({"type": "integer"}, "ten", ["value is not an integer"]),
        ({"type": "integer"}, " 7 ", []),
        ({"type": "integer", "max": 200}, "201", ["value must be at most 200"]),
        ({"type": "integer", "min": 1}, "0", ["value must be at least 1"]),
        ({"type": "integer", "exclusiveMin": 0}, "0", ["value must be greater than 0"]),
        ({"type": "float", "exclusiveMax": 0.5}, "0.5", ["value must be less than 0.5"]),
        ({"type": "float", "max": 1}, "1e-3", []),
        ({"type": "float"}, "nan", ["value is not a finite number"]),
        ({"type": "float", "max": 1}, "-inf", ["value is not a finite number"]),
        ({"type": "float"}, "0,5", ["value is not a finite number"]),
        ({"type": "boolean"}, "True", []),
        ({"type": "boolean"}, "yes", ["value is not a boolean (true or false)"]),
        ({"enum": ["adam", "sgd"]}, "Adam", ["value is not one of adam, sgd"]),
        ({"pattern": "[a-z]+"}, "abc1", ["value does not match the pattern [a-z]+"]),
        ({"pattern": "[a-z]+"}, "abc", []),
        (
            {"type": "integer", "max": 10, "enum": ["1", "2"]},
            "1x",
            ["value is not an integer", "value is not one of 1, 2"],
        ),
        (
            {"type": "integer", "min": 5, "max": 3.5e1, "pattern": "[0-9]"},
            "40",
            ["value must be at most 35", "value does not match the pattern [0-9]"],
        ),
    ],
)
def test_value_limits(
    job: dict[str, Any], limits: dict[str, Any], value: str, messages: list[str]
) -> None:
    with_params(job, lr=value)
    found = run(job, keys={"lr": limits})
    assert found == [("spec.hyperParameters[lr]", m) for m in messages]


def test_values_are_never_shown(job: dict[str, Any]) -> None:
    secret = "s3cr3t-Value-9"
    with_params(job, password=secret, lr=secret)
    found = run(
        job,
        keys={
            "password": {"type": "integer", "enum": ["1"], "pattern": "x"},
            "lr": {"type": "float"},
        },
    )
    assert len(found) == 4
    assert all(secret not in message for _, message in found)


def test_long_enums_are_summarised(job: dict[str, Any]) -> None:
    with_params(job, opt="z")
    options = [f"o{i}" for i in range(13)]
    assert run(job, keys={"opt": {"enum": options}}) == [
        ("spec.hyperParameters[opt]", "value is not one of the 13 values the policy allows")
    ]


def test_required_keys(job: dict[str, Any]) -> None:
    keys = {"epochs": {"type": "integer", "required": True}, "seed": {}}
    assert run(job, keys=keys) == [
        ("spec.hyperParameters[epochs]", 'hyperparameter "epochs" is required; missing')
    ]
    del job["spec"]["hyperParameters"]
    assert run(job, keys=keys) == [
        ("spec.hyperParameters[epochs]", 'hyperparameter "epochs" is required; missing')
    ]


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"keys": {"x": {"pattern": "("}}}, "keys.x.pattern", '"(" is not a valid regex: '),
        (
            {"allowKeys": []},
            "allowKeys",
            "is empty; leave it out to allow any key, or use maxCount: 0 to allow none",
        ),
        (
            {"keys": {"x": {"min": 1}}},
            "keys.x.min",
            "applies only to type integer or float, not string",
        ),
        (
            {"keys": {"x": {"type": "boolean", "exclusiveMax": 1}}},
            "keys.x.exclusiveMax",
            "applies only to type integer or float, not boolean",
        ),
        ({"keys": {"x": {"type": "float", "max": "inf"}}}, "keys.x.max", "must be a finite number"),
        (
            {"keys": {"x": {"type": "integer", "min": 5, "max": 4}}},
            "keys.x",
            "the lower limit is not below the upper limit: no value fits",
        ),
        (
            {"keys": {"x": {"type": "integer", "min": 5, "exclusiveMax": 5}}},
            "keys.x",
            "the lower limit is not below the upper limit: no value fits",
        ),
        (
            {"keys": {"x": {"enum": []}}},
            "keys.x.enum",
            "is empty: no value fits; remove it or add values",
        ),
        (
            {"keys": {"x": {"type": "integer", "enum": ["1", "one"]}}},
            "keys.x.enum",
            '"one" is not an integer, the key\'s type',
        ),
        (
            {"allowKeys": ["a*"], "keys": {"x": {}}},
            "keys.x",
            '"x" is not in allowKeys, so its limits can never apply; add it to allowKeys or remove it',
        ),
        (
            {"denyKeys": ["x*"], "keys": {"x": {"required": True}}},
            "keys.x.required",
            '"x" is also denied by denyKeys: no job can pass',
        ),
    ],
)
def test_bad_configuration(config: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule(**config))
    assert raised.value.field == field
    assert raised.value.message.startswith(message)


def test_equal_bounds_allow_one_value(job: dict[str, Any]) -> None:
    with_params(job, x="5")
    assert run(job, keys={"x": {"type": "integer", "min": 5, "max": 5}}) == []


@pytest.mark.parametrize(
    "params",
    [
        "not-a-map",
        ["a", "b"],
        {"lr": 0.5, "epochs": 10, 3: "x", "flag": None, "nested": {"a": "b"}},
    ],
)
def test_odd_input_is_left_to_the_type_check(job: dict[str, Any], params: Any) -> None:
    job["spec"]["hyperParameters"] = params
    found = run(
        job,
        allowKeys=["lr", "epochs", "flag", "nested"],
        denyKeys=["x"],
        keys={"lr": {"type": "float", "max": 0.1}, "epochs": {"type": "integer", "max": 5}},
    )
    assert found == []


def test_odd_spec_does_not_raise() -> None:
    check = compile_rule(rule(maxCount=0, keys={"a": {"required": True}}))
    found = list(check(Subject.of({"spec": ["x"]}, Context())))
    assert [(format_path(v.path), v.message) for v in found] == [
        ("spec.hyperParameters[a]", 'hyperparameter "a" is required; missing')
    ]
