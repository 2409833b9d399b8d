"""SageMaker rules that the service model cannot express.

Each rule reads a few fields of ``spec`` and is documented in the API
reference (CreateTrainingJob and the shapes it uses); the rule ids are
stable and listed in docs/rules.md (from :mod:`webhook.catalog`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from webhook.findings import Finding

Spec = Mapping[str, Any]


def _block(spec: Spec, name: str) -> Mapping[str, Any]:
    value = spec.get(name)
    return value if isinstance(value, dict) else {}


def _int(block: Mapping[str, Any], name: str) -> int | None:
    value = block.get(name)
    return value if type(value) is int else None


def spot_max_wait(spec: Spec) -> Iterator[Finding]:
    """``maxWaitTimeInSeconds`` needs managed spot, and must cover ``maxRuntimeInSeconds``."""
    stopping = _block(spec, "stoppingCondition")
    max_wait = _int(stopping, "maxWaitTimeInSeconds")
    if max_wait is None:
        return
    path = ("spec", "stoppingCondition", "maxWaitTimeInSeconds")
    if spec.get("enableManagedSpotTraining") is not True:
        yield Finding(
            "sagemaker.spot-max-wait",
            path,
            "maxWaitTimeInSeconds is only allowed with enableManagedSpotTraining: true; "
            "set spec.enableManagedSpotTraining: true or remove maxWaitTimeInSeconds",
        )
    max_runtime = _int(stopping, "maxRuntimeInSeconds")
    if max_runtime is not None and max_wait < max_runtime:
        yield Finding(
            "sagemaker.spot-max-wait",
            path,
            f"{max_wait} is less than maxRuntimeInSeconds ({max_runtime}); "
            "maxWaitTimeInSeconds must be equal to or greater than it",
        )


def instance_groups(spec: Spec) -> Iterator[Finding]:
    """``instanceGroups`` replaces ``instanceType`` and ``instanceCount``; one of them is needed."""
    resources = spec.get("resourceConfig")
    if not isinstance(resources, dict):
        return
    groups = resources.get("instanceGroups")
    base = ("spec", "resourceConfig")
    if groups:
        for name in ("instanceType", "instanceCount"):
            if resources.get(name) is not None:
                yield Finding(
                    "sagemaker.instance-groups",
                    (*base, name),
                    f"{name} cannot be set together with instanceGroups: "
                    "give the type and count of each group in instanceGroups instead",
                )
    elif resources.get("instanceType") is None:
        yield Finding(
            "sagemaker.instance-groups",
            (*base, "instanceType"),
            "resourceConfig needs instanceType (with instanceCount) or instanceGroups; "
            "neither is set",
        )


def image_or_algorithm(spec: Spec) -> Iterator[Finding]:
    """Exactly one of ``trainingImage`` and ``algorithmName``."""
    algorithm = spec.get("algorithmSpecification")
    if not isinstance(algorithm, dict):
        return
    image = algorithm.get("trainingImage") is not None
    name = algorithm.get("algorithmName") is not None
    base = ("spec", "algorithmSpecification")
    if image and name:
        yield Finding(
            "sagemaker.image-or-algorithm",
            (*base, "algorithmName"),
            "algorithmName and trainingImage are mutually exclusive; keep one of them",
        )
    elif not image and not name:
        yield Finding(
            "sagemaker.image-or-algorithm",
            (*base, "trainingImage"),
            "set trainingImage (an ECR image URI) or algorithmName; neither is set",
        )


def data_source(spec: Spec) -> Iterator[Finding]:
    """Every input channel names where its data is: S3 or a file system."""
    channels = spec.get("inputDataConfig")
    if not isinstance(channels, list):
        return
    for index, channel in enumerate(channels):
        if not isinstance(channel, dict):
            continue
        source = channel.get("dataSource")
        if not isinstance(source, dict):
            continue
        if source.get("s3DataSource") is None and source.get("fileSystemDataSource") is None:
            yield Finding(
                "sagemaker.data-source",
                ("spec", "inputDataConfig", index, "dataSource"),
                "dataSource needs s3DataSource or fileSystemDataSource; neither is set",
            )


RULES: Final[tuple[Callable[[Spec], Iterator[Finding]], ...]] = (
    spot_max_wait,
    instance_groups,
    image_or_algorithm,
    data_source,
)

#: The rules the native proof of the built-in checks cannot state (it compares two
#: numbers): they run even on a proven job (:mod:`webhook.constraints.proof`).
UNPROVEN: Final = (spot_max_wait,)


def check_rules(
    spec: Spec, rules: tuple[Callable[[Spec], Iterator[Finding]], ...] = RULES
) -> list[Finding]:
    """Return the findings of every cross-field rule (or of *rules*)."""
    return [finding for rule in rules for finding in rule(spec)]
