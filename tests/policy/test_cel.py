"""CEL rules: compiled alone, and end to end through a policy file and the engine."""

from __future__ import annotations

import copy
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from webhook.engine import Config, review
from webhook.findings import Action, Decision
from webhook.paths import format_path
from webhook.policy.load import load_policies
from webhook.policy.model import CelRule
from webhook.policy.rules import RuleConfigError
from webhook.policy.rules.cel import compile_rule
from webhook.policy.subject import Subject
from webhook.request import Context

TEAM_A = Context(namespace="team-a")


def run(
    job: Mapping[str, Any],
    expression: str,
    *,
    context: Context = TEAM_A,
    old: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    **fields: Any,
) -> list[tuple[str, str]]:
    rule = CelRule.model_validate({"id": "r", "kind": "cel", "expression": expression, **fields})
    check = compile_rule(rule, params or {})
    return [(format_path(v.path), v.message) for v in check(Subject.of(job, context, old))]


# --- results and messages ------------------------------------------------------------------------


def test_true_expression_gives_nothing(job: dict[str, Any]) -> None:
    assert run(job, "object.spec.resourceConfig.instanceCount <= 4") == []


def test_false_expression_gives_the_default_message(job: dict[str, Any]) -> None:
    expression = "object.spec.resourceConfig.instanceCount >= 2"
    assert run(job, expression) == [("", f"failed expression: {expression}")]


def test_message_expression(job: dict[str, Any]) -> None:
    found = run(
        job,
        "object.spec.resourceConfig.instanceCount >= 2",
        messageExpression=(
            "'job ' + object.metadata.name + ' asks for ' "
            "+ string(object.spec.resourceConfig.instanceCount) + ' instance(s); at least 2'"
        ),
    )
    assert found == [("", "job churn-xgboost-2026-11-27 asks for 1 instance(s); at least 2")]


@pytest.mark.parametrize(
    "message_expression",
    ["object.metadata.nope", "''", "string(1 / 0)"],
    ids=["runtime-error", "empty", "division-by-zero"],
)
def test_message_expression_that_fails_falls_back_to_the_default(
    job: dict[str, Any], message_expression: str
) -> None:
    assert run(job, "false", messageExpression=message_expression) == [
        ("", "failed expression: false")
    ]


def test_message_expression_is_not_evaluated_when_the_rule_holds(job: dict[str, Any]) -> None:
    assert run(job, "true", messageExpression="object.metadata.nope") == []


def test_runtime_error_is_a_finding(job: dict[str, Any]) -> None:
    ((path, message),) = run(job, "object.spec.checkpointConfig.s3URI.startsWith('s3://')")
    assert path == ""
    assert message.startswith("the expression could not be evaluated: ")
    assert "checkpointConfig" in message


def test_has_guards_a_missing_field(job: dict[str, Any]) -> None:
    expression = (
        "!has(object.spec.checkpointConfig) || "
        "object.spec.checkpointConfig.s3URI.startsWith('s3://')"
    )
    assert run(job, expression) == []
    job["spec"]["checkpointConfig"] = {"s3URI": "/local/path"}
    assert run(job, expression) == [("", f"failed expression: {expression}")]


def test_dynamic_non_boolean_result_is_a_finding(job: dict[str, Any]) -> None:
    ((path, message),) = run(job, "object.spec.resourceConfig.instanceCount")
    assert path == ""
    assert message == "the expression yielded a number, not a boolean"


def test_non_boolean_result_never_shows_a_hyperparameter_value(job: dict[str, Any]) -> None:
    job["spec"]["hyperParameters"]["wandb_api_key"] = "s3cr3t-t0ken"
    ((_, message),) = run(job, "object.spec.hyperParameters.wandb_api_key")
    assert "s3cr3t-t0ken" not in message


