from __future__ import annotations

import copy
from typing import Any

import jsonpatch
import pytest
from jsonschema import Draft7Validator

from webhook.policy.defaults import DefaultsPlan, compile_defaults, conflicts, patch_for
from webhook.policy.model import Defaults
from webhook.policy.rules import RuleConfigError
from webhook.policy.subject import Subject
from webhook.request import Context

ORG: dict[str, Any] = {
    "outputDataConfig": {"kmsKeyID": "alias/{namespace}-ml"},
    "vpcConfig": {"subnets": ["subnet-0org"], "securityGroupIDs": ["sg-0org"]},
    "stoppingCondition": {"maxRuntimeInSeconds": 86400},
    "tags": [{"key": "team", "value": "{namespace}"}, {"key": "owner", "value": "{name}"}],
}


def plan(spec: dict[str, Any], coerce: bool = False) -> DefaultsPlan:
    return compile_defaults(Defaults.model_validate({"spec": spec, "coerceStrings": coerce}))


def patch(job: dict[str, Any], *plans: DefaultsPlan) -> list[dict[str, Any]]:
    return patch_for(job, Subject.of(job, Context(namespace="team-a")), plans)


def applied(job: dict[str, Any], *plans: DefaultsPlan) -> dict[str, Any]:
    """Patch *job*, check the object given is unchanged and a second run is a no-op."""
    before = copy.deepcopy(job)
    ops = patch(job, *plans)
    assert job == before, "patch_for must not mutate the object"
    result: dict[str, Any] = jsonpatch.apply_patch(job, ops)
    assert patch(result, *plans) == []
    return result


def config_error(spec: dict[str, Any], coerce: bool = False) -> tuple[str, str]:
    with pytest.raises(RuleConfigError) as caught:
        plan(spec, coerce)
    return caught.value.field, caught.value.message


# -- filling ------------------------------------------------------------------


def test_fills_missing_key_vpc_runtime_and_tags(job: dict[str, Any]) -> None:
    spec = job["spec"]
    del spec["outputDataConfig"]["kmsKeyID"], spec["vpcConfig"], spec["tags"]
    spec["stoppingCondition"] = {"maxWaitTimeInSeconds": 90000}

    defaults = plan(ORG)
    ops = patch(job, defaults)

    assert ops == [
        {"op": "add", "path": "/spec/outputDataConfig/kmsKeyID", "value": "alias/team-a-ml"},
        {
            "op": "add",
            "path": "/spec/vpcConfig",
            "value": {"subnets": ["subnet-0org"], "securityGroupIDs": ["sg-0org"]},
        },
        {"op": "add", "path": "/spec/stoppingCondition/maxRuntimeInSeconds", "value": 86400},
        {
            "op": "add",
            "path": "/spec/tags",
            "value": [
                {"key": "team", "value": "team-a"},
                {"key": "owner", "value": "churn-xgboost-2026-11-27"},
            ],
        },
    ]
    result = applied(job, defaults)
    assert result["spec"]["outputDataConfig"] == {
        "s3OutputPath": "s3://ml-team-a/churn/output/",
        "kmsKeyID": "alias/team-a-ml",
    }
    assert result["spec"]["stoppingCondition"] == {
        "maxWaitTimeInSeconds": 90000,
        "maxRuntimeInSeconds": 86400,
    }
    # The ops' values are fresh: changing the patched object leaves the plan alone.
    result["spec"]["vpcConfig"]["subnets"].append("subnet-evil")
    assert patch(job, defaults)[1]["value"]["subnets"] == ["subnet-0org"]


def test_present_values_are_never_touched(job: dict[str, Any]) -> None:
    defaults = plan({**ORG, "tags": [{"key": "team", "value": "platform"}]})
    assert patch(job, defaults) == []


def test_a_present_value_of_the_wrong_type_is_left_to_the_validator(
    job: dict[str, Any],
) -> None:
    job["spec"]["stoppingCondition"] = "one day"
    job["spec"]["vpcConfig"] = {"subnets": "subnet-0a1b"}
    job["spec"]["tags"] = {"team": "x"}
    defaults = plan(
        {
            "stoppingCondition": {"maxRuntimeInSeconds": 86400},
            "vpcConfig": {"subnets": ["subnet-0org"], "securityGroupIDs": ["sg-0org"]},
            "tags": [{"key": "team", "value": "a"}],
        }
    )
    assert patch(job, defaults) == [
        {"op": "add", "path": "/spec/vpcConfig/securityGroupIDs", "value": ["sg-0org"]}
    ]


