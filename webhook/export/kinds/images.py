"""Rule kind ``images`` as CEL (:mod:`webhook.policy.rules.images`).

An image is checked against Docker's reference grammar (the webhook's own,
in RE2) and pinned as the rule asks: a tag, not ``latest``, a digest. The
``algorithms`` allow-list is exported too. ``registries`` and
``repositories`` are not: they match globs against the reference after Docker's
normalization (the default registry, ``library/``, a lower-cased host), which
needs parts of the string CEL's standard library cannot take out.
"""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import (
    NotExportableError,
    RuleContext,
    concept_patterns,
    globs,
    shown,
    string_check,
    where,
)
from webhook.export.model import Validation
from webhook.export.regex import python_re2
from webhook.model.concepts import Concept
from webhook.policy.model import ImagesRule
from webhook.policy.rules.images import _DIGEST_HEX, _NAME, _TAG

_DIGEST = "(?:" + "|".join(f"{alg}:[0-9a-f]{{{n}}}" for alg, n in _DIGEST_HEX.items()) + ")"
VALID = python_re2(f"(?a){_NAME}(?::{_TAG})?(?:@{_DIGEST})?", placeholders=False)
"""A reference ``parse_image`` accepts (its name is within 255 characters under the gate)."""
_TAGGED = python_re2(f"(?a)(?s:.)*:{_TAG}(?:@(?s:.)*)?", placeholders=False)
_LATEST = python_re2("(?s:.)*:latest(?:@(?s:.)*)?", placeholders=False)


def export(context: RuleContext) -> list[Validation]:
    """The validations of an ``images`` rule."""
    rule: ImagesRule = context.rule
    if rule.registries is not None or rule.repositories is not None:
        raise NotExportableError(
            "registries and repositories match the reference after Docker's normalization, "
            "which CEL's standard library cannot do"
        )
    walker = context.walker
    out: list[Validation] = []
    allowed = globs(rule.algorithms or [])
    for pattern in concept_patterns(Concept.ALGORITHM):
        out.append(
            context.validation(
                where(pattern),
                string_check(
                    walker, pattern, lambda v: text.any_of([f"size({v}) == 0", allowed.matches(v)])
                ),
                [
                    "an algorithm resource, whose image this rule cannot check; name an allowed "
                    "trainingImage instead, or list the algorithm in the rule's algorithms "
                    "(allowed: ",
                    *shown(rule.algorithms or []),
                    ")",
                ],
            )
        )

    def pinned(v: str) -> str:
        digest = f"{v}.contains('@')"
        problems: list[str] = []
        if rule.requireDigest:
            problems.append(text.TRUE)
        else:
            if rule.requireTag or rule.forbidLatest:
                problems.append(f"!{_TAGGED.matches(v)}")
            if rule.forbidLatest:
                problems.append(_LATEST.matches(v))
        return text.all_of(
            [VALID.matches(v), text.any_of([digest, text.negate(text.any_of(problems))])]
        )

    what = "not a valid image reference, or not pinned as the policy asks: " + (
        "add @sha256:<digest>"
        if rule.requireDigest
        else "pin a version tag or a digest (not latest)"
    )
    for pattern in concept_patterns(Concept.IMAGE):
        out.append(
            context.validation(
                where(pattern),
                string_check(
                    walker, pattern, lambda v: text.any_of([f"size({v}) == 0", pinned(v)])
                ),
                what,
            )
        )
    return out