@pytest.mark.parametrize(
    "odd",
    [
        {"spec": "not a mapping"},
        {"spec": {"resourceConfig": {"instanceCount": "four"}}},
        {"spec": {"resourceConfig": None}},
        {"spec": {"resourceConfig": {"instanceCount": True}}},
        {},
    ],
)
def test_odd_objects_never_raise(odd: dict[str, Any]) -> None:
    ((path, message),) = run(odd, "object.spec.resourceConfig.instanceCount <= 4")
    assert path == ""
    assert message.startswith("the expression could not be evaluated: ")


# --- configuration errors ------------------------------------------------------------------------


def test_syntax_error_is_a_config_error_on_expression() -> None:
    rule = CelRule.model_validate({"id": "r", "kind": "cel", "expression": "object.spec.x == "})
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule, {})
    assert raised.value.field == "expression"
    assert raised.value.message.startswith("invalid CEL: ")
    assert ":1:18:" in raised.value.message


def test_unknown_variable_is_a_config_error() -> None:
    rule = CelRule.model_validate({"id": "r", "kind": "cel", "expression": "self.spec != null"})
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule, {})
    assert raised.value.field == "expression"
    assert "self" in raised.value.message


@pytest.mark.parametrize(
    ("expression", "yields"),
    [("1 + 2", "INT"), ("'text'", "STRING"), ("[true]", "LIST")],
)
def test_non_boolean_expression_is_a_config_error(expression: str, yields: str) -> None:
    rule = CelRule.model_validate({"id": "r", "kind": "cel", "expression": expression})
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule, {})
    assert raised.value.field == "expression"
    assert raised.value.message.startswith(f"the expression yields {yields}")
    assert raised.value.message.endswith("not BOOL")


def test_non_string_message_expression_is_a_config_error() -> None:
    rule = CelRule.model_validate(
        {"id": "r", "kind": "cel", "expression": "true", "messageExpression": "42"}
    )
    with pytest.raises(RuleConfigError) as raised:
        compile_rule(rule, {})
    assert (raised.value.field, raised.value.message) == (
        "messageExpression",
        "the expression yields INT, not STRING",
    )


# --- variables -----------------------------------------------------------------------------------


def test_old_object_is_null_on_create(job: dict[str, Any]) -> None:
    assert run(job, "oldObject == null") == []


def test_old_object_on_update(job: dict[str, Any]) -> None:
    old = copy.deepcopy(job)
    old["metadata"]["labels"] = {"revision": "1"}
    update = Context(operation="UPDATE", namespace="team-a")
    assert run(job, "oldObject.metadata.labels.revision == '1'", context=update, old=old) == []
    assert run(job, "oldObject == null", context=update, old=old) == [
        ("", "failed expression: oldObject == null")
    ]


def test_request_user_info(job: dict[str, Any]) -> None:
    expression = "request.userInfo.username == 'alice' && 'ml-engineers' in request.userInfo.groups"
    alice = Context(
        namespace="team-a", user="alice", groups=("system:authenticated", "ml-engineers")
    )
    assert run(job, expression, context=alice) == []
    bob = Context(namespace="team-a", user="bob", groups=("ml-engineers",))
    assert len(run(job, expression, context=bob)) == 1
    # A CLI run has no user: an empty name and no groups, not an error.
    assert run(job, "request.userInfo.username == '' && size(request.userInfo.groups) == 0") == []


@pytest.mark.parametrize("operation", ["CREATE", "UPDATE"])
def test_request_operation(job: dict[str, Any], operation: str) -> None:
    context = Context(operation=operation, namespace="team-a")  # type: ignore[arg-type]
    assert run(job, f"request.operation == '{operation}'", context=context) == []
    other = "UPDATE" if operation == "CREATE" else "CREATE"
    assert len(run(job, f"request.operation == '{other}'", context=context)) == 1


def test_request_namespace_and_dry_run(job: dict[str, Any]) -> None:
    expression = "request.namespace == 'team-b' && request.dryRun"
    assert run(job, expression, context=Context(namespace="team-b", dry_run=True)) == []
    assert len(run(job, expression, context=Context(namespace="team-b"))) == 1
    # Without a request namespace, the object's own.
    assert run(job, "request.namespace == 'team-a'", context=Context()) == []


