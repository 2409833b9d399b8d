"""Built-in rule kinds: each compiles a rule's configuration into a check.

A check takes a :class:`~webhook.policy.subject.Subject` and yields
:class:`Violation` s: the path and a message. The policy wraps them into
findings with the rule's id, action and message override, so a rule kind
knows nothing of actions or ids.

Every kind is registered in :data:`KINDS` under the ``kind`` value of the
policy file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, TypeAlias

from webhook.paths import Path
from webhook.policy.subject import Subject


class Violation(NamedTuple):
    """What a check found: where, and the built-in message."""

    path: Path
    message: str


Check: TypeAlias = Callable[[Subject], Iterator[Violation]]
Compiler: TypeAlias = Callable[[Any], Check]


FieldPath: TypeAlias = tuple[str | int, ...]


def format_field(path: Sequence[str | int]) -> str:
    """Render a policy field path: ``rules[0].instanceTypes``."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def parse_field(text: str) -> FieldPath:
    """The inverse of :func:`format_field` for names without dots."""
    steps: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", text):
        steps.append(int(index) if index else name)
    return tuple(steps)


class RuleConfigError(ValueError):
    """A rule's configuration cannot be compiled (a bad regex, an unknown field).

    *field* is the path of the field at fault within the rule (or the
    defaults), as a tuple (``("keys", "trainer.max_epochs", "pattern")``: a
    key may hold dots) or as dotted text for plain names
    (``"keys.epochs.pattern"``). *on_key* points the error at the field's
    name rather than its value (an unknown field).
    """

    def __init__(self, field: str | FieldPath, message: str, *, on_key: bool = False) -> None:
        self.path: FieldPath = field if isinstance(field, tuple) else parse_field(field)
        self.field = format_field(self.path)
        self.message = message
        self.on_key = on_key
        super().__init__(f"{self.field}: {message}")


class PolicyConfigError(ValueError):
    """Every configuration error of one policy (its rules and defaults), reported together."""

    def __init__(self, errors: list[RuleConfigError]) -> None:
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors
