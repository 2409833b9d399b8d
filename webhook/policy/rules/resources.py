"""Rule kind ``resources``: instance types and counts, volume sizes, run time and spot use.

The fields are found from the typed model (:mod:`webhook.model.concepts`), so
the rule covers every field of its concepts, the debugger and profiler rule
evaluators' included:

* ``instanceTypes`` (globs) applies to every instance type of the job:
  ``resourceConfig.instanceType``, each ``resourceConfig.instanceGroups`` entry,
  and the ``instanceType`` of each ``debugRuleConfigurations`` and
  ``profilerRuleConfigurations`` entry.
* ``maxInstanceCount`` applies to the job's size: ``resourceConfig.instanceCount``
  and, when the job uses instance groups, the sum of their ``instanceCount``
  (reported on ``resourceConfig.instanceGroups``); and to every other instance
  count on its own (``instancePlacementConfig.placementSpecifications``).
* ``maxVolumeSizeInGB`` applies to every volume size: the training instances'
  (``resourceConfig.volumeSizeInGB``) and each rule evaluator's.
* ``maxRuntimeInSeconds`` / ``maxWaitTimeInSeconds`` apply to the fields of
  ``stoppingCondition`` of the same names.
* ``spot: required`` wants ``enableManagedSpotTraining: true``; ``forbidden``
  denies it.

Choices:

* A job without ``stoppingCondition.maxRuntimeInSeconds`` runs up to
  SageMaker's default of one day, so it is reported when that default exceeds
  ``maxRuntimeInSeconds``. A missing ``maxWaitTimeInSeconds`` has no default
  (SageMaker itself requires it with spot training) and is not reported.
* ``instanceTypes`` that is empty, or has a glob that cannot match an
  instance type (``m5.*``: they all start with ``ml.``), is a policy error.
* Values of the wrong type (``instanceCount: "2"``) are skipped: the CRD's type
  check reports them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from webhook.model.concepts import (
    ITEMS,
    Concept,
    concept_values,
    fields,
    schema_at,
    values_at,
)
from webhook.native import Schema, at, on_spec, required_at
from webhook.paths import Path
from webhook.policy.globs import Globs, can_start_with, native_regex
from webhook.policy.model import ResourcesRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show, suggestion

DEFAULT_MAX_RUNTIME: Final = 86400
"""SageMaker's ``MaxRuntimeInSeconds`` when the request leaves it out (one day)."""

_RESOURCES: Final[Path] = ("spec", "resourceConfig")
#: The instance counts that make up the job's size (the rest are checked one by one).
_SIZE: Final = frozenset(
    {
        ("resourceConfig", "instanceCount"),
        ("resourceConfig", "instanceGroups", ITEMS, "instanceCount"),
    }
)
_STOPPING: Final[Path] = ("spec", "stoppingCondition")
_SPOT: Final[Path] = ("spec", "enableManagedSpotTraining")


def _int(value: Any) -> int | None:
    """*value* when it is an integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def duration(seconds: int) -> str:
    """Render *seconds* the short way: ``1d``, ``2h``, ``1h30m``, ``45s``."""
    if seconds <= 0:
        return f"{seconds}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts)


def _seconds(value: int) -> str:
    return f"{value} seconds ({duration(value)})"


def _mapping(value: Any) -> Mapping[str, Any] | None:
    """*value* when it is a map, {} when absent, None when of the wrong type."""
    if value is None:
        return {}
    return value if isinstance(value, dict) else None


def _spot(spot: str, enabled: Any) -> Iterator[Violation]:
    if spot == "required" and (enabled is None or enabled is False):
        yield Violation(
            _SPOT,
            "the policy requires managed spot training: set enableManagedSpotTraining: "
            "true and stoppingCondition.maxWaitTimeInSeconds",
        )
    elif spot == "forbidden" and enabled is True:
        yield Violation(
            _SPOT,
            "the policy forbids managed spot training: remove enableManagedSpotTraining "
            "or set it to false",
        )


@dataclass(frozen=True, slots=True)
class _Limits:
    """A ``resources`` rule, compiled."""

    types: Globs | None
    max_count: int | None
    max_volume: int | None
    max_runtime: int | None
    max_wait: int | None

    def instance_type(self, value: Any, path: Path, subject: Subject) -> Iterator[Violation]:
        """An instance type outside the allowed globs."""
        types = self.types
        if types is not None and isinstance(value, str) and not types.matches(value, subject):
            allowed = types.describe(subject) or "none"
            yield Violation(
                path, f"{show(value)} is not an allowed instance type; allowed: {allowed}"
            )

    def resources(self, spec: Mapping[str, Any], subject: Subject) -> Iterator[Violation]:
        """The problems of the instance types, counts and volume sizes of *spec*."""
        if self.types is not None:
            for path, value in concept_values(spec, Concept.INSTANCE_TYPE):
                yield from self.instance_type(value, path, subject)
        max_count = self.max_count
        if max_count is not None:
            yield from _size(spec.get("resourceConfig"), max_count)
            for field in fields(Concept.INSTANCE_COUNT):
                if field.pattern in _SIZE:
                    continue
                for path, value in values_at(spec, field.pattern):
                    count = _int(value)
                    if count is not None and count > max_count:
                        yield Violation(
                            path, f"{count} instances; the policy allows at most {max_count}"
                        )
        max_volume = self.max_volume
        if max_volume is not None:
            for path, value in concept_values(spec, Concept.VOLUME_SIZE):
                volume = _int(value)
                if volume is not None and volume > max_volume:
                    yield Violation(path, f"{volume} GB; the policy allows at most {max_volume} GB")

    def stopping(self, condition: Mapping[str, Any]) -> Iterator[Violation]:
        """The problems of ``stoppingCondition``."""
        max_runtime = self.max_runtime
        if max_runtime is not None:
            path = (*_STOPPING, "maxRuntimeInSeconds")
            runtime = condition.get("maxRuntimeInSeconds")
            if runtime is None and max_runtime < DEFAULT_MAX_RUNTIME:
                yield Violation(
                    path,
                    f"not set, so SageMaker's default of {_seconds(DEFAULT_MAX_RUNTIME)} "
                    f"applies; the policy allows at most {_seconds(max_runtime)}",
                )
            elif (value := _int(runtime)) is not None and value > max_runtime:
                yield Violation(
                    path, f"{_seconds(value)}; the policy allows at most {_seconds(max_runtime)}"
                )
        wait = _int(condition.get("maxWaitTimeInSeconds"))
        if self.max_wait is not None and wait is not None and wait > self.max_wait:
            yield Violation(
                (*_STOPPING, "maxWaitTimeInSeconds"),
                f"{_seconds(wait)}; the policy allows at most {_seconds(self.max_wait)}",
            )


def _size(config: Any, max_count: int) -> Iterator[Violation]:
    """The job's size: ``resourceConfig.instanceCount``, or the sum of its instance groups."""
    if not isinstance(config, dict):
        return
    count = _int(config.get("instanceCount"))
    if count is not None and count > max_count:
        yield Violation(
            (*_RESOURCES, "instanceCount"),
            f"{count} instances; the policy allows at most {max_count}",
        )
    groups = config.get("instanceGroups")
    if isinstance(groups, list) and groups:
        total = sum(_int(g.get("instanceCount")) or 0 for g in groups if isinstance(g, dict))
        if total > max_count:
            yield Violation(
                (*_RESOURCES, "instanceGroups"),
                f"the instance groups have {total} instances in all; "
                f"the policy allows at most {max_count}",
            )


