"""What proves a CREATE clean under one configuration: the webhook's fast path.

:func:`clean_create` says which schemas and guards a job must hold for
:func:`webhook.engine.review` to find nothing in it, from the policy set's own
selection, so the server (:mod:`webhook.server.fast`) never re-derives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webhook.constraints.proof import NO_MAX_WAIT
from webhook.engine.builtin import builtin_schema_of
from webhook.engine.config import Config
from webhook.native import Guard, Proof, Schema
from webhook.policy.subject import namespace_of


@dataclass(frozen=True, slots=True)
class CleanCreate:
    """What proves, for one configuration, that a CREATE has nothing to report.

    The webhook's fast path (:mod:`webhook.server.fast`) compiles :attr:`schemas`
    into its proof of the whole AdmissionReview and asks :meth:`holds_beyond`
    for the rest; when both hold, :func:`review` would find nothing and patch
    nothing with ``mutate`` off. Which policies a job must satisfy is decided
    here, from the policy set's own selection (:meth:`PolicySet.for_proofs`),
    so the server never re-derives it. Like every proof it may only be stricter
    than the checks.
    """

    schemas: tuple[Schema, ...]
    """The job holds every one: the built-in checks, no ``maxWaitTimeInSeconds`` (the
    cross-field rule no schema states has nothing to say then), and the rules of every
    policy that may apply to any job."""
    guards: tuple[Guard, ...]
    """What those policies' schemas cannot state."""
    namespaced: Mapping[str, tuple[Proof | None, ...]]
    """The proofs of the policies limited to named namespaces, by namespace (None: a
    policy with a rule that has no schema, so a job there is never proven clean)."""

    def holds_beyond(self, job: Mapping[str, Any], request_namespace: str | None) -> bool:
        """True when *job* (which holds :attr:`schemas`) holds the rest of the proof.

        That is the guards, and the proofs of the job's namespace: the
        request's, else the job's, as selection takes it.
        """
        for guard in self.guards:
            if not guard(job):
                return False
        if not self.namespaced:
            return True
        for proof in self.namespaced.get(namespace_of(job, request_namespace), ()):
            if proof is None or not proof.holds(job):
                return False
        return True


def clean_create(config: Config) -> CleanCreate | None:
    """The proof of a clean CREATE under *config*, or None when no proof can stand in.

    None when the native proofs are off, when selection could add a note to a
    clean job, or when a policy that may apply to any job has a rule without
    a schema (CEL, tenancy ...). A namespaced policy with such a rule leaves only
    its namespaces' jobs to the full checks.
    """
    if not config.native:
        return None
    scope = config.policies.for_proofs()
    if scope is None:
        return None
    schemas: list[Schema] = [builtin_schema_of(config.checker), NO_MAX_WAIT]
    guards: list[Guard] = []
    for policy in scope.everywhere:
        if any(rule.schema is None for rule in policy.rules):
            return None
        schemas.extend(rule.schema for rule in policy.rules if rule.schema is not None)
        guards.extend(rule.guard for rule in policy.rules if rule.guard is not None)
    namespaced: dict[str, tuple[Proof | None, ...]] = {}
    for name, policies in scope.by_namespace.items():
        entries = [
            policy.proof if all(rule.schema is not None for rule in policy.rules) else None
            for policy in policies
            if policy.rules
        ]
        if entries:
            namespaced[name] = tuple(entries)
    return CleanCreate(tuple(schemas), tuple(guards), namespaced)
