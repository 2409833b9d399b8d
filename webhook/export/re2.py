r"""RE2 written out from Python's parse of a regex (``re._parser``), construct by construct.

:class:`PythonToRe2` is the translation :mod:`webhook.export.regex` makes of
a policy's own regexes and of a glob's ``[...]`` sets; :func:`literal` spells one
character as RE2 reads it literally. What RE2 reads differently (``\w`` and
``\s`` are Unicode in Python, look-around, back references ...) raises
:class:`NotExportableError`.
"""

from __future__ import annotations

import re
import re._constants as sre  # type: ignore[import-not-found]
from typing import Any, Final

from webhook.constraints.patterns import RE2_MAX_REPEAT

_MAX_CODE: Final = 0x10FFFF
ANY: Final = r"(?s:.)"
"""RE2: any one character, a line break too."""


class NotExportableError(ValueError):
    """A regex or glob RE2 cannot state with the same meaning; the message says why."""


class PythonToRe2:
    """Python's parse tree of a regex, written out as RE2."""

    def __init__(self, *, ascii_classes: bool) -> None:
        self.ascii = ascii_classes

    def sequence(self, items: list[tuple[Any, Any]], *, dotall: bool, top: bool = False) -> str:
        """RE2 for a sequence of *items* (*top*: the whole regex, where ``$`` may end it)."""
        out: list[str] = []
        for index, (op, av) in enumerate(items):
            last = top and index == len(items) - 1
            out.append(self.item(op, av, dotall=dotall, last=last))
        return "".join(out)

    def item(self, op: Any, av: Any, *, dotall: bool, last: bool = False) -> str:
        """RE2 for one construct (*last*: the final one of the whole regex)."""
        if op is sre.LITERAL:
            return literal(av)
        if op is sre.NOT_LITERAL:
            return f"[^{_class_char(av)}]"
        if op is sre.ANY:
            return ANY if dotall else "."
        if op is sre.IN:
            return self.charset(av)
        if op is sre.BRANCH:
            branches = [self.sequence(list(b), dotall=dotall) for b in av[1]]
            return "(?:" + "|".join(branches) + ")"
        if op is sre.SUBPATTERN:
            _, add, remove, inner = av
            if (add | remove) & ~re.DOTALL:
                raise NotExportableError("inline flags other than (?s) read differently in RE2")
            inner_dotall = (dotall or bool(add & re.DOTALL)) and not remove & re.DOTALL
            return "(?:" + self.sequence(list(inner), dotall=inner_dotall) + ")"
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            low, high, inner = av
            body = "(?:" + self.sequence(list(inner), dotall=dotall) + ")"
            return body + _quantifier(low, high)
        if op is sre.AT:
            if av in (sre.AT_BEGINNING, sre.AT_BEGINNING_STRING):
                return "^"
            if av is sre.AT_END_STRING:
                return r"\z"
            if av is sre.AT_END and last:
                return "$"
            if av is sre.AT_END:
                raise NotExportableError("$ before the end also matches before a final line break")
            raise NotExportableError(r"\b and \B are Unicode in Python and ASCII in RE2")
        names = {
            sre.GROUPREF: "a back reference",
            sre.ASSERT: "a look-ahead or look-behind",
            sre.ASSERT_NOT: "a look-ahead or look-behind",
        }
        raise NotExportableError(f"{names.get(op, str(op).lower())} has no RE2 equivalent")

    def charset(self, items: list[tuple[Any, Any]]) -> str:
        """RE2 for a character class ``[...]``."""
        negated = False
        body: list[str] = []
        for op, av in items:
            if op is sre.NEGATE:
                negated = True
            elif op is sre.LITERAL:
                body.append(_class_char(av))
            elif op is sre.RANGE:
                body.append(f"{_class_char(av[0])}-{_class_char(av[1])}")
            elif op is sre.CATEGORY:
                body.append(self.category(av))
            else:
                raise NotExportableError(f"{op} in a character class")
        return "[" + ("^" if negated else "") + "".join(body) + "]"

    def category(self, category: Any) -> str:
        r"""RE2 for ``\d``, ``\w``, ``\s`` and their complements, inside a class."""
        if category is sre.CATEGORY_DIGIT:
            return "0-9" if self.ascii else r"\p{Nd}"
        if category is sre.CATEGORY_NOT_DIGIT:
            return _complement([(0x30, 0x39)]) if self.ascii else r"\P{Nd}"
        if self.ascii:
            word = [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)]
            space = [(0x09, 0x0D), (0x20, 0x20)]
            table = {
                sre.CATEGORY_WORD: _ranges(word),
                sre.CATEGORY_NOT_WORD: _complement(word),
                sre.CATEGORY_SPACE: _ranges(space),
                sre.CATEGORY_NOT_SPACE: _complement(space),
            }
            if category in table:
                return table[category]
        raise NotExportableError(r"\w and \s are Unicode in Python and ASCII in RE2")


def _quantifier(low: int, high: int) -> str:
    unbounded = high is sre.MAXREPEAT
    if low > RE2_MAX_REPEAT or (not unbounded and high > RE2_MAX_REPEAT):
        raise NotExportableError(f"RE2 repeats at most {RE2_MAX_REPEAT} times")
    if unbounded:
        return {0: "*", 1: "+"}.get(low, f"{{{low},}}")
    if (low, high) == (0, 1):
        return "?"
    return f"{{{low}}}" if low == high else f"{{{low},{high}}}"


def literal(code: int) -> str:
    """RE2 for the character *code*, read literally."""
    char = chr(code)
    if char.isascii() and char.isalnum():
        return char
    if 0x20 <= code < 0x7F:
        return "\\" + char
    return f"\\x{{{code:x}}}"


def _class_char(code: int) -> str:
    return literal(code)


def _ranges(ranges: list[tuple[int, int]]) -> str:
    return "".join(
        _class_char(lo) if lo == hi else f"{_class_char(lo)}-{_class_char(hi)}" for lo, hi in ranges
    )


def _complement(ranges: list[tuple[int, int]]) -> str:
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in sorted(ranges):
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    out.append((start, _MAX_CODE))
    return _ranges(out)