def _instance_types(patterns: list[str] | None) -> Globs | None:
    """Compile the allowed instance types, rejecting globs that can never match."""
    if patterns is None:
        return None
    if not patterns:
        raise RuleConfigError(
            "instanceTypes", "is empty: no job could pass; leave it out to allow any type"
        )
    for pattern in patterns:
        if not can_start_with(pattern, "ml."):
            fixed = "ml." + (pattern[3:] if pattern.lower().startswith("ml.") else pattern)
            raise RuleConfigError(
                "instanceTypes",
                f"{show(pattern)} can never match: SageMaker instance types start with "
                f"ml.{suggestion([fixed])}",
            )
    return Globs(patterns)


def compile_rule(rule: ResourcesRule) -> Check:
    """Compile a ``resources`` rule into a check."""
    limits = _Limits(
        _instance_types(rule.instanceTypes),
        rule.maxInstanceCount,
        rule.maxVolumeSizeInGB,
        rule.maxRuntimeInSeconds,
        rule.maxWaitTimeInSeconds,
    )
    check_resources = (
        limits.types is not None or limits.max_count is not None or limits.max_volume is not None
    )
    check_stopping = limits.max_runtime is not None or limits.max_wait is not None
    spot = rule.spot

    def check(subject: Subject) -> Iterator[Violation]:
        spec = subject.spec
        if check_resources:
            yield from limits.resources(spec, subject)
        if check_stopping:
            condition = _mapping(spec.get("stoppingCondition"))
            if condition is not None:
                yield from limits.stopping(condition)
        if spot != "allowed":
            yield from _spot(spot, spec.get("enableManagedSpotTraining"))

    return check


def native_schema(rule: ResourcesRule) -> Schema | None:
    """A job this rule finds nothing in (:mod:`webhook.native`); None with templated types.

    Built from the same fields as the check (:mod:`webhook.model.concepts`).
    Stricter than the check where JSON Schema cannot add up: at most one
    instance group, whose count is within ``maxInstanceCount``; limits apply
    to any number, not only to whole ones.
    """
    parts: list[Schema] = []
    if rule.instanceTypes is not None:
        types = native_regex(rule.instanceTypes)
        if types is None:
            return None
        parts.extend(
            schema_at(field.pattern, {"pattern": types}) for field in fields(Concept.INSTANCE_TYPE)
        )
    if rule.maxInstanceCount is not None:
        most = {"maximum": rule.maxInstanceCount}
        parts.extend(schema_at(field.pattern, most) for field in fields(Concept.INSTANCE_COUNT))
        parts.append(at(("resourceConfig",), {"properties": {"instanceGroups": {"maxItems": 1}}}))
    if rule.maxVolumeSizeInGB is not None:
        largest = {"maximum": rule.maxVolumeSizeInGB}
        parts.extend(schema_at(field.pattern, largest) for field in fields(Concept.VOLUME_SIZE))
    if rule.maxRuntimeInSeconds is not None:
        runtime = {"maximum": rule.maxRuntimeInSeconds}
        if rule.maxRuntimeInSeconds < DEFAULT_MAX_RUNTIME:
            parts.append(required_at(("stoppingCondition", "maxRuntimeInSeconds"), runtime))
        else:
            parts.append(at(("stoppingCondition", "maxRuntimeInSeconds"), runtime))
    if rule.maxWaitTimeInSeconds is not None:
        wait = {"maximum": rule.maxWaitTimeInSeconds}
        parts.append(at(("stoppingCondition", "maxWaitTimeInSeconds"), wait))
    if rule.spot == "required":
        parts.append(required_at(("enableManagedSpotTraining",), {"enum": [True]}))
    elif rule.spot == "forbidden":
        parts.append(at(("enableManagedSpotTraining",), {"not": {"enum": [True]}}))
    return on_spec(*parts)