def test_params(job: dict[str, Any]) -> None:
    params = {"maxInstances": 1, "allowedTypes": ["ml.m5.xlarge", "ml.g5.xlarge"]}
    expression = (
        "object.spec.resourceConfig.instanceCount <= params.maxInstances && "
        "object.spec.resourceConfig.instanceType in params.allowedTypes"
    )
    assert run(job, expression, params=params) == []
    job["spec"]["resourceConfig"]["instanceCount"] = 2
    assert len(run(job, expression, params=params)) == 1


def test_namespace_object_is_null_when_labels_are_unknown(job: dict[str, Any]) -> None:
    assert run(job, "namespaceObject == null") == []


def test_namespace_object_when_labels_are_known(job: dict[str, Any]) -> None:
    context = Context(namespace="team-a", namespace_labels={"env": "prod", "cost-center": "42"})
    expression = (
        "namespaceObject.metadata.name == 'team-a' && "
        "namespaceObject.metadata.labels['cost-center'] == '42'"
    )
    assert run(job, expression, context=context) == []
    assert len(run(job, "namespaceObject == null", context=context)) == 1


# --- end to end: policy file -> engine ---------------------------------------------------------


POLICY_HEAD = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata:
  name: custom
id: custom
"""


@pytest.fixture
def policies(tmp_path: Path) -> Callable[[str], Config]:
    def load(body: str) -> Config:
        file = tmp_path / "policy.yaml"
        file.write_text(POLICY_HEAD + textwrap.dedent(body), encoding="utf-8")
        return Config(policies=load_policies([file]))

    return load


def policy_findings(decision: Decision) -> list[tuple[str, str, str, Action]]:
    return [
        (f.rule, f.where, f.message, f.action)
        for f in decision.findings
        if f.rule.startswith("custom/")
    ]


def test_review_true_rule_allows(job: dict[str, Any], policies: Callable[[str], Config]) -> None:
    config = policies(
        """\
        rules:
          - id: small
            kind: cel
            expression: "object.spec.resourceConfig.instanceCount <= 4"
        """
    )
    decision = review(job, context=TEAM_A, config=config)
    assert decision.allowed
    assert decision.findings == ()


def test_review_false_rule_denies_with_its_message(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        params:
          maxRuntime: 3600
        rules:
          - id: short
            kind: cel
            expression: "object.spec.stoppingCondition.maxRuntimeInSeconds <= params.maxRuntime"
            messageExpression: >-
              'runtime ' + string(object.spec.stoppingCondition.maxRuntimeInSeconds)
              + 's exceeds ' + string(params.maxRuntime) + 's in ' + request.namespace
        """
    )
    decision = review(job, context=TEAM_A, config=config)
    assert not decision.allowed
    assert policy_findings(decision) == [
        ("custom/short", "", "runtime 7200s exceeds 3600s in team-a", Action.DENY)
    ]


def test_review_runtime_error_fails_closed(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        rules:
          - id: checkpoints
            kind: cel
            expression: "object.spec.checkpointConfig.s3URI.startsWith('s3://ml-team-a/')"
        """
    )
    decision = review(job, context=TEAM_A, config=config)
    assert not decision.allowed
    ((rule, _, message, action),) = policy_findings(decision)
    assert (rule, action) == ("custom/checkpoints", Action.DENY)
    assert message.startswith("the expression could not be evaluated: ")


def test_review_runtime_error_of_a_warn_rule_warns(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        rules:
          - id: checkpoints
            kind: cel
            action: warn
            expression: "object.spec.checkpointConfig.s3URI != ''"
        """
    )
    decision = review(job, context=TEAM_A, config=config)
    assert decision.allowed
    assert [f.rule for f in decision.warnings] == ["custom/checkpoints"]


