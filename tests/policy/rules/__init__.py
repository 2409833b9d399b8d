"""What every rule kind's tests share.

:func:`violations` runs a rule the way a policy does and, on every job a test
hands it, holds the rule's native schema (:mod:`webhook.native`) to its
promise: when the schema (and guard) of the rule holds on the job, the rule
finds nothing there. So each example in a rule kind's tests is also a check
that its schema is never looser than its check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webhook.native import Proof
from webhook.policy.model import API_VERSION, KIND, PolicyDocument, PolicyMetadata, Rule
from webhook.policy.rules import Violation
from webhook.policy.rules.registry import compile_rule, native_guard, native_schema
from webhook.policy.subject import Subject
from webhook.request import Context


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
