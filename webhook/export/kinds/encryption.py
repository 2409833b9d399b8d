"""Rule kind ``encryption`` as CEL (:mod:`webhook.policy.rules.encryption`).

``sameAccountAsRole`` compares the account fields of two values of the job:
CEL's standard library cannot take a field out of a string (no ``split``, no
capture groups), so a rule with it stays with the webhook.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from webhook.export import text
from webhook.export.kinds.common import (
    NotExportableError,
    RuleContext,
    concept_patterns,
    globs,
    not_blank,
    shown,
    string_check,
    where,
)
from webhook.export.model import Validation
from webhook.export.regex import Templated, python_re2
from webhook.model.concepts import Concept
from webhook.policy.model import EncryptionRule
from webhook.policy.rules.encryption import _KMS_ARN, _REGION

_KEYS = (
    ("outputDataConfig", "kmsKeyID", "the job's output in S3"),
    ("resourceConfig", "volumeKMSKeyID", "the training instances' storage volumes"),
)


def _in_region(value: str, *, arn: Templated, region: Templated) -> str:
    """CEL: *value* is not a KMS key ARN, or one in the region."""
    return text.any_of([f"!{arn.matches(value)}", region.matches(value)])


def export(context: RuleContext) -> list[Validation]:
    """The validations of an ``encryption`` rule."""
    rule: EncryptionRule = context.rule
    if rule.sameAccountAsRole:
        raise NotExportableError(
            "sameAccountAsRole compares the account in two ARNs, which CEL's standard library "
            "cannot take out of a string"
        )
    if rule.region is not None and not _REGION.fullmatch(rule.region):
        raise NotExportableError(f"region {rule.region!r} is not an AWS region name")
    return [*_required_keys(context, rule), *_allowed_keys(context, rule)]


def _required_keys(context: RuleContext, rule: EncryptionRule) -> list[Validation]:
    """``requireOutputKey``, ``requireVolumeKey``: the key fields are set, and not blank."""
    out: list[Validation] = []
    required = {"kmsKeyID": rule.requireOutputKey, "volumeKMSKeyID": rule.requireVolumeKey}
    for block, field, noun in _KEYS:
        if not required[field]:
            continue
        value = f"object.spec.{block}.{field}"
        present = text.all_of(
            [
                "has(object.spec)",
                f"has(object.spec.{block})",
                f"has({value})",
                f"(size({value}) > 2048 || {not_blank(value)})",
            ]
        )
        listed = [" (allowed: ", *shown(rule.keys), ")"] if rule.keys else []
        out.append(
            context.validation(
                f"spec.{block}.{field}",
                present,
                [
                    f"{field} is required: {noun} must be encrypted with a KMS key",
                    *listed,
                    "; missing",
                ],
            )
        )
    return out


def _allowed_keys(context: RuleContext, rule: EncryptionRule) -> list[Validation]:
    """``keys`` and ``region``: every KMS key the job names is allowed, and in the region."""
    walker = context.walker
    out: list[Validation] = []
    keys = globs(rule.keys) if rule.keys is not None else None
    arn = python_re2(_KMS_ARN.pattern)
    in_region = (
        python_re2(_KMS_ARN.pattern.replace("(?P<region>[^:]*)", re.escape(rule.region)))
        if rule.region is not None
        else None
    )
    for pattern in concept_patterns(Concept.KMS_KEY):

        def given(body: Callable[[str], str], at: tuple[str, ...] = pattern) -> str:
            return string_check(walker, at, lambda v: text.any_of([f"!({not_blank(v)})", body(v)]))

        if keys is not None:
            out.append(
                context.validation(
                    where(pattern),
                    given(keys.matches),
                    ["not an allowed KMS key; allowed: ", *shown(rule.keys or [])],
                )
            )
        if in_region is not None:
            out.append(
                context.validation(
                    where(pattern),
                    given(functools.partial(_in_region, arn=arn, region=in_region)),
                    f"a KMS key ARN outside region {rule.region}; keys must be in {rule.region}",
                )
            )
    return out