def test_null_counts_as_absent(job: dict[str, Any]) -> None:
    job["spec"]["stoppingCondition"] = None
    job["spec"]["tags"] = None
    defaults = plan(ORG)
    assert patch(job, defaults) == [
        {
            "op": "replace",
            "path": "/spec/stoppingCondition",
            "value": {"maxRuntimeInSeconds": 86400},
        },
        {
            "op": "replace",
            "path": "/spec/tags",
            "value": [
                {"key": "team", "value": "team-a"},
                {"key": "owner", "value": "churn-xgboost-2026-11-27"},
            ],
        },
    ]
    assert applied(job, defaults)["spec"]["stoppingCondition"] == {"maxRuntimeInSeconds": 86400}


def test_lists_other_than_tags_are_atomic(job: dict[str, Any]) -> None:
    defaults = plan({"vpcConfig": {"subnets": ["subnet-0org", "subnet-1org"]}})
    assert patch(job, defaults) == []
    assert applied(job, defaults)["spec"]["vpcConfig"]["subnets"] == ["subnet-0a1b2c3d4e5f60718"]


def test_ops_follow_the_order_of_the_defaults_document(job: dict[str, Any]) -> None:
    del job["spec"]["vpcConfig"], job["spec"]["stoppingCondition"]
    forward = {"vpcConfig": {"subnets": ["s"]}, "stoppingCondition": {"maxRuntimeInSeconds": 1}}
    backward = dict(reversed(forward.items()))
    assert [op["path"] for op in patch(job, plan(forward))] == [
        "/spec/vpcConfig",
        "/spec/stoppingCondition",
    ]
    assert [op["path"] for op in patch(job, plan(backward))] == [
        "/spec/stoppingCondition",
        "/spec/vpcConfig",
    ]
    assert patch(job, plan(forward)) == patch(job, plan(forward))


def test_no_spec_no_patch(job: dict[str, Any]) -> None:
    del job["spec"]
    assert patch(job, plan(ORG)) == []
    job["spec"] = "not a mapping"
    assert patch(job, plan(ORG)) == []


def test_odd_input_does_not_raise(job: dict[str, Any]) -> None:
    job["spec"]["tags"] = [
        "team",
        {"key": ["not", "hashable"]},
        {"value": "x"},
        {"key": "team", "value": 5},
    ]
    job["spec"]["hyperParameters"] = ["epochs", 3]
    job["spec"]["environment"] = {"A": {"nested": 1}, "B": None, "C": [1]}
    defaults = plan(
        {"tags": [{"key": "team", "value": "a"}, {"key": "cost", "value": "b"}]}, coerce=True
    )
    assert patch(job, defaults) == [
        {"op": "add", "path": "/spec/tags/-", "value": {"key": "cost", "value": "b"}}
    ]


# -- templating, tags, pointers --------------------------------------------------


def test_strings_are_templated_everywhere(job: dict[str, Any]) -> None:
    del job["spec"]["vpcConfig"]
    defaults = plan(
        {
            "checkpointConfig": {"s3URI": "s3://ckpt-{namespace}/{trainingJobName}/"},
            "environment": {"JOB": "{name}"},
            "vpcConfig": {"subnets": ["subnet-{namespace}"]},
        }
    )
    result = applied(job, defaults)
    assert result["spec"]["checkpointConfig"] == {
        "s3URI": "s3://ckpt-team-a/churn-xgboost-2026-11-27/"
    }
    assert result["spec"]["environment"] == {"JOB": "churn-xgboost-2026-11-27"}
    assert result["spec"]["vpcConfig"] == {"subnets": ["subnet-team-a"]}


def test_tags_merge_by_key(job: dict[str, Any]) -> None:
    defaults = plan(
        {
            "tags": [
                {"key": "team", "value": "platform"},
                {"key": "cost-center", "value": "ml-{namespace}"},
                {"key": "managed-by", "value": "trainingjob-guard"},
            ]
        }
    )
    assert patch(job, defaults) == [
        {
            "op": "add",
            "path": "/spec/tags/-",
            "value": {"key": "cost-center", "value": "ml-team-a"},
        },
        {
            "op": "add",
            "path": "/spec/tags/-",
            "value": {"key": "managed-by", "value": "trainingjob-guard"},
        },
    ]
    assert applied(job, defaults)["spec"]["tags"] == [
        {"key": "team", "value": "team-a"},
        {"key": "cost-center", "value": "ml-team-a"},
        {"key": "managed-by", "value": "trainingjob-guard"},
    ]


