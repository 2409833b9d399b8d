"""TrainingJobPolicy objects of the cluster as policies: loading, the last good version, status.

The webhook's watch (:mod:`webhook.kube.policies`) hands over the objects as the
API server returns them; :class:`ObjectPolicies` turns each into a policy and a
:class:`Verdict`, with no I/O:

* An object is loaded like a policy file (:func:`webhook.policy.load.load_document`):
  its ``status`` is the webhook's and is left out, its ``metadata`` is reduced to
  what a policy file may carry (name, labels, annotations). Errors keep the
  loader's field paths, messages and did-you-mean, without file or line.
* **The last good version stays in force.** When a new generation of an object does
  not load, the generation that last loaded keeps deciding, and the verdict says
  so; deleting the object (or replacing it: a new uid) removes it.
* **Policy ids are unique** across the webhook's files and the cluster's objects.
  The files are the deployment's own configuration, so they win: an object whose
  id is taken by a file is refused (nothing of it is in force) and told where the
  id is loaded from. Two objects cannot share an id: the id is the object's name.
* Each object's verdict becomes a ``Ready`` condition (:func:`ready_condition`):
  True with reason ``Loaded``, or False with ``Invalid`` or ``DuplicateId`` and the
  errors; ``observedGeneration`` is the generation it describes, and
  ``lastTransitionTime`` changes only when the status does.

Compiling is cached per object uid and generation: only changed objects are
compiled again when any object changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from webhook.policy.compiled import CompiledPolicy
from webhook.policy.crd import READY, SINGULAR, Condition
from webhook.policy.load import PolicyError, PolicyLoadError, load_document

LOADED: Final = "Loaded"
INVALID: Final = "Invalid"
DUPLICATE: Final = "DuplicateId"
MAX_ERRORS: Final = 20
"""Errors listed in a condition's message; the rest are counted."""
MAX_MESSAGE: Final = 4096
"""Characters of a condition's message (Kubernetes allows 32768; kubectl shows it whole)."""


@dataclass(frozen=True, slots=True)
class PolicyObject:
    """The parts of a TrainingJobPolicy object the webhook reads."""

    name: str
    uid: str
    generation: int
    resource_version: str
    data: Mapping[str, Any]
    """The whole object, as the API server returned it."""

    @classmethod
    def of(cls, obj: Any) -> PolicyObject | None:
        """*obj* read from the API (None when it has no name: not an object)."""
        metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
        if not isinstance(metadata, Mapping):
            return None
        name = metadata.get("name")
        if not isinstance(name, str) or not name:
            return None
        generation = metadata.get("generation")
        return cls(
            name,
            str(metadata.get("uid") or ""),
            generation if isinstance(generation, int) and not isinstance(generation, bool) else 0,
            str(metadata.get("resourceVersion") or ""),
            obj,
        )

    @property
    def source(self) -> str:
        """How messages name it: ``trainingjobpolicy/<name>``, as kubectl does."""
        return f"{SINGULAR}/{self.name}"

    @property
    def ready(self) -> Mapping[str, Any] | None:
        """Its current ``Ready`` condition, if the status has one."""
        status = self.data.get("status")
        conditions = status.get("conditions") if isinstance(status, Mapping) else None
        for condition in conditions if isinstance(conditions, list) else ():
            if isinstance(condition, Mapping) and condition.get("type") == READY:
                return condition
        return None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the webhook makes of one object's current generation."""

    object: PolicyObject
    ready: bool
    reason: str
    """``Loaded``, ``Invalid`` or ``DuplicateId``."""
    message: str
    policy: CompiledPolicy | None
    """The policy in force for this object: its current generation's, the last good
    one's (when the current one does not load), or None."""


