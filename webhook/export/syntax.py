"""A CEL parser: the source of an expression as a small tree, for the cost estimate.

It reads the language of the CEL specification (``langdef.md``): literals
(numbers, strings with every quoting and escape, bytes), the operators with
their precedence, member calls, indexes, list and map literals and the macros
(``has``, ``all``, ``exists``, ``exists_one``, ``map``, ``filter``). The source
is read as tokens (:mod:`webhook.export.lexer`) into the tree of
:mod:`webhook.export.expr`; macros come out as
:class:`~webhook.export.expr.Comprehension` nodes, as the CEL parser expands
them. Identifiers keep their offset in the source, so a reference can be
rewritten in place (``params`` becomes ``variables.params``).
"""

from __future__ import annotations

from typing import Final

from webhook.export.expr import (
    Call,
    Comprehension,
    Expr,
    Ident,
    ListLit,
    Literal,
    MapLit,
    Select,
)
from webhook.export.lexer import CelSyntaxError, Token, tokenize

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


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = tokenize(source)
        self.at = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def take(self) -> Token:
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

    def name(self, token: Token) -> Expr:
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


__all__ = ["MACROS", "RESERVED", "CelSyntaxError", "parse"]