def test_map_keys_are_escaped_in_pointers(job: dict[str, Any]) -> None:
    defaults = plan({"hyperParameters": {"a/b~c": "1", "max_depth": "9"}})
    assert patch(job, defaults) == [
        {"op": "add", "path": "/spec/hyperParameters/a~1b~0c", "value": "1"}
    ]
    result = applied(job, defaults)
    assert result["spec"]["hyperParameters"]["a/b~c"] == "1"
    assert result["spec"]["hyperParameters"]["max_depth"] == "5"


# -- coerceStrings ------------------------------------------------------------


def test_numbers_and_booleans_come_out_quoted(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"] = {
        "max_depth": 5,
        "eta": 0.1,
        "early_stopping": True,
        "a/b": False,
        "objective": "binary:logistic",
        "tiny": 1e-07,
    }
    job["spec"]["environment"] = {"WORKERS": 4, "DEBUG": "1"}
    defaults = plan({}, coerce=True)
    assert patch(job, defaults) == [
        {"op": "replace", "path": "/spec/hyperParameters/max_depth", "value": "5"},
        {"op": "replace", "path": "/spec/hyperParameters/eta", "value": "0.1"},
        {"op": "replace", "path": "/spec/hyperParameters/early_stopping", "value": "true"},
        {"op": "replace", "path": "/spec/hyperParameters/a~1b", "value": "false"},
        {"op": "replace", "path": "/spec/hyperParameters/tiny", "value": "1e-07"},
        {"op": "replace", "path": "/spec/environment/WORKERS", "value": "4"},
    ]
    assert applied(job, defaults)["spec"]["environment"] == {"WORKERS": "4", "DEBUG": "1"}


