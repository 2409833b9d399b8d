r"""Java regexes of the service model, in the two dialects that check them here.

SageMaker checks a value against its pattern the way Java's ``String.matches``
does: the whole value, with Java's meaning of each construct. Python's ``re``
and the ECMA-262 dialect of JSON Schema (jsonschema-rs) read some of them
differently, always more loosely for the patterns SageMaker uses:

* ``\d``, ``\w`` and ``\s`` are ASCII in Java; ``re`` takes any Unicode digit,
  letter or space (``arn:aws:iam::١٢٣٤٥٦٧٨٩٠١٢:role/x`` matched the role ARN's
  ``\d{12}``), ECMA any Unicode space;
* ``.`` stops at each of Java's line terminators (``\n``, ``\r``, ``\u0085``,
  ``\u2028``, ``\u2029``); ``re``'s only at ``\n``, ECMA's not at ``\u0085``;
* ``$`` ends the input or stands before a line terminator that ends it;
* ``\p{Alnum}`` and the other POSIX classes are ASCII; ``\p{L}`` and the other
  Unicode categories are Unicode, as in both dialects.

:func:`translate` spells each construct out in both dialects with Java's
meaning (``\d`` becomes ``[0-9]``, ``.`` becomes ``[^\n\r\x85\u2028\u2029]``),
so the Python check and the native schema read a pattern the same way, and
that way is SageMaker's. A construct it cannot carry over exactly (a word
boundary, a back reference, inline flags, nested classes) raises
:class:`UnsupportedPatternError`, so a model update that brings one fails loudly
at load instead of checking something else.

The character classes, as sets of code points written out in each dialect,
are :mod:`webhook.constraints.charsets`; this module parses whole patterns.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Final

from webhook.constraints.charsets import (
    CATEGORY,
    LINE_BREAKS,
    LINE_TERMINATORS,
    MAX_CODE_POINT,
    META,
    POSIX,
    SHORTHANDS,
    CharSet,
    Dialect,
    included,
    render_body,
    render_char,
    render_set,
)

__all__ = [
    "LINE_TERMINATOR",
    "LINE_TERMINATORS",
    "RE2_MAX_REPEAT",
    "Translation",
    "UnsupportedPatternError",
    "breaks_line",
    "line_terminators",
    "one_line",
    "translate",
]

#: Java's control escapes and the code points they stand for.
_CONTROLS: Final = {"t": 0x09, "n": 0x0A, "r": 0x0D, "f": 0x0C, "a": 0x07, "e": 0x1B}


#: Java's ``\z``: the very end.
_VERY_END: Final = {"python": r"\Z", "ecma": "$", "re2": r"\z"}
#: Java's ``$`` (and ``\Z``) without MULTILINE: the end, or before a final line terminator
#: (``\r\n`` counts as one, so not between its two characters).
_JAVA_END: Final = {
    dialect: rf"(?=(?:\r\n|(?<!\r)\n|[\r\x85\u2028\u2029])?{end})"
    for dialect, end in _VERY_END.items()
    if dialect != "re2"
}
#: RE2's largest repetition count.
RE2_MAX_REPEAT: Final = 1000

#: Escapes not translated (none is in the model): what each is, for the error.
_UNSUPPORTED: Final = {
    "b": "a word boundary",
    "B": "a word boundary",
    "G": "the end of the previous match",
    "Q": "quoted text",
    "0": "an octal escape",
    "c": "a control escape",
    "h": "horizontal white space",
    "v": "vertical white space",
}


class UnsupportedPatternError(ValueError):
    """A Java construct the translation cannot carry over with its exact meaning."""


@dataclass(frozen=True, slots=True)
class Translation:
    """One Java pattern, with Java's meaning, in each dialect (not anchored)."""

    java: str
    python: str
    """For ``re`` (or the ``regex`` package when :attr:`unicode_properties`), to full-match."""
    ecma: str
    """For a JSON Schema ``pattern`` (jsonschema-rs), to anchor with ``^(?:...)$``."""
    unicode_properties: bool
    r"""The pattern uses ``\p{L}``-style classes, which ``re`` does not know."""
    re2: str | None = None
    """For RE2 (CEL's ``matches``), to anchor with ``^(?:...)$``; None when RE2 cannot say
    it (look-around, Java's ``$``): :attr:`re2_problem` says why."""
    re2_problem: str = ""


@functools.cache
def translate(pattern: str) -> Translation:
    """Translate a service-model (Java) pattern into Python's and ECMA-262's dialects."""
    return _Parser(pattern).translation()


