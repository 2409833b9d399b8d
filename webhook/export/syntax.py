"""A CEL parser: the source of an expression as a small tree, for the cost estimate.

It reads the language of the CEL specification (``langdef.md``): literals
(numbers, strings with every quoting and escape, bytes), the operators with
their precedence, member calls, indexes, list and map literals and the macros
(``has``, ``all``, ``exists``, ``exists_one``, ``map``, ``filter``). Macros come
out as :class:`Comprehension` nodes, as the CEL parser expands them. Identifiers
keep their offset in the source, so a reference can be rewritten in place
(``params`` becomes ``variables.params``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final


class CelSyntaxError(ValueError):
    """The text is not a CEL expression; the message says where."""


@dataclass(frozen=True, slots=True)
class Literal:
    """A constant: its CEL kind and value."""

    kind: str
    """``int``, ``uint``, ``double``, ``string``, ``bytes``, ``bool`` or ``null``."""
    value: object


@dataclass(frozen=True, slots=True)
class Ident:
    """A name (a variable or an iteration variable), with its offset in the source."""

    name: str
    offset: int = -1


@dataclass(frozen=True, slots=True)
class Select:
    """``operand.field``; ``has(operand.field)`` when *test*."""

    operand: Expr
    field: str
    test: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """A function or operator call; operators use CEL's names (``_&&_``, ``_[_]``, ``@in``)."""

    function: str
    args: tuple[Expr, ...]
    target: Expr | None = None


@dataclass(frozen=True, slots=True)
class ListLit:
    """``[a, b]``."""

    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    """``{k: v}``."""

    entries: tuple[tuple[Expr, Expr], ...]


@dataclass(frozen=True, slots=True)
class Comprehension:
    """A macro over a list or map: ``range.macro(var, args...)``."""

    macro: str
    range: Expr
    var: str
    args: tuple[Expr, ...] = field(default=())


Expr = Literal | Ident | Select | Call | ListLit | MapLit | Comprehension

MACROS: Final = frozenset({"all", "exists", "exists_one", "map", "filter"})
RESERVED: Final = frozenset(
    {
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    }
)

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
_RELATIONS: Final = {
    "<": "_<_",
    "<=": "_<=_",
    ">": "_>_",
    ">=": "_>=_",
    "==": "_==_",
    "!=": "_!=_",
    "in": "@in",
}

#: Binary operators by precedence, loosest first.
_LEVELS: Final[tuple[dict[str, str], ...]] = (
    {"||": "_||_"},
    {"&&": "_&&_"},
    _RELATIONS,
    {"+": "_+_", "-": "_-_"},
    {"*": "_*_", "/": "_/_", "%": "_%_"},
)


@dataclass(frozen=True, slots=True)
class _Token:
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


