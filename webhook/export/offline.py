"""Evaluate exported ValidatingAdmissionPolicies offline, as the API server does.

For one admission request (``object``, ``oldObject``, ``request``,
``namespaceObject``) each policy is matched (its ``matchConstraints`` resource
rules and operations, then its ``matchConditions`` in order), its variables are
evaluated in order, then its validations; a failed validation, or one that
cannot be evaluated (``failurePolicy: Fail``), takes the actions of the
policy's bindings. The CEL core is the webhook's own (``cel-expr-python``,
:mod:`webhook.policy.rules.cel`), with the standard library only, as the
exported expressions use.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from cel_expr_python import cel

VARIABLES: Final = ("object", "oldObject", "request", "params", "namespaceObject", "variables")
_ENV: Final = cel.NewEnv(variables=dict.fromkeys(VARIABLES, cel.Type.DYN))


@functools.lru_cache(maxsize=8192)
def _program(source: str) -> Any:
    return _ENV.compile(source)


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed validation: its policy, index, action and message."""

    policy: str
    index: int
    action: str
    """``Deny``, ``Warn`` or ``Audit``."""
    message: str
    error: str = ""
    """Set when the expression could not be evaluated (a failure under ``Fail``)."""


def _evaluate(source: str, bindings: Any) -> tuple[Any, str]:
    """The value of *source* (or the error) in *bindings*, an activation."""
    value = _program(source).eval(bindings)
    if value.type() == cel.Type.ERROR:
        return None, str(value.value())
    return value.plain_value(), ""


def _matches_rules(spec: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    resource = request.get("resource", {})
    for rule in spec.get("matchConstraints", {}).get("resourceRules", []):
        if (
            resource.get("group") in rule["apiGroups"]
            and resource.get("version") in rule["apiVersions"]
            and resource.get("resource") in rule["resources"]
            and request.get("operation") in rule["operations"]
            and not request.get("subResource")
        ):
            return True
    return False


def evaluate(
    objects: Iterable[Mapping[str, Any]],
    *,
    obj: Mapping[str, Any] | None,
    old: Mapping[str, Any] | None,
    request: Mapping[str, Any],
    namespace: Mapping[str, Any] | None,
) -> list[Failure]:
    """Every failed validation of the policies among *objects* for one request."""
    objects = list(objects)
    actions = _binding_actions(objects)
    failures: list[Failure] = []
    for item in objects:
        if item.get("kind") != "ValidatingAdmissionPolicy":
            continue
        name = item["metadata"]["name"]
        spec = item["spec"]
        if name not in actions or not _matches_rules(spec, request):
            continue
        bindings: dict[str, Any] = {
            "object": obj,
            "oldObject": old,
            "request": request,
            "namespaceObject": namespace,
            "params": None,
            "variables": {},
        }
        failures.extend(_policy_failures(name, spec, bindings, actions[name]))
    return failures


def _binding_actions(objects: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    """The ``validationActions`` of the bindings among *objects*, by policy name."""
    actions: dict[str, list[str]] = {}
    for item in objects:
        if item.get("kind") == "ValidatingAdmissionPolicyBinding":
            spec = item["spec"]
            actions.setdefault(spec["policyName"], []).extend(spec["validationActions"])
    return actions


@dataclass(frozen=True, slots=True)
class _Broken:
    error: str


def _policy_failures(
    name: str, spec: Mapping[str, Any], bindings: dict[str, Any], actions: list[str]
) -> list[Failure]:
    """One policy's failures: its match conditions, then its variables and validations."""
    activation = _ENV.Activation(bindings)
    matched, message, error = _match_conditions(spec, activation)
    if error:
        return [Failure(name, -1, action, message, error) for action in actions]
    if not matched:
        return []
    bindings["variables"], broken = _variables(spec, bindings, activation)
    activation = _ENV.Activation(bindings)
    return _validation_failures(name, spec, activation, broken, actions)


def _match_conditions(spec: Mapping[str, Any], activation: Any) -> tuple[bool, str, str]:
    """Whether every ``matchCondition`` holds; else, when one fails to evaluate, why."""
    for condition in spec.get("matchConditions", []):
        value, error = _evaluate(condition["expression"], activation)
        if error:
            return False, f"matchCondition {condition['name']}: {error}", error
        if value is not True:
            return False, "", ""
    return True, "", ""


def _variables(
    spec: Mapping[str, Any], bindings: Mapping[str, Any], activation: Any
) -> tuple[dict[str, Any], dict[str, _Broken]]:
    """The policy's variables in order: the values of those that evaluate, the others' errors."""
    variables: dict[str, Any] = {}
    for variable in spec.get("variables", []):
        scope = _ENV.Activation({**bindings, "variables": variables}) if variables else activation
        value, error = _evaluate(variable["expression"], scope)
        variables[variable["name"]] = value if not error else _Broken(error)
    values = {k: v for k, v in variables.items() if not isinstance(v, _Broken)}
    broken = {k: v for k, v in variables.items() if isinstance(v, _Broken)}
    return values, broken


def _validation_failures(
    name: str,
    spec: Mapping[str, Any],
    activation: Any,
    broken: Mapping[str, _Broken],
    actions: list[str],
) -> list[Failure]:
    """The validations that fail, or cannot be evaluated (a broken variable's error)."""
    failures: list[Failure] = []
    for index, validation in enumerate(spec.get("validations", [])):
        source = validation["expression"]
        used = [k for k in broken if f"variables.{k}" in source]
        if used:
            value, error = None, broken[used[0]].error
        else:
            value, error = _evaluate(source, activation)
        if value is True and not error:
            continue
        message = validation.get("message") or f"failed expression: {source}"
        if validation.get("messageExpression") and not error:
            text, problem = _evaluate(validation["messageExpression"], activation)
            if not problem and isinstance(text, str) and text:
                message = text
        failures.extend(
            Failure(
                name,
                index,
                action,
                message,
                error or ("" if value is False else "not a boolean"),
            )
            for action in actions
        )
    return failures


def admission_request(
    obj: Mapping[str, Any] | None,
    *,
    operation: str = "CREATE",
    namespace: str,
    username: str = "",
    groups: Iterable[str] = (),
    old: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> dict[str, Any]:
    """The ``request`` of a TrainingJob admission, as the API server builds it."""
    name = (obj or old or {}).get("metadata", {}).get("name", "")
    return {
        "uid": "offline",
        "kind": {
            "group": "sagemaker.services.k8s.aws",
            "version": "v1alpha1",
            "kind": "TrainingJob",
        },
        "resource": {
            "group": "sagemaker.services.k8s.aws",
            "version": "v1alpha1",
            "resource": "trainingjobs",
        },
        "requestKind": {
            "group": "sagemaker.services.k8s.aws",
            "version": "v1alpha1",
            "kind": "TrainingJob",
        },
        "requestResource": {
            "group": "sagemaker.services.k8s.aws",
            "version": "v1alpha1",
            "resource": "trainingjobs",
        },
        "name": name,
        "namespace": namespace,
        "operation": operation,
        "userInfo": {"username": username, "groups": list(groups)},
        "dryRun": dry_run,
    }


def namespace_object(name: str, labels: Mapping[str, str] | None) -> dict[str, Any]:
    """The Namespace the API server passes as ``namespaceObject``."""
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/metadata.name": name, **(labels or {})},
        },
    }
