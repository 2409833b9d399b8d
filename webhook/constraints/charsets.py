r"""Java's character classes as sets of code points, written out in each regex dialect.

A class of a Java pattern (``[a-z]``, ``\d``, ``\p{Alnum}``, ``\p{L}``, ``.``) is a
:class:`CharSet`: ranges of code points with Java's meaning (the shorthands and POSIX
classes are ASCII, :data:`SHORTHANDS` and :data:`POSIX`) and Unicode categories, which
both dialects know. :func:`render_set` writes one in Python's, ECMA-262's or RE2's
syntax, :func:`render_char` one character so that the dialect reads it literally. The
parser of whole patterns is :mod:`webhook.constraints.patterns`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Dialect = Literal["python", "ecma", "re2"]
Ranges = tuple[tuple[int, int], ...]

#: What Java's ``.`` does not match (no DOTALL, no UNIX_LINES flag): its line terminators.
LINE_TERMINATORS: Final = "\n\r\u0085\u2028\u2029"

#: The largest Unicode code point.
MAX_CODE_POINT: Final = 0x10FFFF
_DIGIT: Final[Ranges] = ((0x30, 0x39),)
_WORD: Final[Ranges] = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_SPACE: Final[Ranges] = ((0x09, 0x0D), (0x20, 0x20))  # [ \t\n\x0B\f\r]
LINE_BREAKS: Final[Ranges] = tuple((ord(char), ord(char)) for char in LINE_TERMINATORS)
"""Java's line terminators as ranges."""

#: Java's shorthand classes (ASCII unless UNICODE_CHARACTER_CLASS, which SageMaker does not
#: set); the upper-case letter is the complement.
SHORTHANDS: Final[dict[str, Ranges]] = {
    "d": _DIGIT,
    "w": _WORD,
    "s": _SPACE,
}

#: Java's POSIX classes, which are ASCII (``java.util.regex.Pattern``'s table).
POSIX: Final[dict[str, Ranges]] = {
    "Lower": ((0x61, 0x7A),),
    "Upper": ((0x41, 0x5A),),
    "ASCII": ((0x00, 0x7F),),
    "Alpha": ((0x41, 0x5A), (0x61, 0x7A)),
    "Digit": _DIGIT,
    "Alnum": ((0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)),
    "Punct": ((0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)),
    "Graph": ((0x21, 0x7E),),
    "Print": ((0x20, 0x7E),),
    "Blank": ((0x09, 0x09), (0x20, 0x20)),
    "Cntrl": ((0x00, 0x1F), (0x7F, 0x7F)),
    "XDigit": ((0x30, 0x39), (0x41, 0x46), (0x61, 0x66)),
    "Space": _SPACE,
}

#: Unicode general categories: Unicode in Java and in both dialects (``\p{L}``, ``\p{IsLu}``).
CATEGORY: Final = re.compile(r"[LMNPSZC]|L[ultmo]|M[nce]|N[dlo]|P[cdseifo]|S[mcko]|Z[slp]|C[cfon]")

#: Control characters both dialects write as Java does.
_READABLE: Final = {0x09: r"\t", 0x0A: r"\n", 0x0C: r"\f", 0x0D: r"\r"}

#: What each dialect needs escaped to read a character literally, outside a class and in one.
META: Final = frozenset("\\^$.|?*+()[]{}")
_CLASS_META: Final = frozenset("\\]^-[&~|")


@dataclass(frozen=True, slots=True)
class CharSet:
    """A character class: ranges of code points and Unicode categories, maybe negated."""

    ranges: Ranges = ()
    categories: tuple[str, ...] = ()  # ``\p{L}`` or ``\P{L}``, as both dialects write them
    negated: bool = False


def included(charset: CharSet) -> Ranges:
    r"""The code points a set takes but its categories, as ranges (a negated one complemented).

    Only a shorthand or POSIX class is negated here; a category carries its own
    negation (``\P{L}``).
    """
    return _complement(charset.ranges) if charset.negated else charset.ranges


def _merged(ranges: Iterable[tuple[int, int]]) -> Ranges:
    out: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if out and low <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(high, out[-1][1]))
        else:
            out.append((low, high))
    return tuple(out)


def _complement(ranges: Ranges) -> Ranges:
    out: list[tuple[int, int]] = []
    start = 0
    for low, high in _merged(ranges):
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= MAX_CODE_POINT:
        out.append((start, MAX_CODE_POINT))
    return tuple(out)


def render_set(charset: CharSet, dialect: Dialect) -> str:
    """*charset* as a class (in brackets) of *dialect*."""
    body = render_body(charset.ranges, dialect) + "".join(charset.categories)
    return f"[{'^' if charset.negated else ''}{body}]"


def render_body(ranges: Ranges, dialect: Dialect) -> str:
    """*ranges* as the body of a class (no brackets) of *dialect*."""

    def char(code: int) -> str:
        return render_char(code, dialect, _CLASS_META)

    return "".join(char(lo) if lo == hi else f"{char(lo)}-{char(hi)}" for lo, hi in ranges)


def render_char(code: int, dialect: Dialect, meta: frozenset[str]) -> str:
    """One character, read literally by *dialect* (in a class when *meta* is the class's)."""
    char = chr(code)
    if char in meta:
        return "\\" + char
    if code in _READABLE:
        return _READABLE[code]
    if 0x20 <= code < 0x7F:
        return char
    if dialect == "re2":
        return f"\\x{{{code:x}}}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}" if dialect == "python" else f"\\u{{{code:x}}}"
