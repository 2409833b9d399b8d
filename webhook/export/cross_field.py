"""SageMaker's cross-field rules as CEL, one function per rule.

The rules the service model cannot state (:mod:`webhook.constraints.rules`)
each read a few fields of ``spec``: ``sagemaker.spot-max-wait``,
``sagemaker.instance-groups``, ``sagemaker.image-or-algorithm`` and
``sagemaker.data-source``. Each test comes with the webhook's message; the
exporter (:mod:`webhook.export.constraints`) guards it by the size gate.
"""

from __future__ import annotations

from typing import Final, NamedTuple

from webhook.export import text
from webhook.export.walk import Walker
from webhook.model.concepts import ITEMS

_SPEC: Final = "object.spec"


class CrossField(NamedTuple):
    """One test of a cross-field rule, before the exporter guards it."""

    rule: str
    path: str
    """The field the finding is at."""
    expression: str
    """CEL: true when the job keeps the rule."""
    what: str
    """What is wrong when it does not (the message after the path)."""


def cross_field(walker: Walker) -> list[CrossField]:
    """The tests of every cross-field rule."""
    return [*_spot_max_wait(), *_instance_groups(), *_image_or_algorithm(), _data_source(walker)]


def _spot_max_wait() -> list[CrossField]:
    stop = f"{_SPEC}.stoppingCondition"
    wait = f"{stop}.maxWaitTimeInSeconds"
    runtime = f"{stop}.maxRuntimeInSeconds"
    spot = f"{_SPEC}.enableManagedSpotTraining"
    path = "spec.stoppingCondition.maxWaitTimeInSeconds"
    has_wait = text.all_of([f"has({_SPEC})", f"has({stop})", f"has({wait})"])
    return [
        CrossField(
            "sagemaker.spot-max-wait",
            path,
            text.implies(has_wait, f"has({spot}) && {spot} == true"),
            "maxWaitTimeInSeconds is only allowed with enableManagedSpotTraining: true",
        ),
        CrossField(
            "sagemaker.spot-max-wait",
            path,
            text.implies(text.all_of([has_wait, f"has({runtime})"]), f"{wait} >= {runtime}"),
            "less than maxRuntimeInSeconds; maxWaitTimeInSeconds must be equal to or greater",
        ),
    ]


def _instance_groups() -> list[CrossField]:
    config = f"{_SPEC}.resourceConfig"
    groups = f"{config}.instanceGroups"
    has_config = text.all_of([f"has({_SPEC})", f"has({config})"])
    with_groups = f"has({groups}) && size({groups}) > 0"
    exclusive = [
        CrossField(
            "sagemaker.instance-groups",
            f"spec.resourceConfig.{name}",
            text.implies(text.all_of([has_config, with_groups]), f"!has({config}.{name})"),
            f"{name} cannot be set together with instanceGroups",
        )
        for name in ("instanceType", "instanceCount")
    ]
    return [
        *exclusive,
        CrossField(
            "sagemaker.instance-groups",
            "spec.resourceConfig.instanceType",
            text.implies(has_config, text.any_of([with_groups, f"has({config}.instanceType)"])),
            "resourceConfig needs instanceType (with instanceCount) or instanceGroups",
        ),
    ]


def _image_or_algorithm() -> list[CrossField]:
    algorithm = f"{_SPEC}.algorithmSpecification"
    has_algorithm = text.all_of([f"has({_SPEC})", f"has({algorithm})"])
    image, name = f"has({algorithm}.trainingImage)", f"has({algorithm}.algorithmName)"
    return [
        CrossField(
            "sagemaker.image-or-algorithm",
            "spec.algorithmSpecification.algorithmName",
            text.implies(has_algorithm, f"!({image} && {name})"),
            "algorithmName and trainingImage are mutually exclusive; keep one of them",
        ),
        CrossField(
            "sagemaker.image-or-algorithm",
            "spec.algorithmSpecification.trainingImage",
            text.implies(has_algorithm, f"{image} || {name}"),
            "set trainingImage (an ECR image URI) or algorithmName; neither is set",
        ),
    ]


def _data_source(walker: Walker) -> CrossField:
    return CrossField(
        "sagemaker.data-source",
        "spec.inputDataConfig[*].dataSource",
        walker.at(
            ("inputDataConfig", ITEMS, "dataSource"),
            lambda v: f"has({v}.s3DataSource) || has({v}.fileSystemDataSource)",
        ),
        "dataSource needs s3DataSource or fileSystemDataSource; neither is set",
    )
