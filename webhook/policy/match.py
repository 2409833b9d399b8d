"""Which policies apply to a TrainingJob: scope (match / exclude) and exemptions.

Exemptions come only from what the platform team writes in the policy:
request users and groups, namespaces, and an annotation that counts only when
the requesting user belongs to one of the groups the policy names for it.
Nothing the object's author writes exempts an object on its own.

Namespace labels come from the caller (the webhook looks them up; the CLI
takes ``--namespace-label``). When a policy selects on them and they are not
known, the policy is applied (the stricter choice) and the decision carries a
warning that says so, instead of guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from webhook.findings import Action, Finding
from webhook.policy.globs import Globs
from webhook.policy.model import Exemptions, LabelSelector, Scope
from webhook.policy.subject import Subject

LABELS_UNKNOWN: Final = "policy.namespace-labels-unknown"
ANNOTATION_IGNORED: Final = "policy.exemption-ignored"


def selector_matches(selector: LabelSelector, labels: Mapping[str, str]) -> bool:
    """True when *labels* satisfy every term of *selector* (Kubernetes semantics)."""
    for key, wanted in selector.matchLabels.items():
        if labels.get(key) != wanted:
            return False
    for requirement in selector.matchExpressions:
        present = requirement.key in labels
        value = labels.get(requirement.key)
        operator = requirement.operator
        if operator == "In" and (not present or value not in requirement.values):
            return False
        if operator == "NotIn" and present and value in requirement.values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


class ScopeMatcher:
    """A compiled :class:`Scope`."""

    __slots__ = ("_namespace_selector", "_namespaces", "_object_selector")

    def __init__(self, scope: Scope) -> None:
        self._namespaces = Globs(scope.namespaces) if scope.namespaces else None
        self._namespace_selector = scope.namespaceSelector
        self._object_selector = scope.objectSelector

    @property
    def namespace_selector(self) -> LabelSelector | None:
        """The scope's namespace selector, if any."""
        return self._namespace_selector

    @property
    def by_namespace(self) -> bool:
        """True when the scope names namespaces or selects them by label."""
        return self._namespaces is not None or self._namespace_selector is not None

    def matches(self, subject: Subject) -> bool | None:
        """True or False; None when only the unknown namespace labels could tell."""
        if self._namespaces is not None and not self._namespaces.matches(subject.namespace):
            return False
        if self._object_selector is not None and not selector_matches(
            self._object_selector, subject.labels()
        ):
            return False
        if self._namespace_selector is not None:
            labels = subject.context.namespace_labels
            if labels is None:
                return None
            return selector_matches(self._namespace_selector, labels)
        return True


@dataclass(frozen=True, slots=True)
class Applicability:
    """Whether a policy applies to a subject, and any note to pass on to the user."""

    applies: bool
    notes: tuple[Finding, ...] = ()


APPLIES: Final = Applicability(True)
DOES_NOT_APPLY: Final = Applicability(False)


class PolicyScope:
    """Match, exclude and exemptions of one policy, compiled."""

    __slots__ = ("_exclude", "_exempt_namespaces", "_exemptions", "_match", "policy_id")

    def __init__(
        self, policy_id: str, match: Scope, exclude: Scope | None, exemptions: Exemptions
    ) -> None:
        self.policy_id = policy_id
        self._match = ScopeMatcher(match)
        self._exclude = ScopeMatcher(exclude) if exclude is not None else None
        self._exemptions = exemptions
        self._exempt_namespaces = Globs(exemptions.namespaces) if exemptions.namespaces else None

    @property
    def silent(self) -> bool:
        """True when :meth:`check` can never add a note, whatever the subject.

        Notes come from a namespace selector (when the namespace's labels are
        unknown) and from an exemption annotation (set by someone it does not
        exempt); a scope with neither only ever says "applies" or "does not".
        """
        selectors = (self._match, self._exclude)
        no_selector = all(m is None or m.namespace_selector is None for m in selectors)
        return no_selector and self._exemptions.annotation is None

    @property
    def by_namespace(self) -> bool:
        """True when whether the policy applies depends on the job's namespace.

        Its match or exclude names namespaces or selects them by label, or it
        exempts namespaces: checked in the wrong namespace, it may not apply.
        """
        scopes = [self._match, self._exclude]
        return self._exempt_namespaces is not None or any(
            scope is not None and scope.by_namespace for scope in scopes
        )

    def check(self, subject: Subject) -> Applicability:
        """Decide whether the policy applies to *subject*."""
        notes: list[Finding] = []
        matched = self._match.matches(subject)
        if matched is False:
            return DOES_NOT_APPLY
        if matched is None:
            notes.append(self._labels_unknown(subject, "match"))
        if self._exclude is not None:
            excluded = self._exclude.matches(subject)
            if excluded is True:
                return DOES_NOT_APPLY
            if excluded is None:
                notes.append(self._labels_unknown(subject, "exclude"))
        exempt, note = self._exempt(subject)
        if exempt:
            return DOES_NOT_APPLY  # the policy does not apply: nothing to say about it
        if note is not None:
            notes.append(note)
        return Applicability(True, tuple(notes)) if notes else APPLIES

    def _exempt(self, subject: Subject) -> tuple[bool, Finding | None]:
        exemptions = self._exemptions
        context = subject.context
        if context.user is not None and context.user in exemptions.users:
            return True, None
        if exemptions.groups and not set(exemptions.groups).isdisjoint(context.groups):
            return True, None
        if self._exempt_namespaces is not None and self._exempt_namespaces.matches(
            subject.namespace
        ):
            return True, None
        annotation = exemptions.annotation
        if annotation is None:
            return False, None
        annotations = subject.metadata.get("annotations")
        if not isinstance(annotations, dict) or annotation.annotation not in annotations:
            return False, None
        if not set(annotation.groups).isdisjoint(context.groups):
            return True, None
        return False, Finding(
            ANNOTATION_IGNORED,
            ("metadata", "annotations", annotation.annotation),
            f"annotation {annotation.annotation} does not exempt this job from policy "
            f"{self.policy_id}: only members of {', '.join(annotation.groups)} may use it",
            Action.WARN,
        )

    def _labels_unknown(self, subject: Subject, part: str) -> Finding:
        return Finding(
            LABELS_UNKNOWN,
            ("metadata", "namespace"),
            f"the labels of namespace {subject.namespace or '(none)'} are not known, so "
            f"policy {self.policy_id} was applied without its {part} namespaceSelector",
            Action.WARN,
        )
