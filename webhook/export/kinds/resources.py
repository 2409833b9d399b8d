"""Rule kind ``resources`` as CEL (:mod:`webhook.policy.rules.resources`)."""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import (
    RuleContext,
    concept_patterns,
    globs,
    shown,
    string_check,
    where,
)
from webhook.export.model import Validation
from webhook.export.walk import Walker
from webhook.model.concepts import Concept, fields
from webhook.policy.model import ResourcesRule
from webhook.policy.rules.resources import _SIZE, DEFAULT_MAX_RUNTIME

GROUPS = "object.spec.resourceConfig.instanceGroups"
MAX_GROUPS = 5
"""SageMaker's bound on ``instanceGroups`` (under the gate, never more)."""


def group_total(groups: str = GROUPS) -> str:
    """CEL: the sum of the instance groups' ``instanceCount`` (missing counts 0)."""
    terms = [
        f"(size({groups}) > {index} && has({groups}[{index}].instanceCount) ? "
        f"{groups}[{index}].instanceCount : 0)"
        for index in range(MAX_GROUPS)
    ]
    return " + ".join(terms)


def has_groups(config: str = "object.spec.resourceConfig") -> str:
    """CEL: the job has a non-empty ``instanceGroups``."""
    return text.all_of(
        [
            "has(object.spec)",
            f"has({config})",
            f"has({config}.instanceGroups)",
            f"size({config}.instanceGroups) > 0",
        ]
    )


def _int_at(walker: Walker, pattern: tuple[str, ...], check: str) -> str:
    return walker.at(pattern, lambda v: check.replace("$v", v))


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``resources`` rule."""
    rule: ResourcesRule = context.rule
    walker = context.walker
    out: list[Validation] = []
    if rule.instanceTypes is not None:
        allowed = globs(rule.instanceTypes)
        for pattern in concept_patterns(Concept.INSTANCE_TYPE):
            out.append(
                context.validation(
                    where(pattern),
                    string_check(walker, pattern, allowed.matches),
                    ["not an allowed instance type; allowed: ", *shown(rule.instanceTypes)],
                )
            )
    if rule.maxInstanceCount is not None:
        most = rule.maxInstanceCount
        config = "object.spec.resourceConfig"
        out.append(
            context.validation(
                "spec.resourceConfig.instanceCount",
                _int_at(walker, ("resourceConfig", "instanceCount"), f"$v <= {most}"),
                f"more instances than the {most} the policy allows",
            )
        )
        total = f"size({GROUPS}) > {MAX_GROUPS} || ({group_total()}) <= {most}"
        out.append(
            context.validation(
                "spec.resourceConfig.instanceGroups",
                text.implies(has_groups(config), total),
                f"the instance groups have more instances in all than the {most} the policy allows",
            )
        )
        for field in fields(Concept.INSTANCE_COUNT):
            if field.pattern in _SIZE:
                continue
            out.append(
                context.validation(
                    where(field.pattern),
                    _int_at(walker, field.pattern, f"$v <= {most}"),
                    f"more instances than the {most} the policy allows",
                )
            )
    if rule.maxVolumeSizeInGB is not None:
        largest = rule.maxVolumeSizeInGB
        for field in fields(Concept.VOLUME_SIZE):
            out.append(
                context.validation(
                    where(field.pattern),
                    _int_at(walker, field.pattern, f"$v <= {largest}"),
                    f"larger than the {largest} GB the policy allows",
                )
            )
    stopping = "object.spec.stoppingCondition"
    if rule.maxRuntimeInSeconds is not None:
        limit = rule.maxRuntimeInSeconds
        runtime = f"{stopping}.maxRuntimeInSeconds"
        present = f"has(object.spec) && has({stopping}) && has({runtime})"
        unset_ok = text.TRUE if limit >= DEFAULT_MAX_RUNTIME else text.FALSE
        out.append(
            context.validation(
                "spec.stoppingCondition.maxRuntimeInSeconds",
                f"({present}) ? {runtime} <= {limit} : {unset_ok}",
                f"over the {limit} seconds the policy allows (unset: SageMaker's default of "
                f"{DEFAULT_MAX_RUNTIME} seconds)",
            )
        )
    if rule.maxWaitTimeInSeconds is not None:
        limit = rule.maxWaitTimeInSeconds
        out.append(
            context.validation(
                "spec.stoppingCondition.maxWaitTimeInSeconds",
                _int_at(walker, ("stoppingCondition", "maxWaitTimeInSeconds"), f"$v <= {limit}"),
                f"over the {limit} seconds the policy allows",
            )
        )
    spot = "object.spec.enableManagedSpotTraining"
    if rule.spot == "required":
        out.append(
            context.validation(
                "spec.enableManagedSpotTraining",
                f"has(object.spec) && has({spot}) && {spot} == true",
                "the policy requires managed spot training: set enableManagedSpotTraining: true "
                "and stoppingCondition.maxWaitTimeInSeconds",
            )
        )
    elif rule.spot == "forbidden":
        out.append(
            context.validation(
                "spec.enableManagedSpotTraining",
                text.implies(f"has(object.spec) && has({spot})", f"{spot} != true"),
                "the policy forbids managed spot training: remove enableManagedSpotTraining or "
                "set it to false",
            )
        )
    return out
