"""What the rule kinds' exporters share: the rule's context, messages, templates, globs.

A rule kind's exporter turns one rule into validations, or raises
:class:`NotExportableError` saying why the webhook must stay its place. Every
validation of a policy holds where the size gate finds something
(:func:`~webhook.export.gate.guarded`), and a check of a string field
holds where that string has an unsubstituted placeholder: the webhook then
reports the placeholder alone at that field (``engine._root_causes``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from webhook.constraints.bounds import fixed_length
from webhook.constraints.check import FREE_TEXT_FIELDS
from webhook.constraints.schema import StringShape
from webhook.export import text
from webhook.export.gate import guarded
from webhook.export.model import Validation
from webhook.export.regex import NotExportableError, Templated, alternatives, glob_re2
from webhook.export.snippets import placeholder_in
from webhook.export.walk import Walker, display
from webhook.findings import Action
from webhook.model.concepts import Concept, fields
from webhook.policy.model import PolicyDocument

__all__ = ["Cel", "NotExportableError", "RuleContext", "concat", "template"]


#: Python's ``str.isspace()`` characters, what ``str.strip()`` removes (as an RE2 class body).
def _space_ranges() -> str:
    codes = [code for code in range(sys.maxunicode + 1) if chr(code).isspace()]
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(
        f"\\x{{{low:x}}}" if low == high else f"\\x{{{low:x}}}-\\x{{{high:x}}}"
        for low, high in ranges
    )


_SPACE: Final = _space_ranges()
BLANK_RE2: Final = f"^[{_SPACE}]*$"
"""A string :meth:`str.strip` leaves empty."""


@dataclass(frozen=True, slots=True)
class RuleContext:
    """One rule of one policy, being exported."""

    document: PolicyDocument
    rule: Any
    """The rule's model (:data:`webhook.policy.model.Rule`)."""
    walker: Walker

    @property
    def rule_id(self) -> str:
        """``<policy id>/<rule id>``."""
        return f"{self.document.id}/{self.rule.id}"

    @property
    def action(self) -> Action:
        """The rule's action, else the policy's."""
        action: Action = self.rule.action or self.document.action
        return action

    def validation(self, path: str, expression: str, detail: Message) -> Validation:
        """A validation of this rule at *path*; *detail* is the built-in message."""
        return Validation(
            self.rule_id,
            path,
            guarded(expression),
            self.message(path, detail),
            self.action,
            reason="Forbidden",
        )

    def message(self, path: str, detail: Message) -> str:
        """CEL: ``path: message [rule]``, the rule's own message (templated) if it has one."""
        own: str | None = self.rule.message
        details = [detail] if isinstance(detail, str | Cel) else list(detail)
        body = details if own is None else template(own, {"{path}": [path], "{detail}": details})
        return concat([f"{path}: ", *body, f" [{self.rule_id}]"])


@dataclass(frozen=True, slots=True)
class Cel:
    """A piece of a message that is a CEL string expression (plain ``str`` pieces are text)."""

    source: str


Piece = str | Cel
Message = Piece | Sequence[Piece]


def concat(pieces: Sequence[Piece]) -> str:
    """CEL for the concatenation of *pieces*, neighbouring text merged into one literal."""
    out: list[str] = []
    pending = ""
    for piece in pieces:
        if isinstance(piece, Cel):
            if pending:
                out.append(text.string(pending))
                pending = ""
            out.append(piece.source)
        else:
            pending += piece
    if pending or not out:
        out.append(text.string(pending))
    return " + ".join(out)


PLACEHOLDERS: Final = {
    "{namespace}": Cel("request.namespace"),
    "{name}": Cel('(has(object.metadata.name) ? object.metadata.name : "")'),
    "{trainingJobName}": Cel(
        '(has(object.spec) && has(object.spec.trainingJobName) ? object.spec.trainingJobName : "")'
    ),
}


def template(value: str, extra: dict[str, list[Piece]] | None = None) -> list[Piece]:
    """*value* with the policy's placeholders filled in, as ``Subject.template`` fills them."""
    table: dict[str, list[Piece]] = {key: [cel] for key, cel in PLACEHOLDERS.items()}
    table.update(extra or {})
    pattern = re.compile("|".join(re.escape(key) for key in table))
    pieces: list[Piece] = []
    at = 0
    for match in pattern.finditer(value):
        pieces.append(value[at : match.start()])
        pieces.extend(table[match.group()])
        at = match.end()
    pieces.append(value[at:])
    return pieces


def globs(patterns: Sequence[str]) -> Templated:
    """One RE2 regex for an allow-list of globs; NotExportableError when one has no RE2 form."""
    if not patterns:
        return never()
    return alternatives([glob_re2(pattern) for pattern in patterns])


def never() -> Templated:
    """A regex that matches nothing (an empty allow-list)."""
    return Templated((r"[^\x{0}-\x{10ffff}]",))


def shown(patterns: Sequence[str], limit: int = 5) -> list[Piece]:
    """The allowed globs for a message, placeholders filled (``Globs.describe``)."""
    if not patterns:
        return ["none"]
    more = len(patterns) - limit
    listed = ", ".join(patterns[:limit]) + (f" (and {more} more)" if more > 0 else "")
    return template(listed)


def string_shape(walker: Walker, pattern: tuple[str, ...]) -> StringShape:
    """The constraint shape of the string field at *pattern*."""
    shape = walker.shape(pattern)
    assert isinstance(shape, StringShape), pattern
    return shape


def string_check(
    walker: Walker, pattern: tuple[str, ...], body: Callable[[str], str], *, base: str = "object"
) -> str:
    """*body* on every string at *pattern*, held where the string holds a placeholder.

    The string's bound comes first (true under the gate; it bounds the cost).
    """
    shape = string_shape(walker, pattern)
    high = shape.max if shape.max is not None else fixed_length(shape)
    placeholder = pattern[-1] not in FREE_TEXT_FIELDS

    def check(value: str) -> str:
        parts = [f"size({value}) > {high}"]
        if placeholder:
            parts.append(placeholder_in(value))
        parts.append(body(value))
        return text.any_of(parts)

    return walker.at(pattern, check, base=base)


def concept_patterns(concept: Concept) -> list[tuple[str, ...]]:
    """The field patterns of the spec that carry *concept*."""
    return [field.pattern for field in fields(concept)]


def not_blank(value: str) -> str:
    """CEL: *value* (a string) is not empty once stripped as Python strips."""
    return f"!{value}.matches({text.string(BLANK_RE2)})"


def where(pattern: tuple[str, ...]) -> str:
    """The display path of a field pattern."""
    return display(pattern)
