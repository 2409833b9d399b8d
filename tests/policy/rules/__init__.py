"""What every rule kind's tests share.

:func:`violations` runs a rule the way a policy does and, on every job a test
hands it, holds the rule's native schema (:mod:`webhook.native`) to its
promise: when the schema (and guard) of the rule holds on the job, the rule
finds nothing there. So each example in a rule kind's tests is also a check
that its schema is never looser than its check.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import TypeAdapter

from webhook.native import Proof
from webhook.paths import format_path
from webhook.policy.model import API_VERSION, KIND, PolicyDocument, PolicyMetadata, Rule
from webhook.policy.rules import Violation
from webhook.policy.rules.registry import compile_rule, native_guard, native_schema
from webhook.policy.subject import Subject
from webhook.request import Context

Shown = list[tuple[str, str]]
"""Findings as a user reads them: (field path, message)."""
Runner = Callable[..., Shown]

_RULE: TypeAdapter[Rule] = TypeAdapter(Rule)


def runner(kind: str, namespace: str | None = "team-a") -> Runner:
    """``run(job, namespace=..., **options)``: a *kind* rule's findings in *job*, shown.

    The rule is read from its options as a policy file's would be, run in a CREATE
    in *namespace* (unless the call gives another), and held to its native schema by
    :func:`violations`.
    """

    def run(job: Mapping[str, Any], namespace: str | None = namespace, **options: Any) -> Shown:
        rule = _RULE.validate_python({"id": "r", "kind": kind, **options})
        found = violations(rule, job, Context(namespace=namespace))
        return [(format_path(v.path), v.message) for v in found]

    return run


def violations(
    rule: Rule,
    job: Mapping[str, Any],
    context: Context | None = None,
    *,
    document: PolicyDocument | None = None,
) -> list[Violation]:
    """What *rule* finds in *job*, asserting none when the rule's native schema holds on it.

    *rule* is compiled as :func:`webhook.policy.compiled.compile_policy` does, within
    *document* (a policy holding only the rule when None: kinds such as ``cel`` read
    the policy's ``params``). *context* defaults to a CREATE with no namespace of its
    own (the job's ``metadata.namespace`` is used).
    """
    if document is None:
        document = PolicyDocument(
            apiVersion=API_VERSION,
            kind=KIND,
            metadata=PolicyMetadata(name="p"),
            id="p",
            rules=[rule],
        )
    check = compile_rule(rule, document)
    found = list(check(Subject.of(job, context or Context())))
    schema = native_schema(rule)
    if schema is not None:
        guard = native_guard(rule)
        proof = Proof([schema], [guard] if guard is not None else [])
        assert not (found and proof.holds(job)), (
            f"the native schema of this {rule.kind} rule holds on a job the rule finds "
            f"{[violation.message for violation in found]} in: the schema is looser than "
            f"the check\nrule: {rule!r}\nschema: {schema!r}"
        )
    return found