def test_without_coerce_strings_numbers_are_left_alone(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"] = {"max_depth": 5}
    assert patch(job, plan({})) == []


def test_coerce_strings_applies_to_the_defaults_own_values(job: dict[str, Any]) -> None:
    defaults = plan({"hyperParameters": {"seed": 42, "verbose": False}}, coerce=True)
    assert patch(job, defaults) == [
        {"op": "add", "path": "/spec/hyperParameters/seed", "value": "42"},
        {"op": "add", "path": "/spec/hyperParameters/verbose", "value": "false"},
    ]


def test_patched_object_validates_against_the_crd(
    job: dict[str, Any], crd_schema: dict[str, Any]
) -> None:
    validator = Draft7Validator(crd_schema)
    assert list(validator.iter_errors(job)) == []
    del job["spec"]["stoppingCondition"], job["spec"]["outputDataConfig"]["kmsKeyID"]
    job["spec"]["hyperParameters"]["num_round"] = 100
    job["spec"]["environment"] = {"USE_GPU": False}

    errors = {(tuple(e.path), e.validator) for e in validator.iter_errors(job)}
    assert errors == {
        (("spec",), "required"),
        (("spec", "hyperParameters", "num_round"), "type"),
        (("spec", "environment", "USE_GPU"), "type"),
    }

    result = applied(job, plan(ORG, coerce=True))
    assert list(validator.iter_errors(result)) == []
    assert result["spec"]["hyperParameters"]["num_round"] == "100"
    assert result["spec"]["environment"] == {"USE_GPU": "false"}


# -- several policies -------------------------------------------------------------


def test_the_first_plan_that_sets_a_field_wins(job: dict[str, Any]) -> None:
    del job["spec"]["stoppingCondition"], job["spec"]["tags"]
    first = plan(
        {
            "stoppingCondition": {"maxRuntimeInSeconds": 86400},
            "tags": [{"key": "team", "value": "{namespace}"}],
        }
    )
    second = plan(
        {
            "stoppingCondition": {"maxRuntimeInSeconds": 3600, "maxWaitTimeInSeconds": 7200},
            "tags": [{"key": "team", "value": "other"}, {"key": "env", "value": "prod"}],
        }
    )
    ops = patch(job, first, second)
    assert ops == [
        {"op": "add", "path": "/spec/stoppingCondition", "value": {"maxRuntimeInSeconds": 86400}},
        {"op": "add", "path": "/spec/tags", "value": [{"key": "team", "value": "team-a"}]},
        {"op": "add", "path": "/spec/stoppingCondition/maxWaitTimeInSeconds", "value": 7200},
        {"op": "add", "path": "/spec/tags/-", "value": {"key": "env", "value": "prod"}},
    ]
    result = applied(job, first, second)
    assert result["spec"]["stoppingCondition"] == {
        "maxRuntimeInSeconds": 86400,
        "maxWaitTimeInSeconds": 7200,
    }
    assert result["spec"]["tags"] == [
        {"key": "team", "value": "team-a"},
        {"key": "env", "value": "prod"},
    ]
    assert patch(job, second, first)[0] == {
        "op": "add",
        "path": "/spec/stoppingCondition",
        "value": {"maxRuntimeInSeconds": 3600, "maxWaitTimeInSeconds": 7200},
    }


def test_coercion_is_not_repeated_by_a_later_plan(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"] = {"epochs": 3}
    ops = patch(job, plan({}, coerce=True), plan({}, coerce=True))
    assert ops == [{"op": "replace", "path": "/spec/hyperParameters/epochs", "value": "3"}]


# -- configuration errors ------------------------------------------------------


def test_unknown_field_suggests_the_right_one() -> None:
    assert config_error({"stoppingCondition": {"maxRuntimeInSecond": 60}}) == (
        "spec.stoppingCondition.maxRuntimeInSecond",
        'unknown field "maxRuntimeInSecond"; did you mean "maxRuntimeInSeconds"?',
    )
    assert config_error({"outputDataConfig": {"kmsKeyId": "alias/x"}}) == (
        "spec.outputDataConfig.kmsKeyId",
        'unknown field "kmsKeyId"; did you mean "kmsKeyID"?',
    )
    assert config_error({"vpc": {}}) == ("spec.vpc", 'unknown field "vpc"')
    assert config_error(
        {"inputDataConfig": [{"dataSource": {"s3DataSource": {"s3Uri": "s3://b/"}}}]}
    ) == (
        "spec.inputDataConfig[0].dataSource.s3DataSource.s3Uri",
        'unknown field "s3Uri"; did you mean "s3URI"?',
    )


def test_wrong_types_are_rejected() -> None:
    assert config_error({"stoppingCondition": {"maxRuntimeInSeconds": "1d"}}) == (
        "spec.stoppingCondition.maxRuntimeInSeconds",
        'must be an integer, not the string "1d"',
    )
    assert config_error({"enableNetworkIsolation": "yes"}) == (
        "spec.enableNetworkIsolation",
        'must be true or false, not the string "yes"',
    )
    assert config_error({"vpcConfig": {"subnets": "subnet-1"}}) == (
        "spec.vpcConfig.subnets",
        'must be a list, not the string "subnet-1"',
    )
    assert config_error({"vpcConfig": ["subnet-1"]}) == (
        "spec.vpcConfig",
        "must be an object, not a list",
    )
    assert config_error({"stoppingCondition": {"maxRuntimeInSeconds": None}}) == (
        "spec.stoppingCondition.maxRuntimeInSeconds",
        "a default cannot be null; leave it out",
    )
    assert config_error({"hyperParameters": {"epochs": 10}}) == (
        "spec.hyperParameters.epochs",
        "values of hyperParameters must be strings and this one is a number: "
        "quote it, or set coerceStrings: true",
    )
    assert config_error({"tags": [{"key": "team", "value": "a"}, {"key": "team"}]}) == (
        "spec.tags[1].key",
        'tag "team" is set twice',
    )
    assert config_error({"tags": [{"key": "team", "vaule": "a"}]}) == (
        "spec.tags[0].vaule",
        'unknown field "vaule"; did you mean "value"?',
    )


# -- lint ----------------------------------------------------------------------


def test_conflicts() -> None:
    a = plan(
        {
            "stoppingCondition": {"maxRuntimeInSeconds": 86400},
            "outputDataConfig": {"kmsKeyID": "alias/{namespace}"},
            "hyperParameters": {"seed": "1"},
            "tags": [{"key": "team", "value": "{namespace}"}],
        }
    )
    b = plan(
        {
            "stoppingCondition": {"maxRuntimeInSeconds": 3600},
            "outputDataConfig": {"kmsKeyID": "alias/{namespace}"},
            "hyperParameters": {"seed": "2"},
            "tags": [{"key": "team", "value": "platform"}, {"key": "env", "value": "x"}],
            "vpcConfig": {"subnets": ["subnet-1"]},
        }
    )
    c = plan({"vpcConfig": {"subnets": ["subnet-2"]}})
    assert conflicts([("a", a), ("b", b), ("c", c)]) == [
        'spec.stoppingCondition.maxRuntimeInSeconds: policy "a" sets 86400, '
        'policy "b" sets 3600 (the first in order wins)',
        'spec.hyperParameters[seed]: policies "a" and "b" set different values '
        "(the first in order wins)",
        'spec.tags[team]: policy "a" sets "{namespace}", policy "b" sets "platform" '
        "(the first in order wins)",
        'spec.vpcConfig.subnets: policy "b" sets ["subnet-1"], policy "c" sets ["subnet-2"] '
        "(the first in order wins)",
    ]
    assert conflicts([("a", a), ("a2", a)]) == []