def test_review_sees_the_object_after_defaults_on_create(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        rules:
          - id: runtime-set
            kind: cel
            expression: "object.spec.stoppingCondition.maxRuntimeInSeconds == 86400"
        defaults:
          spec:
            stoppingCondition:
              maxRuntimeInSeconds: 86400
        """
    )
    del job["spec"]["stoppingCondition"]
    decision = review(job, context=TEAM_A, config=config)
    assert decision.patch != ()
    assert policy_findings(decision) == []


PROFILER_RULE = """\
rules:
  - id: profiler-once
    kind: cel
    expression: >-
      oldObject == null || !has(object.spec.profilerConfig)
      || has(oldObject.spec.profilerConfig)
    messageExpression: >-
      request.userInfo.username + ' added a profiler to ' + oldObject.metadata.name
      + ' (' + request.operation + ')'
"""


def test_review_old_object_on_update(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(PROFILER_RULE)
    old = copy.deepcopy(job)
    job["spec"]["profilerConfig"] = {"s3OutputPath": "s3://ml-team-a/churn/profiler/"}
    update = Context(operation="UPDATE", namespace="team-a", user="alice")
    decision = review(job, old=old, context=update, config=config)
    assert policy_findings(decision) == [
        (
            "custom/profiler-once",
            "",
            "alice added a profiler to churn-xgboost-2026-11-27 (UPDATE)",
            Action.DENY,
        )
    ]
    assert [f.rule for f in decision.denials] == ["custom/profiler-once"]
    # On CREATE oldObject is null and the same job passes.
    assert policy_findings(review(job, context=TEAM_A, config=config)) == []


def test_review_namespace_object(job: dict[str, Any], policies: Callable[[str], Config]) -> None:
    config = policies(
        """\
        rules:
          - id: prod-needs-isolation
            kind: cel
            expression: >-
              namespaceObject == null || namespaceObject.metadata.labels.env != 'prod'
              || (has(object.spec.enableNetworkIsolation) && object.spec.enableNetworkIsolation)
        """
    )
    prod = Context(namespace="team-a", namespace_labels={"env": "prod"})
    assert [f.rule for f in review(job, context=prod, config=config).denials] == [
        "custom/prod-needs-isolation"
    ]
    assert review(job, context=TEAM_A, config=config).allowed
    job["spec"]["enableNetworkIsolation"] = True
    assert review(job, context=prod, config=config).allowed


# --- message overrides ---------------------------------------------------------------------------


def test_message_override_with_placeholders(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        rules:
          - id: one-instance
            kind: resources
            maxInstanceCount: 1
            message: "{namespace}/{name}: {path}: {detail} (ask #ml-platform)"
          - id: cel
            kind: cel
            expression: "object.spec.resourceConfig.instanceCount == 1"
            message: "in {namespace} [{path}]: {detail}"
        """
    )
    job["spec"]["resourceConfig"]["instanceCount"] = 2
    decision = review(job, context=TEAM_A, config=config)
    assert policy_findings(decision) == [
        (
            "custom/one-instance",
            "spec.resourceConfig.instanceCount",
            "team-a/churn-xgboost-2026-11-27: spec.resourceConfig.instanceCount: "
            "2 instances; the policy allows at most 1 (ask #ml-platform)",
            Action.DENY,
        ),
        (
            "custom/cel",
            "",
            "in team-a []: failed expression: object.spec.resourceConfig.instanceCount == 1",
            Action.DENY,
        ),
    ]


def test_message_override_replaces_the_message_expression(
    job: dict[str, Any], policies: Callable[[str], Config]
) -> None:
    config = policies(
        """\
        rules:
          - id: never
            kind: cel
            expression: "false"
            messageExpression: "'from CEL'"
            message: "override: {detail}"
        """
    )
    assert policy_findings(review(job, context=TEAM_A, config=config)) == [
        ("custom/never", "", "override: from CEL", Action.DENY)
    ]
