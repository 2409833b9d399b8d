"""How the engine decides: :class:`Config`, built once and shared by every review."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from webhook.constraints.bounds import RELAXABLE
from webhook.constraints.check import SpecChecker, default_checker
from webhook.constraints.update import DEFAULT_CONTROLLER_USERS
from webhook.findings import Action
from webhook.policy.compiled import EMPTY, PolicySet

#: The actions that admit a job: a rule of SageMaker's bounds set to one of them is relaxed.
LENIENT: Final = frozenset({Action.WARN, Action.AUDIT})


@dataclass(frozen=True, slots=True)
class Config:
    """How the engine decides; built once, shared by every review."""

    actions: Mapping[str, Action] = field(default_factory=dict)
    """Action per rule id, overriding the default (deny) and the policies' choice."""
    checker: SpecChecker = field(default_factory=default_checker)
    """The compiled SageMaker constraints."""
    policies: PolicySet = EMPTY
    """The platform team's policies."""
    mutate: bool = True
    """Apply the policies' defaults on CREATE before validating (as the API server
    would after the mutating webhook); False for a validating-only call."""
    native: bool = True
    """Let the native proof (:mod:`webhook.native`) skip the checks it proves find
    nothing; False runs every check in Python (the reference the tests hold it to)."""
    gate: bool = True
    """Check sizes first and deny what is over its bound unchecked
    (:mod:`webhook.constraints.bounds`); False checks a job of any size in full, at any
    cost (the reference the tests hold the gate to, never for others' input)."""
    controller_users: frozenset[str] = DEFAULT_CONTROLLER_USERS
    """Kubernetes user names of the ACK controller. On UPDATE, only their requests may fill
    in late-initialized fields without that counting as a spec change."""
    relaxable: frozenset[str] = field(init=False, repr=False, compare=False)
    """The rules of SageMaker's bounds relaxed (warn or audit) for some job: by :attr:`actions`,
    or where they leave a rule alone, by the ``apiConstraints`` of some policy. Derived from
    the two; empty (the gate as SageMaker's model has it, for every job) by default."""

    def __post_init__(self) -> None:
        actions, policies = self.actions, self.policies.policies
        relaxable = frozenset(
            rule
            for rule in RELAXABLE
            if lenient(actions.get(rule))
            or (
                rule not in actions
                and any(lenient(policy.document.apiConstraints.get(rule)) for policy in policies)
            )
        )
        object.__setattr__(self, "relaxable", relaxable)


def lenient(action: Action | None) -> bool:
    """True when *action* admits a job (:data:`LENIENT`)."""
    return action in LENIENT
