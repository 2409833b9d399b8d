"""One stored TrainingJob judged as the webhook would judge it today.

A stored object already had the defaults applied when it was created, so it is
reviewed as a CREATE without them (``mutate=False``), with its namespace's labels
looked up. Beside the decision, :class:`Examined` says which policies applied to the
job, so that a report can also say where a job complies (a PolicyReport's ``pass``),
and whether the size gate stopped the checks (then nothing else was checked, and
nothing may be said to pass).

Jobs are examined one at a time and nothing here keeps them: a caller that consumes
:func:`examine` as it goes holds one job at a time, whatever the cluster's size.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from webhook.constraints.bounds import UNCHECKED
from webhook.engine import Config, Context, review
from webhook.findings import Decision
from webhook.model import API_VERSION, KIND
from webhook.policy.compiled import CompiledPolicy
from webhook.policy.subject import Subject

__all__ = [
    "BUILTIN_POLICY",
    "Examined",
    "JobReference",
    "NamespaceLabelLookup",
    "examine",
    "examine_one",
    "for_audit",
    "policy_of",
]

NamespaceLabelLookup = Callable[[str], Mapping[str, str] | None]
"""A namespace's labels, or None when they are not known."""

BUILTIN_POLICY: Final = "trainingjob-guard.builtin"
"""The policy name reports give the built-in checks (``sagemaker.*``, ``crd.*``, ``k8s.name``,
``placeholder``, ``guard.*``) and selection's notes (``policy.*``). A policy id has no dot,
so no policy of a platform team can take this name."""


@dataclass(frozen=True, slots=True)
class JobReference:
    """Which TrainingJob: what a report needs to point at it."""

    namespace: str
    name: str
    uid: str = ""
    """The object's ``metadata.uid`` ("" for a manifest never stored)."""
    api_version: str = API_VERSION
    kind: str = KIND


@dataclass(frozen=True, slots=True)
class Examined:
    """The decision on one stored TrainingJob, and what it was judged against."""

    job: JobReference
    decision: Decision
    policies: tuple[CompiledPolicy, ...]
    """The policies that applied to the job (empty when the size gate stopped the checks)."""
    checked: bool
    """False when the size gate denied the job unchecked: only its findings are known."""
    obj: Mapping[str, Any]
    """The job itself, for a consumer that must read it now (not to be kept)."""

    @property
    def allowed(self) -> bool:
        """Whether the webhook would admit the job today."""
        return self.decision.allowed


def for_audit(config: Config) -> Config:
    """*config* as an audit uses it: no defaults applied (the stored object has them)."""
    return config if not config.mutate else dataclasses.replace(config, mutate=False)


def examine_one(obj: Mapping[str, Any], config: Config, labels: NamespaceLabelLookup) -> Examined:
    """Review *obj* as a CREATE of today under *config* (use :func:`for_audit` first)."""
    metadata = obj.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    namespace = _text(metadata.get("namespace"))
    job = JobReference(
        namespace,
        _text(metadata.get("name")),
        _text(metadata.get("uid")),
        _text(obj.get("apiVersion")) or API_VERSION,
        _text(obj.get("kind")) or KIND,
    )
    namespace_labels = _safe_labels(labels, namespace) if namespace else None
    context = Context("CREATE", namespace=namespace or None, namespace_labels=namespace_labels)
    decision = review(obj, context=context, config=config)
    checked = not any(finding.message.endswith(UNCHECKED) for finding in decision.findings)
    policies: tuple[CompiledPolicy, ...] = ()
    if checked and config.policies:
        # Selection reads the request and the metadata only: the engine's own choice.
        policies = config.policies.select(Subject.of(obj, context)).policies
    return Examined(job, decision, policies, checked, obj)


def examine(
    objects: Iterable[Mapping[str, Any]], config: Config, labels: NamespaceLabelLookup
) -> Iterator[Examined]:
    """Yield the :class:`Examined` of every object, one at a time, in the objects' order."""
    config = for_audit(config)
    for obj in objects:
        yield examine_one(obj, config, labels)


def policy_of(rule: str) -> tuple[str, str]:
    """The policy and the rule of a finding's rule id, as reports name them.

    ``tenancy/roles`` is rule ``roles`` of policy ``tenancy``; a built-in rule
    (``sagemaker.enum``) is itself of :data:`BUILTIN_POLICY`.
    """
    policy, slash, name = rule.partition("/")
    return (policy, name) if slash else (BUILTIN_POLICY, rule)


def _safe_labels(labels: NamespaceLabelLookup, namespace: str) -> Mapping[str, str] | None:
    try:
        return labels(namespace)
    except Exception:  # unknown labels are reported by the engine, never guessed
        return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