def tokenize(source: str) -> list[_Token]:
    """The tokens of *source*; string and number tokens carry their value."""
    tokens: list[_Token] = []
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
            tokens.append(_Token("string", source[at : end + len(quote)], at, value))
            at = end + len(quote)
            continue
        if kind == "number":
            tokens.append(_Token("number", text, at, _number(text)))
        else:
            tokens.append(_Token(kind, text, at))
        at = match.end()
    tokens.append(_Token("end", "", len(source)))
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


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.at = 0

    def peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def accept(self, text: str) -> bool:
        token = self.peek()
        if token.kind in ("op", "name") and token.text == text:
            self.at += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            token = self.peek()
            found = repr(token.text) if token.text else "the end"
            raise CelSyntaxError(f"offset {token.offset}: expected {text!r}, found {found}")

    def parse(self) -> Expr:
        expr = self.expr()
        if self.peek().kind != "end":
            token = self.peek()
            raise CelSyntaxError(f"offset {token.offset}: unexpected {token.text!r}")
        return expr

    def expr(self) -> Expr:
        condition = self.binary(0)
        if self.accept("?"):
            then = self.binary(0)
            self.expect(":")
            otherwise = self.expr()
            return Call("_?_:_", (condition, then, otherwise))
        return condition

    def binary(self, level: int) -> Expr:
        if level == len(_LEVELS):
            return self.unary()
        operators = _LEVELS[level]
        left = self.binary(level + 1)
        while True:
            token = self.peek()
            if token.kind in ("op", "name") and token.text in operators:
                self.at += 1
                right = self.binary(level + 1)
                left = Call(operators[token.text], (left, right))
            else:
                return left

    def unary(self) -> Expr:
        if self.accept("!"):
            return Call("!_", (self.unary(),))
        if self.peek().text == "-" and self.peek().kind == "op":
            self.at += 1
            operand = self.unary()
            if isinstance(operand, Literal) and operand.kind in ("int", "double"):
                assert isinstance(operand.value, int | float)
                return Literal(operand.kind, -operand.value)
            return Call("-_", (operand,))
        return self.member()

    def member(self) -> Expr:
        expr = self.primary()
        while True:
            if self.accept("."):
                token = self.take()
                if token.kind != "name":
                    raise CelSyntaxError(f"offset {token.offset}: expected a field name")
                if self.accept("("):
                    args = self.arguments(")")
                    expr = self.member_call(expr, token.text, args, token.offset)
                else:
                    expr = Select(expr, token.text)
            elif self.accept("["):
                index = self.expr()
                self.expect("]")
                expr = Call("_[_]", (expr, index))
            else:
                return expr

    def member_call(self, target: Expr, name: str, args: list[Expr], offset: int) -> Expr:
        if name in MACROS:
            expected = (2, 3) if name == "map" else (2,)
            if len(args) not in expected or not isinstance(args[0], Ident):
                raise CelSyntaxError(f"offset {offset}: {name}() needs a variable name and a body")
            return Comprehension(name, target, args[0].name, tuple(args[1:]))
        return Call(name, tuple(args), target)

    def arguments(self, closing: str) -> list[Expr]:
        args: list[Expr] = []
        if self.accept(closing):
            return args
        while True:
            args.append(self.expr())
            if self.accept(closing):
                return args
            self.expect(",")
            if self.accept(closing):
                return args

    def primary(self) -> Expr:
        token = self.take()
        if token.kind == "number":
            number = token.value
            assert isinstance(number, tuple)
            return Literal(str(number[0]), number[1])
        if token.kind == "string":
            kind = "bytes" if isinstance(token.value, bytes) else "string"
            return Literal(kind, token.value)
        if token.kind == "name":
            return self.name(token)
        if token.kind == "op" and token.text == "(":
            expr = self.expr()
            self.expect(")")
            return expr
        if token.kind == "op" and token.text == "[":
            return ListLit(tuple(self.arguments("]")))
        if token.kind == "op" and token.text == "{":
            return self.map_literal()
        if token.kind == "op" and token.text == ".":
            follow = self.take()
            if follow.kind == "name":
                return self.name(follow)
        found = repr(token.text) if token.text else "the end"
        raise CelSyntaxError(f"offset {token.offset}: unexpected {found}")

    def name(self, token: _Token) -> Expr:
        if token.text in ("true", "false"):
            return Literal("bool", token.text == "true")
        if token.text == "null":
            return Literal("null", None)
        if token.text in RESERVED or token.text == "in":
            raise CelSyntaxError(f"offset {token.offset}: {token.text!r} is reserved")
        if self.accept("("):
            args = self.arguments(")")
            if token.text == "has":
                if len(args) != 1 or not isinstance(args[0], Select):
                    raise CelSyntaxError(f"offset {token.offset}: has() needs a field selection")
                return Select(args[0].operand, args[0].field, test=True)
            return Call(token.text, tuple(args))
        return Ident(token.text, token.offset)

    def map_literal(self) -> Expr:
        entries: list[tuple[Expr, Expr]] = []
        if self.accept("}"):
            return MapLit(())
        while True:
            key = self.expr()
            self.expect(":")
            entries.append((key, self.expr()))
            if self.accept("}"):
                return MapLit(tuple(entries))
            self.expect(",")
            if self.accept("}"):
                return MapLit(tuple(entries))


def parse(source: str) -> Expr:
    """The tree of the CEL expression *source*; :class:`CelSyntaxError` when it is not one."""
    return _Parser(source).parse()


def free_references(expr: Expr, name: str) -> list[int]:
    """Offsets of the references to the variable *name* not bound by a macro inside *expr*."""
    found: list[int] = []
    _references(expr, name, found)
    return sorted(found)


def _references(expr: Expr, name: str, found: list[int]) -> None:
    if isinstance(expr, Ident):
        if expr.name == name:
            found.append(expr.offset)
    elif isinstance(expr, Select):
        _references(expr.operand, name, found)
    elif isinstance(expr, Call):
        if expr.target is not None:
            _references(expr.target, name, found)
        for arg in expr.args:
            _references(arg, name, found)
    elif isinstance(expr, ListLit):
        for item in expr.items:
            _references(item, name, found)
    elif isinstance(expr, MapLit):
        for key, value in expr.entries:
            _references(key, name, found)
            _references(value, name, found)
    elif isinstance(expr, Comprehension):
        _references(expr.range, name, found)
        if expr.var != name:
            for arg in expr.args:
                _references(arg, name, found)
