"""Rule kind ``tenancy`` as CEL (:mod:`webhook.policy.rules.tenancy`)."""

from __future__ import annotations

from collections.abc import Callable

from webhook.export import text
from webhook.export.kinds.common import (
    RuleContext,
    concept_patterns,
    globs,
    shown,
    string_check,
    template,
    where,
)
from webhook.export.model import Validation
from webhook.export.regex import Templated
from webhook.model.concepts import STORAGE, Concept
from webhook.policy.model import TenancyRule
from webhook.policy.rules.tenancy import _STORAGE_NAMES, s3_globs

_HERE = ["in namespace ", *template("{namespace}")]


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``tenancy`` rule."""
    rule: TenancyRule = context.rule
    walker = context.walker
    out: list[Validation] = []

    def nonempty(allowed: Templated) -> Callable[[str], str]:
        return lambda v: text.any_of([f"size({v}) == 0", allowed.matches(v)])

    if rule.roles is not None:
        allowed = globs(rule.roles)
        out.append(
            context.validation(
                "spec.roleARN",
                string_check(walker, ("roleARN",), nonempty(allowed)),
                ["not one of the IAM roles allowed ", *_HERE, ": ", *shown(rule.roles)],
            )
        )
    lists = {
        Concept.S3_LOCATION: rule.s3,
        Concept.FILE_SYSTEM: rule.fileSystems,
        Concept.HUB_CONTENT: rule.hubContents,
    }
    if any(entries is not None for entries in lists.values()):
        for concept in STORAGE:
            entries = lists[concept] or []
            patterns = s3_globs(entries) if concept is Concept.S3_LOCATION else entries
            allowed = globs(patterns)
            what, option = _STORAGE_NAMES[concept]
            hint = "" if entries else f" (list them in the rule's {option})"
            for pattern in concept_patterns(concept):
                out.append(
                    context.validation(
                        where(pattern),
                        string_check(walker, pattern, nonempty(allowed)),
                        [f"outside the {what} allowed ", *_HERE, ": ", *shown(entries), hint],
                    )
                )
    if rule.kmsKeys is not None:
        allowed = globs(rule.kmsKeys)
        for pattern in concept_patterns(Concept.KMS_KEY):
            out.append(
                context.validation(
                    where(pattern),
                    string_check(walker, pattern, nonempty(allowed)),
                    ["not one of the KMS keys allowed ", *_HERE, ": ", *shown(rule.kmsKeys)],
                )
            )
    return out
