"""Rule kind ``naming`` as CEL (:mod:`webhook.policy.rules.naming`)."""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import RuleContext, concat, string_check, template
from webhook.export.model import Validation
from webhook.export.regex import python_re2
from webhook.policy.model import NamingRule

_PATH = ("trainingJobName",)


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``naming`` rule."""
    rule: NamingRule = context.rule
    walker = context.walker
    out: list[Validation] = []
    regex = python_re2(rule.pattern) if rule.pattern is not None else None
    if rule.prefix is not None:
        wanted = concat(template(rule.prefix))
        out.append(
            context.validation(
                "spec.trainingJobName",
                string_check(
                    walker,
                    _PATH,
                    lambda v: text.any_of([f"size({v}) == 0", f"{v}.startsWith({wanted})"]),
                ),
                ["does not start with the required prefix ", *template(rule.prefix)],
            )
        )
    if regex is not None and rule.pattern is not None:
        out.append(
            context.validation(
                "spec.trainingJobName",
                string_check(
                    walker, _PATH, lambda v: text.any_of([f"size({v}) == 0", regex.matches(v)])
                ),
                ["does not match the naming pattern ", *template(rule.pattern)],
            )
        )
    return out
