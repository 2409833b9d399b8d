"""CEL source text: literals and the few combinators the exporter writes expressions with.

Everything here returns CEL source (``str``). Strings are written as CEL
double-quoted literals with every character outside printable ASCII escaped,
so an exported expression is plain ASCII whatever the policy says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

TRUE = "true"
FALSE = "false"


def string(value: str) -> str:
    """A CEL string literal of *value*."""
    out = ['"']
    for char in value:
        code = ord(char)
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif 0x20 <= code < 0x7F:
            out.append(char)
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    out.append('"')
    return "".join(out)


def strings(values: Iterable[str]) -> str:
    """A CEL list literal of strings."""
    return "[" + ", ".join(string(value) for value in values) + "]"


def literal(value: Any) -> str:
    """A CEL literal of a JSON-like value (a policy's ``params``)."""
    if value is None:
        return "null"
    if value is True:
        return TRUE
    if value is False:
        return FALSE
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = json.dumps(value)
        return text if any(c in text for c in ".eE") else text + ".0"
    if isinstance(value, str):
        return string(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{string(str(k))}: {literal(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    raise TypeError(f"no CEL literal for a {type(value).__name__}")


def all_of(parts: Iterable[str]) -> str:
    """The conjunction of *parts* (``true`` when there is none)."""
    items = [part for part in parts if part != TRUE]
    if not items:
        return TRUE
    if FALSE in items:
        return FALSE
    return " && ".join(_grouped(item) for item in items)


def any_of(parts: Iterable[str]) -> str:
    """The disjunction of *parts* (``false`` when there is none)."""
    items = [part for part in parts if part != FALSE]
    if not items:
        return FALSE
    if TRUE in items:
        return TRUE
    return " || ".join(_grouped(item) for item in items)


def negate(part: str) -> str:
    """The negation of *part*."""
    if part == TRUE:
        return FALSE
    if part == FALSE:
        return TRUE
    return "!" + _grouped(part, strict=True)


def implies(condition: str, then: str) -> str:
    """``!condition || then``, simplified."""
    return any_of([negate(condition), then])


def grouped(part: str) -> str:
    """*part* in parentheses unless it is one atom (a name, a call, a literal)."""
    return _grouped(part)


def _grouped(part: str, *, strict: bool = False) -> str:
    """*part* in parentheses unless it is one atom (a name, a call, a literal)."""
    if _atomic(part) and not (strict and part.startswith("!")):
        return part
    return f"({part})"


def _atomic(part: str) -> bool:
    depth = 0
    quote = ""
    escaped = False
    for char in part:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = ""
            continue
        if char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and char in " ?:|&<>=+-*/%,":
            return False
    return True