def document_of(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy document of an object: its status left out, its metadata as in a file."""
    document = {key: value for key, value in obj.items() if key != "status"}
    metadata = obj.get("metadata")
    if isinstance(metadata, Mapping):
        document["metadata"] = {
            key: metadata[key] for key in ("name", "labels", "annotations") if key in metadata
        }
    return document


def describe_errors(errors: Sequence[PolicyError]) -> str:
    """The loader's errors in one line, each ``field: message`` (no file, no line)."""
    shown = [f"{e.field}: {e.message}" if e.field else e.message for e in errors[:MAX_ERRORS]]
    more = len(errors) - len(shown)
    text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class ObjectPolicies:
    """The policies of the cluster's TrainingJobPolicy objects (module docstring)."""

    def __init__(self) -> None:
        self._tried: dict[str, tuple[tuple[str, int | str], CompiledPolicy | PolicyLoadError]] = {}
        """Per object name: (uid, generation) and what loading that gave."""
        self._good: dict[str, tuple[str, int, CompiledPolicy]] = {}
        """Per object name: uid, generation and policy of the last generation that loaded."""

    def update(
        self, objects: Iterable[PolicyObject], taken: Mapping[str, str] | None = None
    ) -> list[Verdict]:
        """The verdict on each of *objects*, the cluster's current ones, in name order.

        *taken* maps the ids of the webhook's file policies to where each is
        loaded from. Objects no longer given are forgotten, last good version
        included.
        """
        current = {item.name: item for item in objects}
        for name in set(self._tried) - set(current):
            del self._tried[name]
        for name in set(self._good) - set(current):
            del self._good[name]
        return [self._verdict(current[name], taken or {}) for name in sorted(current)]

    def _verdict(self, item: PolicyObject, taken: Mapping[str, str]) -> Verdict:
        key = (item.uid, item.generation or item.resource_version)
        tried = self._tried.get(item.name)
        if tried is None or tried[0] != key:
            try:
                outcome: CompiledPolicy | PolicyLoadError = load_document(
                    document_of(item.data), item.source
                )
            except PolicyLoadError as error:
                outcome = error
            self._tried[item.name] = (key, outcome)
        else:
            outcome = tried[1]
        good = self._good.get(item.name)
        if good is not None and good[0] != item.uid:
            del self._good[item.name]  # deleted and created again: another object
            good = None
        if isinstance(outcome, CompiledPolicy):
            where = taken.get(outcome.id)
            if where is not None:
                message = (
                    f'policy id "{outcome.id}" is already loaded from {where}; ids must be '
                    "unique: give this policy another id (and metadata.name), or take the other "
                    "out of the webhook's policy files"
                )
                return Verdict(item, False, DUPLICATE, message, None)
            self._good[item.name] = (item.uid, item.generation, outcome)
            document = outcome.document
            count = len(document.rules)
            message = (
                f"version {document.version} in force: {count} "
                f"{'rule' if count == 1 else 'rules'}"
                f"{', defaults' if document.defaults is not None else ''}"
            )
            return Verdict(item, True, LOADED, message, outcome)
        errors = describe_errors(outcome.errors)
        if good is None or good[2].id in taken:
            message = f"{errors}; nothing of this policy is in force"
            return Verdict(item, False, INVALID, message, None)
        kept = good[2]
        message = (
            f"{errors}; the last good generation, {good[1]} (version {kept.document.version}), "
            "stays in force"
        )
        return Verdict(item, False, INVALID, message, kept)


def ready_condition(verdict: Verdict, now: str) -> Condition:
    """The ``Ready`` condition of *verdict*; *now* (RFC 3339) is used when the status changes."""
    status = "True" if verdict.ready else "False"
    previous = verdict.object.ready
    since = now
    if previous is not None and previous.get("status") == status:
        since = str(previous.get("lastTransitionTime") or now)
    return Condition(
        type=READY,
        status=status,
        observedGeneration=verdict.object.generation,
        lastTransitionTime=since,
        reason=verdict.reason,
        message=verdict.message,
    )


def is_reported(verdict: Verdict) -> bool:
    """Whether the object's status already says what *verdict* says."""
    previous = verdict.object.ready
    status = verdict.object.data.get("status")
    observed = status.get("observedGeneration") if isinstance(status, Mapping) else None
    return (
        previous is not None
        and observed == verdict.object.generation
        and previous.get("status") == ("True" if verdict.ready else "False")
        and previous.get("reason") == verdict.reason
        and previous.get("message") == verdict.message
        and previous.get("observedGeneration") == verdict.object.generation
    )


def status_of(verdict: Verdict, now: str) -> dict[str, Any]:
    """The object's new status: ``Ready`` from *verdict*, other conditions as they are.

    Its shape is :class:`webhook.policy.crd.PolicyStatus`'s.
    """
    status = verdict.object.data.get("status")
    conditions = status.get("conditions") if isinstance(status, Mapping) else None
    others = [
        condition
        for condition in (conditions if isinstance(conditions, list) else ())
        if isinstance(condition, Mapping) and condition.get("type") != READY
    ]
    return {
        "observedGeneration": verdict.object.generation,
        "conditions": [*others, ready_condition(verdict, now).model_dump()],
    }
