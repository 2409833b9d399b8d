"""Export the checks as ValidatingAdmissionPolicy objects: the pure core of ``export vap``.

:func:`export` takes the webhook's own configuration (:class:`webhook.engine.Config`:
the constraints, the policies, the operator's rule actions, the ACK controller's
users) and returns every ``ValidatingAdmissionPolicy`` and
``ValidatingAdmissionPolicyBinding`` (``admissionregistration.k8s.io/v1``) that
states what CEL can state of them, with what it could not and why, and the
cost estimate of every policy. Nothing here reads a file or prints.

One ValidatingAdmissionPolicy per source and action: SageMaker's constraints
(``trainingjob-guard.sagemaker.deny``) and each policy's rules
(``trainingjob-guard.<policy id>.<action>``), each with a binding whose
``validationActions`` is the action (deny: ``Deny``, warn: ``Warn``, audit:
``Audit``). Every policy fails closed (``failurePolicy: Fail``): an expression
that cannot be evaluated denies, or warns, as its binding says.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from webhook.constraints.bounds import RELAXABLE
from webhook.engine import Config
from webhook.export import scope, text
from webhook.export.constraints import export_constraints
from webhook.export.cost import PER_CALL_LIMIT, RUNTIME_BUDGET, CostError
from webhook.export.kinds import COVERED, KINDS, WHY_NOT, NotExportableError, RuleContext
from webhook.export.kinds.cel import PARAMS
from webhook.export.model import Part, Skipped, Validation, Variable
from webhook.export.shapes import environment
from webhook.export.syntax import CelSyntaxError
from webhook.export.values import BOOL, record
from webhook.export.walk import Walker
from webhook.findings import Action
from webhook.model import GROUP, VERSION
from webhook.policy.compiled import CompiledPolicy
from webhook.policy.rules.registry import options

API_VERSION: Final = "admissionregistration.k8s.io/v1"
PREFIX: Final = "trainingjob-guard"
CONSTRAINTS: Final = "sagemaker"
"""The name of the part holding SageMaker's constraints."""
MANAGED_BY: Final = {"app.kubernetes.io/managed-by": PREFIX}
ACTIONS: Final = {Action.DENY: "Deny", Action.WARN: "Warn", Action.AUDIT: "Audit"}
#: The resource every exported policy matches (``matchPolicy: Equivalent`` is the default).
RESOURCE_RULES: Final = [
    {
        "apiGroups": [GROUP],
        "apiVersions": [VERSION],
        "operations": ["CREATE", "UPDATE"],
        "resources": ["trainingjobs"],
        "scope": "Namespaced",
    }
]


class ExportError(ValueError):
    """The configuration cannot be exported at all; the message says why."""


@dataclass(frozen=True, slots=True)
class Cost:
    """The estimated cost of one exported policy (:mod:`webhook.export.cost`)."""

    policy: str
    highest: int
    """The costliest expression's estimate."""
    costliest: str
    """Which one that is (``validations[3]``, ``variables.fits``...)."""
    total: int
    """All its expressions together: the most one evaluation can cost."""

    @classmethod
    def of(cls, policy: str, estimates: Sequence[tuple[str, int]]) -> Cost:
        """The cost of *policy* from its expressions' estimates, ``(where, cost)`` each."""
        where, highest = max(estimates, key=lambda item: item[1])
        return cls(policy, highest, where, sum(cost for _, cost in estimates))


def over_limits(policy: str, estimates: Sequence[tuple[str, int]]) -> list[str]:
    """Why *policy*'s estimates are over the API server's limits (nothing when within)."""
    problems = [
        f"{policy} {where}: estimated cost {cost:,} is over the API server's per-expression "
        f"limit of {PER_CALL_LIMIT:,}"
        for where, cost in estimates
        if cost > PER_CALL_LIMIT
    ]
    total = sum(cost for _, cost in estimates)
    if total > RUNTIME_BUDGET:
        problems.append(
            f"{policy}: estimated cost {total:,} in all is over the API server's budget of "
            f"{RUNTIME_BUDGET:,} for one evaluation of a policy"
        )
    return problems


