"""The tokens of a CEL expression's source, for :mod:`webhook.export.syntax`.

They follow the lexical rules of the CEL specification (``langdef.md``):
numbers (decimal and hexadecimal integers, unsigned, doubles), strings with
every quoting (single, double, triple, raw, bytes) and escape, names, and the
operators. A string or number token carries its value; :class:`CelSyntaxError`
says where the text stops being CEL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


class CelSyntaxError(ValueError):
    """The text is not a CEL expression; the message says where."""


_TOKEN: Final = re.compile(
    r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<number>(?:0[xX][0-9a-fA-F]+[uU]?)
      |(?:[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)
      |(?:[0-9]+[uU]?))
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?(?:\"\"\"|'''|"|'))
  | (?P<name>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>\|\||&&|==|!=|<=|>=|[-+*/%!<>?:.,()\[\]{}])
    """,
    re.VERBOSE,
)
_ESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}


@dataclass(frozen=True, slots=True)
class Token:
    """One token of the source: its kind, text and offset (a string's or number's value)."""

    kind: str
    text: str
    offset: int
    value: object = None


def _decode(body: str, raw: bool, offset: int) -> str:
    if raw:
        return body
    out: list[str] = []
    index = 0
    while index < len(body):
        char = body[index]
        if char != "\\":
            out.append(char)
            index += 1
            continue
        escape = body[index + 1 : index + 2]
        if escape in _ESCAPES:
            out.append(_ESCAPES[escape])
            index += 2
        elif escape in ("x", "X", "u", "U"):
            width = {"x": 2, "X": 2, "u": 4, "U": 8}[escape]
            digits = body[index + 2 : index + 2 + width]
            if len(digits) != width or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise CelSyntaxError(f"offset {offset + index}: bad \\{escape} escape")
            out.append(chr(int(digits, 16)))
            index += 2 + width
        elif escape.isdigit():
            digits = body[index + 1 : index + 4]
            if not re.fullmatch(r"[0-3][0-7][0-7]", digits):
                raise CelSyntaxError(f"offset {offset + index}: bad octal escape")
            out.append(chr(int(digits, 8)))
            index += 4
        else:
            raise CelSyntaxError(f"offset {offset + index}: unknown escape \\{escape}")
    return "".join(out)


def tokenize(source: str) -> list[Token]:
    """The tokens of *source*; string and number tokens carry their value."""
    tokens: list[Token] = []
    at = 0
    while at < len(source):
        match = _TOKEN.match(source, at)
        if match is None:
            raise CelSyntaxError(f"offset {at}: unexpected {source[at]!r}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "space":
            at = match.end()
            continue
        if kind == "string":
            prefix = text.rstrip("\"'")
            quote = text[len(prefix) :]
            end = _string_end(source, match.end(), quote, "r" in prefix.lower())
            if end < 0:
                raise CelSyntaxError(f"offset {at}: unterminated string")
            body = source[match.end() : end]
            value: object = _decode(body, "r" in prefix.lower(), match.end())
            if "b" in prefix.lower():
                value = str(value).encode("utf-8")
            tokens.append(Token("string", source[at : end + len(quote)], at, value))
            at = end + len(quote)
            continue
        if kind == "number":
            tokens.append(Token("number", text, at, _number(text)))
        else:
            tokens.append(Token(kind, text, at))
        at = match.end()
    tokens.append(Token("end", "", len(source)))
    return tokens


def _string_end(source: str, start: int, quote: str, raw: bool) -> int:
    index = start
    while index < len(source):
        if source.startswith(quote, index):
            return index
        if source[index] == "\\" and not raw:
            index += 2
            continue
        if source[index] == "\n" and len(quote) == 1:
            return -1
        index += 1
    return -1


def _number(text: str) -> tuple[str, object]:
    lower = text.lower()
    if lower.startswith("0x"):
        if lower.endswith("u"):
            return "uint", int(lower[2:-1], 16)
        return "int", int(lower[2:], 16)
    if lower.endswith("u"):
        return "uint", int(lower[:-1])
    if any(c in lower for c in ".e"):
        return "double", float(lower)
    return "int", int(lower)
