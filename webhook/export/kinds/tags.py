"""Rule kind ``tags`` as CEL (:mod:`webhook.policy.rules.tags`).

Tags are at most 50 under the size gate, so their positions are enumerated
(``[0, 1, ..., 49]``) where the rule needs an item's index: the first
occurrence of a key, and the number of distinct keys.
"""

from __future__ import annotations

from webhook.export import text
from webhook.export.kinds.common import RuleContext
from webhook.export.model import Validation
from webhook.export.regex import Templated, python_re2
from webhook.export.snippets import placeholder_in
from webhook.policy.model import TagsRule
from webhook.policy.rules.tags import MAX_TAGS

TAGS = "object.spec.tags"
_INDEXES = "[" + ", ".join(str(index) for index in range(MAX_TAGS)) + "]"
_KEY_CHARS = 128
_VALUE_CHARS = 256


def _tags(body: str) -> str:
    """*body* where the job has tags (at most 50: over that, the gate's)."""
    return text.implies(
        f"has(object.spec) && has({TAGS})", text.any_of([f"size({TAGS}) > {MAX_TAGS}", body])
    )


def _value(tag: str) -> str:
    return f'(has({tag}.value) ? {tag}.value : "")'


def _first(index: str, key: str) -> str:
    """CEL: no tag before position *index* has the key *key*."""
    return f"!{_INDEXES}.exists(y0, y0 < {index} && has({TAGS}[y0].key) && {TAGS}[y0].key == {key})"


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``tags`` rule."""
    rule: TagsRule = context.rule
    out = _duplicates(context) if rule.duplicates else []
    for key, pattern in rule.required.items():
        out.extend(_required(context, key, pattern, duplicates=rule.duplicates))
    if rule.budget:
        out.append(_budget(context, rule.controllerTags))
    return out


def _duplicates(context: RuleContext) -> list[Validation]:
    """``duplicates``: no tag key repeats an earlier one."""
    repeated = (
        f"{TAGS}.all(x0, !has(x0.key) || size(x0.key) > {_KEY_CHARS} || "
        f"{placeholder_in('x0.key')} || "
        f"size({TAGS}.filter(x1, has(x1.key) && x1.key == x0.key)) == 1)"
    )
    return [
        context.validation(
            "spec.tags[*].key",
            _tags(repeated),
            "a tag key repeats an earlier one; the ACK controller keeps only the last value of "
            "a key, so the others are silently dropped",
        )
    ]


def _required(
    context: RuleContext, key: str, pattern: str | None, *, duplicates: bool
) -> list[Validation]:
    """``required``: the tag *key* is present, and its value matches *pattern* if given.

    With ``duplicates`` every tag with the key is checked; without, only the first, as
    the webhook checks it (a repeat is then neither reported nor checked).
    """
    literal = text.string(key)
    present = f"has(object.spec) && has({TAGS}) && (size({TAGS}) > {MAX_TAGS} || " + (
        f"{TAGS}.exists(x0, has(x0.key) && x0.key == {literal}))"
    )
    must = f" (with a value matching {pattern})" if pattern is not None else ""
    out = [
        context.validation(
            "spec.tags", present, f"tag {text.string(key)[1:-1]} is required{must}; missing"
        )
    ]
    if pattern is None:
        return out
    regex = python_re2(pattern, placeholders=False)

    def fine(tag: str, regex: Templated = regex) -> str:
        value = _value(tag)
        return text.any_of(
            [f"size({value}) > {_VALUE_CHARS}", placeholder_in(value), regex.matches(value)]
        )

    if duplicates:
        body = f"{TAGS}.all(x0, !has(x0.key) || x0.key != {literal} || {fine('x0')})"
    else:
        tag = f"{TAGS}[x2]"
        body = (
            f"{_INDEXES}.all(x2, x2 >= size({TAGS}) || !has({tag}.key) || {tag}.key != "
            f"{literal} || !({_first('x2', literal)}) || {fine(tag)})"
        )
    out.append(
        context.validation(
            "spec.tags[*].value",
            _tags(body),
            f"not an allowed value of tag {text.string(key)[1:-1]}; it must match {pattern}",
        )
    )
    return out


def _budget(context: RuleContext, controller_tags: int) -> Validation:
    """``budget``: the distinct keys leave room for the ACK controller's own tags."""
    budget = MAX_TAGS - controller_tags
    tag = f"{TAGS}[x0]"
    distinct = (
        f"size({_INDEXES}.filter(x0, x0 < size({TAGS}) && has({tag}.key) && "
        f"{_first('x0', tag + '.key')}))"
    )
    return context.validation(
        "spec.tags",
        _tags(f"{distinct} <= {budget}"),
        f"more distinct tag keys than the {budget} left once the ACK controller adds its "
        f"{controller_tags}: SageMaker allows {MAX_TAGS} in all",
    )