def one_line(pattern: str | None, min_length: int) -> bool:
    """True when *pattern* only asks that a value hold no line terminator.

    That is ``.*``, and ``.+`` on a value at least one character long: a search
    for a line terminator is the whole check, and faster than a full match.
    """
    return pattern == ".*" or (pattern == ".+" and min_length >= 1)


def line_terminators(dialect: Dialect) -> str:
    """Java's line terminators as the body of a character class (no brackets) in *dialect*."""
    return render_body(LINE_BREAKS, dialect)


class _Parser:
    """One pass over a Java pattern, writing both dialects at once."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0
        self.out: dict[Dialect, list[str]] = {"python": [], "ecma": [], "re2": []}
        self.unicode_properties = False
        self.re2_problem = ""

    def translation(self) -> Translation:
        while self.at < len(self.pattern):
            self._token()
        python, ecma, re2 = ("".join(self.out[d]) for d in ("python", "ecma", "re2"))
        if self.re2_problem:
            return Translation(
                self.pattern, python, ecma, self.unicode_properties, None, self.re2_problem
            )
        return Translation(self.pattern, python, ecma, self.unicode_properties, re2)

    def _no_re2(self, what: str) -> None:
        """Note that RE2 has no construct for *what*: the pattern has no RE2 translation."""
        self.re2_problem = self.re2_problem or f"{what} (offset {self.at}) has no RE2 equivalent"

    def _fail(self, what: str) -> UnsupportedPatternError:
        return UnsupportedPatternError(
            f"pattern {self.pattern!r}: {what} at offset {self.at} has no exact translation"
        )

    def _peek(self, offset: int = 0) -> str:
        position = self.at + offset
        return self.pattern[position] if position < len(self.pattern) else ""

    def _emit(self, python: str, ecma: str | None = None, re2: str | None = None) -> None:
        self.out["python"].append(python)
        self.out["ecma"].append(python if ecma is None else ecma)
        self.out["re2"].append(python if re2 is None else re2)

    def _emit_set(self, charset: CharSet) -> None:
        self._emit(*(render_set(charset, dialect) for dialect in ("python", "ecma", "re2")))

    def _emit_char(self, code: int) -> None:
        self._emit(*(render_char(code, dialect, META) for dialect in ("python", "ecma", "re2")))

    def _token(self) -> None:
        char = self._peek()
        if char == "\\":
            self._escape()
        elif char == "[":
            self._emit_set(self._class())
        elif char == ".":
            self.at += 1
            self._emit_set(CharSet(LINE_BREAKS, negated=True))
        elif char == "$":
            self._no_re2("Java's $ (the end, or before a final line terminator)")
            self.at += 1
            self._emit(_JAVA_END["python"], _JAVA_END["ecma"])
        elif char == "(":
            self._group()
        elif char in "*+?":
            self.at += 1
            self._emit(char)
            self._lazy_or_possessive()
        elif char == "{":
            self._bounds()
        elif char in "^|)":
            self.at += 1
            self._emit(char)
        else:
            self.at += 1
            self._emit_char(ord(char))

    def _group(self) -> None:
        self.at += 1
        if self._peek() != "?":
            self._emit("(")
            return
        for opener in ("?:", "?=", "?!", "?<=", "?<!"):
            if self.pattern.startswith(opener, self.at):
                if opener != "?:":
                    self._no_re2("a look-around group")
                self.at += len(opener)
                self._emit("(" + opener)
                return
        name = re.compile(r"\?<([A-Za-z][A-Za-z0-9]*)>").match(self.pattern, self.at)
        if name:  # a named group: no back reference is translated, so its name is not needed
            self.at = name.end()
            self._emit("(?:")
            return
        raise self._fail("an atomic group or inline flags")

    def _bounds(self) -> None:
        bounds = re.compile(r"\{(\d+)(,(\d*))?\}").match(self.pattern, self.at)
        if bounds is None:
            raise self._fail("a '{' that starts no repetition")
        if max(int(n) for n in (bounds.group(1), bounds.group(3)) if n) > RE2_MAX_REPEAT:
            self._no_re2(f"a repetition over {RE2_MAX_REPEAT}")
        self.at = bounds.end()
        self._emit(bounds.group(0))
        self._lazy_or_possessive()

    def _lazy_or_possessive(self) -> None:
        if self._peek() == "?":
            self.at += 1
            self._emit("?")
        elif self._peek() == "+":
            raise self._fail("a possessive quantifier")

    def _escape(self) -> None:
        """An escape outside a class: a set, an anchor or one character."""
        letter = self._peek(1)
        if letter == "A":
            self.at += 2
            self._emit("^")
        elif letter == "Z":
            self._no_re2("Java's \\Z (the end, or before a final line terminator)")
            self.at += 2
            self._emit(_JAVA_END["python"], _JAVA_END["ecma"])
        elif letter == "z":
            self.at += 2
            self._emit(*(_VERY_END[dialect] for dialect in ("python", "ecma", "re2")))
        else:
            atom = self._escaped_atom()
            if isinstance(atom, CharSet):
                self._emit_set(atom)
            else:
                self._emit_char(atom)

    def _escaped_atom(self) -> CharSet | int:
        """The set or the character an escape stands for (in a class or not)."""
        letter = self._peek(1)
        if not letter:
            raise self._fail("a trailing backslash")
        self.at += 2
        if letter.lower() in SHORTHANDS:
            return CharSet(SHORTHANDS[letter.lower()], negated=letter.isupper())
        if letter in "pP":
            return self._property(negated=letter == "P")
        if letter in _CONTROLS:
            return _CONTROLS[letter]
        if letter == "x":
            return self._hex()
        if letter == "u":
            return self._code(r"[0-9a-fA-F]{4}", "a \\u escape")
        if letter in _UNSUPPORTED or letter.isdigit():
            self.at -= 2
            raise self._fail(_UNSUPPORTED.get(letter, "a back reference"))
        if letter.isascii() and letter.isalpha():
            self.at -= 2
            raise self._fail(f"the unknown escape \\{letter}")
        return ord(letter)

    def _code(self, digits: str, what: str) -> int:
        found = re.compile(digits).match(self.pattern, self.at)
        if found is None:
            raise self._fail(what)
        self.at = found.end()
        code = int(found.group(0), 16)
        if 0xD800 <= code <= 0xDFFF:
            raise self._fail("a surrogate code unit")
        return code

    def _hex(self) -> int:
        if self._peek() != "{":
            return self._code(r"[0-9a-fA-F]{2}", "a \\x escape")
        self.at += 1
        code = self._code(r"[0-9a-fA-F]{1,6}", "a \\x{...} escape")
        if self._peek() != "}" or code > MAX_CODE_POINT:
            raise self._fail("a \\x{...} escape")
        self.at += 1
        return code

    def _property(self, *, negated: bool) -> CharSet:
        r"""``\p{Name}``, ``\pL``: a POSIX class (ASCII) or a Unicode general category."""
        if self._peek() == "{":
            end = self.pattern.find("}", self.at)
            if end < 0:
                raise self._fail("an unclosed \\p{")
            name, self.at = self.pattern[self.at + 1 : end], end + 1
        else:
            name, self.at = self._peek(), self.at + 1
        if name in POSIX:
            return CharSet(POSIX[name], negated=negated)
        category = name.removeprefix("Is")
        if not CATEGORY.fullmatch(category):
            raise self._fail(f"the property {name!r}")
        self.unicode_properties = True
        return CharSet(categories=(f"\\{'P' if negated else 'p'}{{{category}}}",))

    def _class(self) -> CharSet:
        """A character class: ranges, escapes and categories, with Java's reading of each."""
        self.at += 1
        negated = self._peek() == "^"
        if negated:
            self.at += 1
        ranges: list[tuple[int, int]] = []
        categories: list[str] = []
        first = True
        while True:
            char = self._peek()
            if not char:
                raise self._fail("an unclosed class")
            if char == "]" and not first:  # first, it is a literal ']', as in Java
                self.at += 1
                break
            if char == "[" or self.pattern.startswith("&&", self.at):
                raise self._fail("a nested class, union or intersection")
            first = False
            low = self._class_atom()
            if isinstance(low, CharSet):
                ranges += included(low)
                categories += low.categories
            elif self._peek() == "-" and self._peek(1) not in ("]", "", "["):
                self.at += 1
                high = self._class_atom()
                if isinstance(high, CharSet) or high < low:
                    raise self._fail("a range that is not from one character to a later one")
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        return CharSet(tuple(dict.fromkeys(ranges)), tuple(dict.fromkeys(categories)), negated)

    def _class_atom(self) -> CharSet | int:
        """The next item of a class: a set, or one character (``.`` and ``$`` are literal)."""
        char = self._peek()
        if char == "\\":
            return self._escaped_atom()
        self.at += 1
        return ord(char)


#: Finds one of Java's line terminators.
LINE_TERMINATOR: Final = re.compile(f"[{line_terminators('python')}]")


def breaks_line(value: str) -> bool:
    """True when *value* holds one of Java's line terminators: a :func:`one_line` check.

    Two byte scans and a flag answer for ASCII text, the usual case, several
    times faster than a regex search.
    """
    if "\n" in value or "\r" in value:
        return True
    return not value.isascii() and LINE_TERMINATOR.search(value) is not None
