"""The small CEL expressions SageMaker's exported constraints are written with.

Shared by the constraints' exporter (:mod:`webhook.export.constraints`) and the rule
kinds (:mod:`webhook.export.kinds`): a field's presence, one line of text, a
placeholder, a message in the webhook's notation, and a check that stands aside
where the size gate or the placeholder check already reports the value.
"""

from __future__ import annotations

from typing import Final

from webhook.constraints.check import PLACEHOLDER
from webhook.constraints.patterns import line_terminators
from webhook.export import text
from webhook.export.walk import Check

PLACEHOLDER_RE2: Final = PLACEHOLDER.pattern
"""The webhook's placeholder regex, a search RE2 reads the same way."""
LINE_BREAK_RE2: Final = "[" + line_terminators("re2") + "]"


def has(value: str, name: str) -> str:
    """CEL: the member *name* of *value* is present."""
    return f"has({value}.{name})"


def one_line_check(value: str) -> str:
    """CEL: *value* holds none of Java's line terminators (a ``.*`` pattern)."""
    return f"!{value}.matches({text.string(LINE_BREAK_RE2)})"


def placeholder_in(value: str) -> str:
    """CEL: *value* holds an unsubstituted template placeholder."""
    return f"{value}.matches({text.string(PLACEHOLDER_RE2)})"


def message(path: str, what: str, rule: str) -> str:
    """A CEL string literal in the webhook's notation: ``path: what [rule]``."""
    return text.string(f"{path}: {what} [{rule}]")


def unless_reported(body: Check, high: int, *, placeholder: bool) -> Check:
    """*body*, or true where the size gate or the placeholder check reports the value.

    ``size(v) > high`` is never true under the gate, but it bounds the cost estimate.
    """

    def check(v: str) -> str:
        parts = [f"size({v}) > {high}"]
        if placeholder:
            parts.append(placeholder_in(v))
        parts.append(body(v))
        return text.any_of(parts)

    return check
