"""Built-in rule kinds: each compiles a rule's configuration into a check.

A check takes a :class:`~webhook.policy.subject.Subject` and yields
:class:`Violation` s: the path and a message. The policy wraps them into
findings with the rule's id, action and message override, so a rule kind
knows nothing of actions or ids.

Every kind is registered in :data:`KINDS` under the ``kind`` value of the
policy file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple, TypeAlias

from webhook.paths import Path
from webhook.policy.subject import Subject


class Violation(NamedTuple):
    """What a check found: where, and the built-in message."""

    path: Path
    message: str


Check: TypeAlias = Callable[[Subject], Iterator[Violation]]
Compiler: TypeAlias = Callable[[Any], Check]


class RuleConfigError(ValueError):
    """A rule's configuration cannot be compiled (a bad regex, an unknown field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        """The rule field at fault, e.g. ``keys.epochs.pattern``."""
        self.message = message
