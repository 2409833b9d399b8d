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
    return [
        *_instance_types(context, rule),
        *_instance_count(context, rule),
        *_volume_size(context, rule),
        *_runtime(context, rule),
        *_wait_time(context, rule),
        *_spot(context, rule),
    ]


def _instance_types(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``instanceTypes``: every instance type field is one the policy allows."""
    if rule.instanceTypes is None:
        return []
    allowed = globs(rule.instanceTypes)
    return [
        context.validation(
            where(pattern),
            string_check(context.walker, pattern, allowed.matches),
            ["not an allowed instance type; allowed: ", *shown(rule.instanceTypes)],
        )
        for pattern in concept_patterns(Concept.INSTANCE_TYPE)
    ]


def _instance_count(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``maxInstanceCount``: the instance count, the instance groups' total, and the others."""
    if rule.maxInstanceCount is None:
        return []
    walker = context.walker
    most = rule.maxInstanceCount
    config = "object.spec.resourceConfig"
    total = f"size({GROUPS}) > {MAX_GROUPS} || ({group_total()}) <= {most}"
    out = [
        context.validation(
            "spec.resourceConfig.instanceCount",
            _int_at(walker, ("resourceConfig", "instanceCount"), f"$v <= {most}"),
            f"more instances than the {most} the policy allows",
        ),
        context.validation(
            "spec.resourceConfig.instanceGroups",
            text.implies(has_groups(config), total),
            f"the instance groups have more instances in all than the {most} the policy allows",
        ),
    ]
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
    return out


def _volume_size(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``maxVolumeSizeInGB``: every volume size field."""
    if rule.maxVolumeSizeInGB is None:
        return []
    largest = rule.maxVolumeSizeInGB
    return [
        context.validation(
            where(field.pattern),
            _int_at(context.walker, field.pattern, f"$v <= {largest}"),
            f"larger than the {largest} GB the policy allows",
        )
        for field in fields(Concept.VOLUME_SIZE)
    ]


def _runtime(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``maxRuntimeInSeconds``: unset counts as SageMaker's default."""
    if rule.maxRuntimeInSeconds is None:
        return []
    limit = rule.maxRuntimeInSeconds
    stopping = "object.spec.stoppingCondition"
    runtime = f"{stopping}.maxRuntimeInSeconds"
    present = f"has(object.spec) && has({stopping}) && has({runtime})"
    unset_ok = text.TRUE if limit >= DEFAULT_MAX_RUNTIME else text.FALSE
    return [
        context.validation(
            "spec.stoppingCondition.maxRuntimeInSeconds",
            f"({present}) ? {runtime} <= {limit} : {unset_ok}",
            f"over the {limit} seconds the policy allows (unset: SageMaker's default of "
            f"{DEFAULT_MAX_RUNTIME} seconds)",
        )
    ]


def _wait_time(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``maxWaitTimeInSeconds``."""
    if rule.maxWaitTimeInSeconds is None:
        return []
    limit = rule.maxWaitTimeInSeconds
    pattern = ("stoppingCondition", "maxWaitTimeInSeconds")
    return [
        context.validation(
            "spec.stoppingCondition.maxWaitTimeInSeconds",
            _int_at(context.walker, pattern, f"$v <= {limit}"),
            f"over the {limit} seconds the policy allows",
        )
    ]


def _spot(context: RuleContext, rule: ResourcesRule) -> list[Validation]:
    """``spot``: managed spot training required or forbidden."""
    spot = "object.spec.enableManagedSpotTraining"
    if rule.spot == "required":
        return [
            context.validation(
                "spec.enableManagedSpotTraining",
                f"has(object.spec) && has({spot}) && {spot} == true",
                "the policy requires managed spot training: set enableManagedSpotTraining: true "
                "and stoppingCondition.maxWaitTimeInSeconds",
            )
        ]
    if rule.spot == "forbidden":
        return [
            context.validation(
                "spec.enableManagedSpotTraining",
                text.implies(f"has(object.spec) && has({spot})", f"{spot} != true"),
                "the policy forbids managed spot training: remove enableManagedSpotTraining or "
                "set it to false",
            )
        ]
    return []
