"""What an UPDATE of a TrainingJob may change, as the ACK sagemaker-controller decides it.

A SageMaker training job cannot be edited after creation. The ACK controller
(v1.9.1) compares the spec with DescribeTrainingJob on every reconcile and
calls UpdateTrainingJob for two things only, never both at once: the warm pool
(``resourceConfig.keepAlivePeriodInSeconds``, only on a job created with one)
and the profiler (``profilerConfig`` / ``profilerRuleConfigurations``). Any
other spec change puts the resource into ``ACK.Terminal``. This module tells
that to the user at admission time, comparing the old and the new spec:

* ``update.immutable`` (deny): any other spec field changed; one finding per
  changed leaf (``spec.resourceConfig.instanceType``,
  ``spec.hyperParameters[eta]``...). Values of ``hyperParameters`` and
  ``environment`` are never shown, only that a key was added, removed or changed.
* ``update.warm-pool`` (deny): ``keepAlivePeriodInSeconds`` added to a job
  created without one, or removed from one created with one (the controller
  would send UpdateTrainingJob without it and SageMaker rejects that, retried
  forever; setting it to 0 releases the pool instead).
* ``update.profiler-rules`` (deny): an existing entry of
  ``profilerRuleConfigurations`` removed, changed, moved, or a new rule reusing an
  existing name. New rules may only be appended at the end (the controller
  sends only rules whose name SageMaker does not have yet, and compares the
  whole list in order afterwards).
* ``update.profiler-removed`` (warn): only one of ``profilerConfig`` and
  ``profilerRuleConfigurations`` removed. The controller then turns the whole
  profiler off (DisableProfiler), as its own unit tests ``RemoveProfilerRule``
  and ``RemoveProfilerConfig`` show, and ignores the half left in the spec.
* ``update.warm-pool-and-profiler`` (deny): both changed in one update.
* ``update.not-propagated`` (warn): ``tags`` or
  ``algorithmSpecification.metricDefinitions`` changed; the controller leaves
  both out of its comparison, so the change stays in Kubernetes only.

Choices made here (the caller documents them):

* Late-initialized fields (``LATE_INITIALIZED``) going from absent to a value
  are the controller's own late-initialization patch only when the controller
  sends it (``by_controller``: the caller decides that from the requesting
  user, :attr:`webhook.engine.Config.controller_users`). From anyone else, or
  when the caller does not know who asks, that is a spec change like any other
  (``update.immutable``): the controller cannot apply the value to the running
  job (it marks the job ACK.Terminal when the value differs from what SageMaker
  reports), and taking it for bookkeeping would let anyone put another
  account's ``outputDataConfig.kmsKeyID`` or a million instances into the spec
  past every check. A value that changes, or is removed again, is a change
  whoever sends it: the controller would compare the now-missing field with
  what DescribeTrainingJob reports.
* "Absent", ``null``, ``{}`` and ``[]`` are the same thing (the controller
  compares lists and maps by length and content, and the API server drops
  nulls), and so are the controller's defaults: an absent
  ``inputDataConfig[].recordWrapperType`` equals ``"None"``, an absent
  ``volumeSizeInGB`` of a debug or profiler rule equals 0. Booleans never equal
  numbers; ``1`` equals ``1.0``.
* Only the spec is compared. Outcomes that depend on the job's state (a warm
  pool changes only once the job Completed and while the pool is Available or
  InUse; the profiler only while the job is InProgress) are not checked, so the
  result is the same for a manifest in CI and an object in a cluster.
* ``spec_unchanged`` is strict: a change of ``tags`` or of ``metricDefinitions``
  makes it False (with a warning and no denial).

Pure and cheap: no I/O, no copies of the objects; the cost is one walk of the
two specs. The comparison (what is the same to the controller, which leaves
changed, how a change is told) is :mod:`webhook.constraints.update_diff`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from webhook.constraints.update_diff import (
    ITEM_DEFAULTS,
    blank,
    describe,
    describe_change,
    diff,
    equal,
    identical,
    or_default,
    spec_of,
    value_at,
)
from webhook.findings import Action, Finding
from webhook.paths import Path, format_path
from webhook.text import show

IMMUTABLE: Final = "update.immutable"
WARM_POOL: Final = "update.warm-pool"
PROFILER_RULES: Final = "update.profiler-rules"
PROFILER_REMOVED: Final = "update.profiler-removed"
WARM_POOL_AND_PROFILER: Final = "update.warm-pool-and-profiler"
NOT_PROPAGATED: Final = "update.not-propagated"

#: The Kubernetes user the ACK sagemaker-controller runs as with its Helm chart's defaults
#: (service account ``ack-sagemaker-controller`` in namespace ``ack-system``).
ACK_CONTROLLER_USER: Final = "system:serviceaccount:ack-system:ack-sagemaker-controller"
DEFAULT_CONTROLLER_USERS: Final = frozenset({ACK_CONTROLLER_USER})

#: Fields the controller fills in after creation (absent -> value is no change when the
#: controller does it, see ``review_update``'s *by_controller*).
LATE_INITIALIZED: Final[frozenset[Path]] = frozenset(
    {
        ("spec", "enableInterContainerTrafficEncryption"),
        ("spec", "enableManagedSpotTraining"),
        ("spec", "enableNetworkIsolation"),
        ("spec", "algorithmSpecification", "enableSageMakerMetricsTimeSeries"),
        ("spec", "outputDataConfig", "kmsKeyID"),
        ("spec", "outputDataConfig", "compressionType"),
        ("spec", "resourceConfig", "instanceCount"),
    }
)
_NOTHING: Final[frozenset[Path]] = frozenset()

_KEEP_ALIVE: Final[Path] = ("spec", "resourceConfig", "keepAlivePeriodInSeconds")
_PROFILER_CONFIG: Final[Path] = ("spec", "profilerConfig")
_PROFILER_RULES: Final[Path] = ("spec", "profilerRuleConfigurations")
_TAGS: Final[Path] = ("spec", "tags")
_METRICS: Final[Path] = ("spec", "algorithmSpecification", "metricDefinitions")

#: Fields the generic comparison leaves to a dedicated check.
_HANDLED: Final[frozenset[Path]] = frozenset(
    {_KEEP_ALIVE, _PROFILER_CONFIG, _PROFILER_RULES, _TAGS, _METRICS}
)

_TERMINAL: Final = "the ACK controller would mark the job ACK.Terminal"
_RECREATE: Final = "create a new TrainingJob instead"
_NOT_SENT: Final = {
    _TAGS: ("tags", "tags"),
    _METRICS: ("spec.algorithmSpecification.metricDefinitions", "metric definitions"),
}


@dataclass(frozen=True, slots=True)
class UpdateReview:
    """The verdict on one UPDATE: whether the spec changed, and the findings."""

    spec_unchanged: bool
    """True when old and new spec are equal, late-initialized fields filled in by the controller
    aside (only with *by_controller*)."""
    findings: tuple[Finding, ...]
    """Denials and warnings, in the order: immutable fields, warm pool, profiler, warnings."""


def spec_unchanged(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """True when *old* and *new* have the same spec, as JSON byte for byte.

    The test :func:`review_update` starts with (metadata or status edits). It
    walks nothing in Python: orjson writes both specs out, which takes a few
    milliseconds for the largest request the API server accepts.
    """
    return identical(spec_of(old), spec_of(new))


def review_update(
    old: Mapping[str, Any], new: Mapping[str, Any], *, by_controller: bool = False
) -> UpdateReview:
    """Compare the spec of *old* and *new* the way the ACK controller would treat the change.

    *by_controller*: the update comes from the ACK controller itself, so a
    late-initialized field going from absent to a value is its bookkeeping, not
    a change. False (the default, and the answer for an unknown requester):
    that is a change like any other.
    """
    old_spec = spec_of(old)
    new_spec = spec_of(new)
    if identical(old_spec, new_spec):  # the common case (metadata or status edits)
        return UpdateReview(True, ())
    changes: list[tuple[Path, object, object]] = []
    late = LATE_INITIALIZED if by_controller else _NOTHING
    diff(old_spec, new_spec, ("spec",), None, changes, late=late, handled=_HANDLED)
    denials = [_immutable(path, before, after) for path, before, after in changes]
    warnings: list[Finding] = []
    changed = bool(denials)

    for path, (what, kept) in _NOT_SENT.items():
        if not equal(value_at(old_spec, path), value_at(new_spec, path)):
            changed = True
            warnings.append(
                Finding(
                    NOT_PROPAGATED,
                    path,
                    f"the ACK controller does not send changes of {what} to SageMaker after "
                    f"creation; the job keeps the {kept} it was created with",
                    Action.WARN,
                )
            )

    warm_pool = _warm_pool(value_at(old_spec, _KEEP_ALIVE), value_at(new_spec, _KEEP_ALIVE))
    if warm_pool is not None:
        changed = True
        denials.extend(warm_pool)

    profiler = _profiler(old_spec, new_spec)
    if profiler is not None:
        changed = True
        for finding in profiler:
            (denials if finding.action is Action.DENY else warnings).append(finding)

    if warm_pool is not None and profiler is not None:
        denials.append(
            Finding(
                WARM_POOL_AND_PROFILER,
                _KEEP_ALIVE,
                "the warm pool (spec.resourceConfig.keepAlivePeriodInSeconds) and the profiler "
                f"cannot change in the same update: {_TERMINAL}; change one of them, let the "
                "job sync, then the other",
            )
        )

    return UpdateReview(spec_unchanged=not changed, findings=(*denials, *warnings))


def _immutable(path: Path, before: object, after: object) -> Finding:
    where = format_path(path)
    if path in LATE_INITIALIZED and after is None:
        hint = (
            "the ACK controller filled it in after creation (late initialization) and would "
            "mark the job ACK.Terminal without it; keep the value it set"
        )
    elif path in LATE_INITIALIZED and before is None:
        hint = (
            "only the ACK controller fills it in (late initialization, from what SageMaker "
            "reports); it cannot apply a value anyone else sets to the running job, and would "
            f"mark the job ACK.Terminal if the value differs; {_RECREATE}"
        )
    elif path == ("spec", "trainingJobName"):
        hint = f"it names the SageMaker job the ACK controller manages; {_RECREATE}"
    else:
        hint = f"{_TERMINAL}; {_RECREATE}"
    return Finding(
        IMMUTABLE,
        path,
        f"{where} cannot change after creation ({describe_change(path, before, after)}): {hint}",
    )


# --- warm pool -------------------------------------------------------------------------


def _warm_pool(before: object, after: object) -> list[Finding] | None:
    """Return None when the warm pool did not change, else its findings (maybe none)."""
    if equal(before, after):
        return None
    change = describe_change(_KEEP_ALIVE, before, after)
    if before is None:
        return [
            Finding(
                WARM_POOL,
                _KEEP_ALIVE,
                f"a warm pool can only be changed on a job created with one ({change}): "
                f"{_TERMINAL}; {_RECREATE}, with a warm pool",
            )
        ]
    if after is None:
        return [
            Finding(
                WARM_POOL,
                _KEEP_ALIVE,
                f"spec.resourceConfig.keepAlivePeriodInSeconds cannot be removed ({change}): "
                "SageMaker rejects the request the ACK controller would then send, again "
                "and again; change it to 0 to release the warm pool instead",
            )
        ]
    return []


# --- profiler --------------------------------------------------------------------------


def _profiler(old_spec: Mapping[Any, Any], new_spec: Mapping[Any, Any]) -> list[Finding] | None:
    """Return None when the profiler did not change, else its findings (maybe none)."""
    old_config = value_at(old_spec, _PROFILER_CONFIG)
    new_config = value_at(new_spec, _PROFILER_CONFIG)
    old_rules = value_at(old_spec, _PROFILER_RULES)
    new_rules = value_at(new_spec, _PROFILER_RULES)
    defaults = ITEM_DEFAULTS["profilerRuleConfigurations"]
    rules_changed = not equal(old_rules, new_rules, defaults)
    if equal(old_config, new_config) and not rules_changed:
        return None

    rules_removed = old_rules is not None and new_rules is None
    config_removed = old_config is not None and new_config is None
    if rules_removed or config_removed:
        # The controller's isProfilerRemoved: either half gone turns the profiler off.
        if new_rules is None and new_config is None:
            return []
        gone, left = (
            (_PROFILER_RULES, _PROFILER_CONFIG)
            if rules_removed
            else (_PROFILER_CONFIG, _PROFILER_RULES)
        )
        return [
            Finding(
                PROFILER_REMOVED,
                gone,
                f"removing {format_path(gone)} turns the whole profiler off: the ACK "
                f"controller disables profiling and ignores {format_path(left)}, which stays "
                "in the spec without effect; remove it too",
                Action.WARN,
            )
        ]

    if old_rules is None or not rules_changed:
        return []  # a profiler or rules added, or only profilerConfig changed
    if not isinstance(old_rules, list | tuple) or not isinstance(new_rules, list | tuple):
        return [
            Finding(
                PROFILER_RULES,
                _PROFILER_RULES,
                f"spec.profilerRuleConfigurations cannot change this way "
                f"({describe_change(_PROFILER_RULES, old_rules, new_rules)}): {_TERMINAL}",
            )
        ]
    return list(_rule_findings(old_rules, new_rules, defaults))


def _rule_name(rule: object) -> str | None:
    name = rule.get("ruleConfigurationName") if isinstance(rule, Mapping) else None
    return name if isinstance(name, str) else None


def _rule_label(rule: object, index: int) -> str:
    name = _rule_name(rule)
    return f"profiler rule {show(name)}" if name is not None else f"profiler rule #{index}"


_RULES_HINT: Final = (
    f"{_TERMINAL}; existing rules must stay as they are, new rules (with new names) go at the "
    "end, or remove profilerConfig and all rules to turn the profiler off"
)


def _rule_findings(
    old: list[Any] | tuple[Any, ...],
    new: list[Any] | tuple[Any, ...],
    defaults: Mapping[str, object],
) -> Iterator[Finding]:
    """Yield a finding for each existing rule removed, moved or changed, and each reused name."""
    position: dict[str, int] = {}
    for index, rule in enumerate(new):
        name = _rule_name(rule)
        if name is not None:
            position.setdefault(name, index)
    removed = 0
    for index, rule in enumerate(old):
        label = _rule_label(rule, index)
        name = _rule_name(rule)
        at = index if name is None else position.get(name)
        if at is None or at >= len(new):
            removed += 1
            yield Finding(
                PROFILER_RULES,
                (*_PROFILER_RULES, index),
                f"{label} cannot be removed: {_RULES_HINT}",
            )
        elif at not in (index, index - removed):
            # A shift explained by the removals reported above is not a move of its own.
            yield Finding(
                PROFILER_RULES,
                (*_PROFILER_RULES, at),
                f"{label} cannot move (from position {index} to {at}): {_RULES_HINT}",
            )
        elif not equal(rule, new[at], defaults):
            yield Finding(
                PROFILER_RULES,
                (*_PROFILER_RULES, at),
                f"{label} cannot change ({_changed_fields(rule, new[at], defaults)}): "
                f"{_RULES_HINT}",
            )
    for index in range(len(old), len(new)):
        name = _rule_name(new[index])
        if name is not None and position.get(name) != index:  # an earlier rule has it
            yield Finding(
                PROFILER_RULES,
                (*_PROFILER_RULES, index),
                f"new profiler rule #{index} reuses the ruleConfigurationName {show(name)}: "
                f"give it a name no other rule has; {_TERMINAL}",
            )


def _changed_fields(old: object, new: object, defaults: Mapping[str, object]) -> str:
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return f"{describe(blank(old))} -> {describe(blank(new))}"
    fields = sorted(
        str(key)
        for key in old.keys() | new.keys()
        if not equal(
            or_default(old.get(key), defaults.get(key) if isinstance(key, str) else None),
            or_default(new.get(key), defaults.get(key) if isinstance(key, str) else None),
        )
    )
    return ", ".join(fields) + " changed"
