"""Rule kind ``tags``: required tags on ``spec.tags`` and SageMaker's 50-tag budget.

* ``required``: each key must be present in ``spec.tags`` (a list of ``{key, value}``);
  when it maps to a regex, the tag's value must match it whole (``re.fullmatch``).
* Budget: SageMaker allows 50 tags per resource and the ACK controller adds
  ``controllerTags`` of its own at creation (its ``resourceTags``: four by default), so
  a job whose distinct tag keys plus ``controllerTags`` exceed 50 is denied.
* Duplicate keys are denied: the controller turns ``spec.tags`` into a map
  (``ToACKTags`` in its ``tags.go``) before calling SageMaker, so only the last value of
  a repeated key reaches AWS and the others are silently dropped.

Choices:

* Every occurrence of a required key must match its regex, not just the first: the
  controller sends the last one, so checking only one would let a repeat slip through.
* A tag whose ``value`` is missing or null has the value ``""`` (what the controller
  sends); a value of another type is left to the schema checks.
* The budget counts distinct string keys, as the controller does; entries that are not
  ``{key: <string>, ...}`` mappings are left to the schema checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from webhook.native import Guard, Schema, at, contains, on_spec, required_at
from webhook.policy.model import TagsRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import show

MAX_TAGS: Final = 50
"""Tags SageMaker allows on one resource."""
DEFAULT_CONTROLLER_TAGS: Final = (
    "services.k8s.aws/controller-version",
    "services.k8s.aws/namespace",
    "app.kubernetes.io/managed-by",
    "kro.run/kro-version",
)
"""The tags the ACK controller adds by default (helm value ``resourceTags``)."""


def _compile(key: str, pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as error:
        raise RuleConfigError(
            f"required.{key}", f"{show(pattern)} is not a valid regular expression: {error}"
        ) from error


def _budget(count: int, controller: int, duplicates: int) -> str:
    """The message for a job over the tag budget."""
    default = (
        f" ({', '.join(DEFAULT_CONTROLLER_TAGS)} by default)"
        if controller == len(DEFAULT_CONTROLLER_TAGS)
        else ""
    )
    repeated = " (repeated keys counted once)" if duplicates else ""
    return (
        f"has {count} distinct tag keys{repeated}; the ACK controller adds {controller} tags "
        f"of its own at creation{default} and SageMaker allows {MAX_TAGS} in all: remove at "
        f"least {count + controller - MAX_TAGS}"
    )


def compile_rule(rule: TagsRule) -> Check:
    """Compile a ``tags`` rule into a check."""
    required = {key: _compile(key, pattern) for key, pattern in rule.required.items()}
    patterns = {key: pattern for key, pattern in rule.required.items() if pattern is not None}
    controller = rule.controllerTags
    budget = MAX_TAGS - controller
    check_budget, report_duplicates = rule.budget, rule.duplicates

    def check(subject: Subject) -> Iterator[Violation]:
        tags = subject.spec.get("tags")
        if tags is None:
            tags = []
        elif not isinstance(tags, list):
            return  # wrong type: the schema checks report it
        first: dict[str, int] = {}
        duplicates: set[str] = set()
        for index, tag in enumerate(tags):
            if not isinstance(tag, dict):
                continue
            key = tag.get("key")
            if not isinstance(key, str):
                continue
            if key in first:
                duplicates.add(key)
                if not report_duplicates:
                    continue
                yield Violation(
                    ("spec", "tags", index, "key"),
                    f"tag key {show(key)} repeats spec.tags[{first[key]}]; the ACK controller "
                    "keeps only the last value of a key, so the others are silently dropped",
                )
            else:
                first[key] = index
            regex = required.get(key)
            if regex is None:
                continue
            value = tag.get("value")
            if value is None:
                value = ""
            elif not isinstance(value, str):
                continue
            if not regex.fullmatch(value):
                yield Violation(
                    ("spec", "tags", index, "value"),
                    f"{show(value)} is not an allowed value of tag {show(key)}; "
                    f"it must match {patterns[key]}",
                )
        for key in required:
            if key not in first:
                must = f" (with a value matching {patterns[key]})" if key in patterns else ""
                yield Violation(("spec", "tags"), f"tag {show(key)} is required{must}; missing")
        if check_budget and len(first) > budget:
            yield Violation(("spec", "tags"), _budget(len(first), controller, len(duplicates)))

    return check


def native_schema(rule: TagsRule) -> Schema | None:
    """A job this rule finds nothing in (:mod:`webhook.native`).

    None when the rule checks values against a regex (a policy's regex is
    Python's). Stricter than the check: the budget counts entries, not
    distinct keys. Repeated keys, which JSON Schema cannot compare, are
    :func:`native_guard`'s.
    """
    if any(pattern is not None for pattern in rule.required.values()):
        return None
    parts: list[Schema] = [
        required_at(
            ("tags",),
            contains(
                {"type": "object", "required": ["key"], "properties": {"key": {"enum": [key]}}}
            ),
        )
        for key in rule.required
    ]
    if rule.budget:
        parts.append(at(("tags",), {"maxItems": MAX_TAGS - rule.controllerTags}))
    return on_spec(*parts)


def native_guard(rule: TagsRule) -> Guard | None:
    """With ``duplicates`` on: True only when no two tags have the same key."""
    return _no_repeated_key if rule.duplicates else None


def _no_repeated_key(obj: Mapping[str, Any]) -> bool:
    spec = obj.get("spec")
    tags = spec.get("tags") if isinstance(spec, dict) else None
    if not isinstance(tags, list) or len(tags) < 2:
        return True  # nothing to repeat (or not a list: the schema checks' to report)
    keys = [tag.get("key") for tag in tags if isinstance(tag, dict)]
    strings = [key for key in keys if isinstance(key, str)]
    return len(set(strings)) == len(strings)
