"""The fast path of ``/validate``: one native check proves a whole AdmissionReview clean.

Most requests are a TrainingJob CREATE that every check passes, and the
answer is "allowed". Proving it step by step (type the review, build the
request context, select the policies, check the job against the built-in
certificate, then against each policy's) costs more than the proofs
themselves. :class:`FastPath` compiles, once per loaded configuration, one
schema of such a review (:mod:`webhook.native`):

* the AdmissionReview v1 envelope (:data:`webhook.server.wire.ENVELOPE`);
* a CREATE of the TrainingJob resource itself, not a subresource, with an object;
* an object that holds the built-in certificate, has no
  ``maxWaitTimeInSeconds`` (the cross-field rule the schema cannot state
  has nothing to say then), and holds the schema and guards of every rule of
  every policy that may apply to it.

When it holds, :func:`webhook.server.admission.validate` would answer
"allowed" with no finding, so that is the answer; when it does not, the
usual path runs and gives the exact one. Like every certificate it may only
be stricter than the checks, never looser: ``tests/server/test_fast.py``
compares the two on every shipped job, policy case and mutants of them.

Which policies "may apply": a policy limited to named namespaces
(``match.namespaces: [team-a]``) applies in those, checked with its own
certificate for the request's namespace; any other policy is taken to apply
to every job, whatever its other match terms, exclusions and exemptions say
(stricter, so safe). There is no fast path, and every request takes the usual
one, when a policy could add a note to a clean job (a namespace selector,
when the namespace's labels are unknown; an exemption annotation set by the
wrong user), when a policy that applies everywhere has a rule without a
schema (CEL, tenancy...), or when the native certificates are off. A
namespaced policy with such a rule sends only its namespaces' jobs the usual way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from webhook.engine import Config, builtin_schema_of
from webhook.model import GROUP, KIND
from webhook.native import Certificate, Guard, Schema
from webhook.native.builtin import NO_MAX_WAIT
from webhook.policy.compiled import CompiledPolicy, literal_namespaces
from webhook.server.wire import ENVELOPE


@dataclass(frozen=True, slots=True)
class FastPath:
    """The proof that a review is clean, for one configuration."""

    config: Config
    """The configuration it was built for: a request decided with another (a reload
    came in between) takes the usual path."""
    certificate: Certificate
    """The review: envelope, TrainingJob CREATE, built-in checks, policies for any job."""
    guards: tuple[Guard, ...]
    """What those policies' schemas cannot state, on the job."""
    namespaced: Mapping[str, tuple[Certificate | None, ...]]
    """The certificates of the policies limited to a namespace, by namespace (None:
    a policy with a rule that has no schema)."""

    @classmethod
    def of(cls, config: Config) -> FastPath | None:
        """The fast path for *config*, or None when it cannot have one."""
        if not config.native:
            return None
        schemas: list[Schema] = [builtin_schema_of(config.checker), NO_MAX_WAIT]
        guards: list[Guard] = []
        namespaced: dict[str, list[Certificate | None]] = {}
        for policy in config.policies.policies:
            if not _without_notes(policy):
                return None
            certified = all(rule.schema is not None for rule in policy.rules)
            names = literal_namespaces(policy)
            if names:
                if certified and policy.certificate is None:
                    continue  # no rules: nothing to prove
                entry = policy.certificate if certified else None
                for name in names:
                    namespaced.setdefault(name, []).append(entry)
                continue
            if not certified:
                return None
            schemas.extend(rule.schema for rule in policy.rules if rule.schema is not None)
            guards.extend(rule.guard for rule in policy.rules if rule.guard is not None)
        review = {
            "properties": {
                "request": {
                    "required": ["kind", "operation", "object"],
                    "properties": {
                        "kind": {
                            "required": ["group", "kind"],
                            "properties": {"group": {"enum": [GROUP]}, "kind": {"enum": [KIND]}},
                        },
                        "operation": {"enum": ["CREATE"]},
                        "subResource": {"enum": [None, ""]},
                        "object": {"allOf": schemas},
                    },
                }
            }
        }
        return cls(
            config,
            Certificate([ENVELOPE, review]),
            tuple(guards),
            {name: tuple(certificates) for name, certificates in namespaced.items()},
        )

    def clean(self, data: Any) -> bool:
        """True when *data*, a decoded request body, is a review ``/validate`` allows as is."""
        if not self.certificate.holds(data):
            return False
        request = data["request"]
        job = request["object"]
        for guard in self.guards:
            if not guard(job):
                return False
        if not self.namespaced:
            return True
        # The namespace the policies are selected by (Subject.of): the request's, else the job's.
        namespace = request.get("namespace") or job["metadata"].get("namespace") or ""
        for certificate in self.namespaced.get(namespace, ()):
            if certificate is None or not certificate.holds(job):
                return False
        return True


def _without_notes(policy: CompiledPolicy) -> bool:
    """True when selecting *policy* can add no note to a job's findings."""
    document = policy.document
    selectors = [document.match.namespaceSelector]
    if document.exclude is not None:
        selectors.append(document.exclude.namespaceSelector)
    no_selector = all(selector is None for selector in selectors)
    return no_selector and document.exemptions.annotation is None
