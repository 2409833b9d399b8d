"""Run an exported MutatingAdmissionPolicy offline, as the API server would, on one request.

The policy object's resource rules and operations are matched, then its
``matchConditions`` in order (one that cannot be evaluated fails the request:
``failurePolicy: Fail``); then each mutation in order: its expression, in the
map-literal form (:attr:`webhook.export.mutating.Mutation.offline`, from the same
nodes as the ``JSONPatch`` form the API server evaluates), yields the operations,
which are applied to the object the previous mutation left (RFC 6902, with
``jsonpatch``). The CEL core is the webhook's own (cel-expr-python, standard
library only).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import jsonpatch
from cel_expr_python import cel

_VARIABLES: Final = ("object", "oldObject", "request", "params", "namespaceObject", "variables")
_ENV: Final = cel.NewEnv(variables=dict.fromkeys(_VARIABLES, cel.Type.DYN))


@functools.lru_cache(maxsize=256)
def _program(source: str) -> Any:
    return _ENV.compile(source)


@dataclass(frozen=True, slots=True)
class Outcome:
    """The object after mutating admission, or why the request failed."""

    object: dict[str, Any] | None
    error: str = ""
    patches: tuple[tuple[dict[str, Any], ...], ...] = ()
    """The operations of each mutation that ran, in order."""


def _evaluate(source: str, bindings: Mapping[str, Any]) -> tuple[Any, str]:
    value = _program(source).eval(_ENV.Activation(dict(bindings)))
    if value.type() == cel.Type.ERROR:
        return None, str(value.value())
    return value.plain_value(), ""


def _matches(spec: Mapping[str, Any], request: Mapping[str, Any]) -> bool:
    resource = request.get("resource", {})
    return any(
        resource.get("group") in rule["apiGroups"]
        and resource.get("version") in rule["apiVersions"]
        and resource.get("resource") in rule["resources"]
        and request.get("operation") in rule["operations"]
        and not request.get("subResource")
        for rule in spec.get("matchConstraints", {}).get("resourceRules", [])
    )


def mutate(
    policy: Mapping[str, Any],
    offline: Sequence[str],
    *,
    obj: Mapping[str, Any],
    request: Mapping[str, Any],
    namespace: Mapping[str, Any] | None,
) -> Outcome:
    """*obj* after *policy*, whose mutations are *offline* (their map-literal forms)."""
    spec = policy["spec"]
    if len(offline) != len(spec["mutations"]):
        raise ValueError(f"{len(offline)} offline forms for {len(spec['mutations'])} mutations")
    current: dict[str, Any] = copy.deepcopy(dict(obj))
    if not _matches(spec, request):
        return Outcome(current)
    bindings: dict[str, Any] = {
        "object": current,
        "oldObject": None,
        "request": request,
        "namespaceObject": namespace,
        "params": None,
        "variables": {},
    }
    for condition in spec.get("matchConditions", []):
        value, error = _evaluate(condition["expression"], bindings)
        if error:
            return Outcome(None, f"matchCondition {condition['name']}: {error}")
        if value is not True:
            return Outcome(current)
    patches: list[tuple[dict[str, Any], ...]] = []
    for index, source in enumerate(offline):
        bindings["object"] = current
        value, error = _evaluate(source, bindings)
        if error:
            return Outcome(None, f"mutations[{index}]: {error}", tuple(patches))
        operations = tuple(dict(op) for op in value)
        try:
            current = jsonpatch.apply_patch(current, list(operations))
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as problem:
            return Outcome(None, f"mutations[{index}]: {problem}", tuple(patches))
        patches.append(operations)
    return Outcome(current, patches=tuple(patches))


__all__ = ["Outcome", "mutate"]