@dataclass(slots=True)
class Export:
    """What ``export vap`` produces."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    costs: list[Cost] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    """Expressions over the API server's cost limits (nothing should be applied then)."""
    index: dict[tuple[str, int], Validation] = field(default_factory=dict)
    """The validation behind each exported one: (policy name, position) -> validation."""

    @property
    def skipped(self) -> list[tuple[str, Skipped]]:
        """Every rule left to the webhook, with its source."""
        return [(part.name, item) for part in self.parts for item in part.skipped]

    @property
    def rules(self) -> frozenset[str]:
        """The rule ids with at least one exported validation."""
        return frozenset(v.rule for part in self.parts for v in part.validations)


def export(config: Config) -> Export:
    """Every check of *config* that CEL can state, as VAP objects, with what is left out."""
    relaxed = sorted(config.relaxable | (RELAXABLE & set(_lenient(config.actions))))
    if relaxed:
        raise ExportError(
            f"{', '.join(relaxed)} relaxed (warn or audit): the size gate then holds jobs to "
            "other bounds per job, which the exported policies cannot; export without relaxing "
            "them, and keep the webhook for the jobs that need it"
        )
    walker = Walker(config.checker.constraints)
    constraints = export_constraints(config.checker.constraints)
    fits = constraints.fits
    reviewed = scope.reviewed(config.controller_users)
    result = Export()

    set_per_job = {
        rule: policy.id
        for policy in config.policies.policies
        for rule in policy.document.apiConstraints
        if rule not in config.actions
    }
    base = Part(CONSTRAINTS, description="SageMaker API constraints and the size gate")
    base.variables.append(fits)
    base.match_conditions.append(reviewed)
    base.skipped.extend(constraints.skipped)
    for validation in constraints.validations:
        if validation.rule in set_per_job and not validation.gate:
            continue
        base.validations.append(validation)
    for rule, policy_id in sorted(set_per_job.items()):
        base.skipped.append(
            Skipped(rule, f"policy {policy_id} sets its action per job (apiConstraints)")
        )
    result.parts.append(base)
    for policy in config.policies.policies:
        result.parts.append(_policy_part(policy, walker, fits, reviewed))
    for part in result.parts:
        _objects(part, config.actions, result)
    return result


def _lenient(actions: Mapping[str, Action]) -> list[str]:
    return [rule for rule, action in actions.items() if action is not Action.DENY]


def _policy_part(
    policy: CompiledPolicy, walker: Walker, fits: Variable, reviewed: Variable
) -> Part:
    document = policy.document
    part = Part(document.id, description=document.description)
    part.variables.append(fits)
    part.match_conditions.append(reviewed)
    try:
        part.match_conditions.extend(scope.conditions(document))
    except NotExportableError as error:
        part.skipped.append(Skipped(f"{document.id}/*", f"its scope: {error}"))
        return part
    uses_params = False
    for rule in document.rules:
        rule_id = f"{document.id}/{rule.id}"
        if rule.kind in WHY_NOT:
            part.skipped.append(Skipped(rule_id, WHY_NOT[rule.kind]))
            continue
        unknown = options(type(rule)) - COVERED[rule.kind]
        if unknown:
            part.skipped.append(
                Skipped(rule_id, f"the exporter does not know the option(s) {sorted(unknown)}")
            )
            continue
        try:
            validations = KINDS[rule.kind](RuleContext(document, rule, walker))
        except NotExportableError as error:
            part.skipped.append(Skipped(rule_id, str(error)))
            continue
        part.validations.extend(validations)
        uses_params = uses_params or any(
            f"variables.{PARAMS}" in v.expression + v.message for v in validations
        )
    if uses_params:
        part.variables.append(Variable(PARAMS, text.literal(document.params)))
    if document.defaults is not None:
        part.notes.append(
            f"{document.id}: its defaults: a ValidatingAdmissionPolicy cannot change a job, "
            "defaults need the mutating webhook (without it, jobs are checked as they are)"
        )
    return part


def _objects(part: Part, actions: Mapping[str, Action], result: Export) -> None:
    """The VAPs and bindings of *part*, one pair per action; their costs into *result*."""
    by_action: dict[Action, list[Validation]] = {}
    for validation in part.validations:
        action = (
            validation.action
            if validation.gate
            else actions.get(validation.rule, validation.action)
        )
        by_action.setdefault(action, []).append(validation)
    for action in (Action.DENY, Action.WARN, Action.AUDIT):
        validations = by_action.get(action)
        if not validations:
            continue
        name = f"{PREFIX}.{part.name}.{action.value}"
        variables = _used_variables(part.variables, validations)
        _estimate(name, part, variables, validations, result)
        rules = sorted({v.rule for v in validations})
        for position, validation in enumerate(validations):
            result.index[(name, position)] = validation
        result.objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "ValidatingAdmissionPolicy",
                "metadata": {
                    "name": name,
                    "labels": {**MANAGED_BY, f"{PREFIX}.io/policy": part.name},
                    "annotations": {f"{PREFIX}.io/rules": ", ".join(rules)},
                },
                "spec": {
                    "failurePolicy": "Fail",
                    "matchConstraints": {"resourceRules": RESOURCE_RULES},
                    "matchConditions": [
                        {"name": scope.condition_name(c.name), "expression": c.expression}
                        for c in part.match_conditions
                    ],
                    "variables": [{"name": v.name, "expression": v.expression} for v in variables],
                    "validations": [
                        {
                            "expression": v.expression,
                            "messageExpression": v.message,
                            "reason": v.reason,
                        }
                        for v in validations
                    ],
                },
            }
        )
        result.objects.append(
            {
                "apiVersion": API_VERSION,
                "kind": "ValidatingAdmissionPolicyBinding",
                "metadata": {
                    "name": name,
                    "labels": {**MANAGED_BY, f"{PREFIX}.io/policy": part.name},
                },
                "spec": {"policyName": name, "validationActions": [ACTIONS[action]]},
            }
        )


def _used_variables(variables: list[Variable], validations: list[Validation]) -> list[Variable]:
    sources = " ".join(v.expression + v.message for v in validations)
    return [v for v in variables if f"variables.{v.name}" in sources]


def _estimate(
    name: str,
    part: Part,
    variables: list[Variable],
    validations: list[Validation],
    result: Export,
) -> None:
    """Estimate every expression of one VAP; record its cost, and any over the limits."""
    scope = tuple((variable.name, variable.expression) for variable in variables)
    sources: list[tuple[str, str, tuple[tuple[str, str], ...]]] = [
        (f"variables.{v.name}", v.expression, ()) for v in variables
    ]
    sources += [
        (f"matchConditions[{i}]", c.expression, scope) for i, c in enumerate(part.match_conditions)
    ]
    for index, validation in enumerate(validations):
        sources.append((f"validations[{index}]", validation.expression, scope))
        sources.append((f"validations[{index}].messageExpression", validation.message, scope))
    estimates: list[tuple[str, int]] = []
    try:
        for where, source, known in sources:
            estimates.append((where, _cost(source, known)))
    except (CostError, CelSyntaxError) as error:
        result.errors.append(f"{name}: {error}")
        return
    result.errors.extend(over_limits(name, estimates))
    result.costs.append(Cost.of(name, estimates))


@functools.lru_cache(maxsize=16384)
def _cost(source: str, variables: tuple[tuple[str, str], ...]) -> int:
    """The estimate of *source* where the policy's *variables* are (name, expression)."""
    env = environment()
    if variables:
        shapes = {
            name: env.estimate(expression)[1] if name == PARAMS else BOOL
            for name, expression in variables
        }
        env = env.with_variable("variables", record(shapes)).with_expansions(dict(variables))
    return env.estimate(source)[0]


__all__ = ["Cost", "Export", "ExportError", "export"]
