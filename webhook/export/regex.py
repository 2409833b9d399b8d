r"""Regexes for CEL's ``matches`` (RE2), from the three dialects a policy can hold.

CEL's ``matches`` is RE2 (Go's ``regexp`` in the API server, the C++ library
offline) and looks for a match anywhere: a full match is written
``^(?:...)$`` (RE2's ``$`` without the ``m`` flag is the very end).

* SageMaker's patterns are Java's: :mod:`webhook.constraints.patterns` spells
  them out with Java's meaning in RE2 too. One construct it cannot carry over
  is kept: a negative look-behind of one character at the very end (``ArnOrName``
  ends in ``(?<!-)``), which under a full match only says what the value does
  not end with; it becomes a second test (:class:`JavaPattern`).
* A policy's own regexes are Python's (``re``): :func:`python_re2` rewrites
  Python's parse of one construct by construct (:mod:`webhook.export.re2`),
  and refuses what RE2 reads differently: ``\w``, ``\s`` and ``\b`` (Unicode
  in Python, ASCII in RE2), case folding, multi-line anchors, look-around, back
  references, a ``$`` before the end (Python's also matches before a final line
  break), possessive and atomic groups, repetitions past RE2's 1000. ``\d`` is
  Unicode in both: ``\p{Nd}``.
* Globs (policy allow-lists) follow :func:`fnmatch.fnmatchcase`;
  :func:`glob_re2` reads them the way :func:`fnmatch.translate` does.

Placeholders: ``{namespace}`` is the request's namespace, a DNS label of
lower-case letters, digits and ``-`` that RE2 reads literally, so it is
concatenated into the regex at run time (:class:`Templated`). ``{name}`` and
``{trainingJobName}`` may hold characters a regex does not read literally, and
CEL's standard library cannot escape them: such a regex is not exported.
"""

from __future__ import annotations

import fnmatch
import re
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from webhook.constraints.patterns import translate
from webhook.export import text
from webhook.export.re2 import ANY, NotExportableError, PythonToRe2, literal

NAMESPACE: Final = "{namespace}"
UNSUPPORTED_PLACEHOLDERS: Final = ("{name}", "{trainingJobName}")
#: Stands for ``{namespace}`` while a templated regex is translated (private-use characters).
_SENTINEL: Final = "\ue000\ue001"
_SENTINEL_RE2: Final = r"\x{e000}\x{e001}"


@dataclass(frozen=True, slots=True)
class Templated:
    """An RE2 full-match regex, maybe with the request's namespace spliced in at run time."""

    parts: tuple[str, ...]
    """RE2 source around each ``{namespace}`` (one more part than placeholders)."""

    @property
    def static(self) -> bool:
        """True when it has no placeholder."""
        return len(self.parts) == 1

    def cel(self, namespace: str = "request.namespace") -> str:
        """The CEL expression of the anchored regex (a literal when static)."""
        parts = list(self.parts)
        parts[0] = "^(?:" + parts[0]
        parts[-1] = parts[-1] + ")$"
        pieces = [text.string(parts[0])]
        for part in parts[1:]:
            pieces.extend((namespace, text.string(part)))
        return " + ".join(pieces)

    def matches(self, value: str, namespace: str = "request.namespace") -> str:
        """CEL: *value* matches the whole regex."""
        return f"{value}.matches({self.cel(namespace)})"


def alternatives(regexes: Sequence[Templated]) -> Templated:
    """One regex that matches what any of *regexes* matches (placeholders kept)."""
    if all(regex.static for regex in regexes):
        return Templated(("|".join(f"(?:{regex.parts[0]})" for regex in regexes),))
    parts: list[str] = []
    for index, regex in enumerate(regexes):
        pieces = list(regex.parts)
        pieces[0] = ("|" if index else "") + "(?:" + pieces[0]
        pieces[-1] = pieces[-1] + ")"
        if parts:
            parts[-1] += pieces[0]
            parts.extend(pieces[1:])
        else:
            parts.extend(pieces)
    return Templated(tuple(parts))


# -- Java (the service model) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JavaPattern:
    """A service-model pattern as RE2: the full match, and a suffix the value must not have."""

    re2: str
    not_ending: str | None = None
    """An RE2 regex (anchored at the end) the value must not match: a final look-behind."""

    def holds(self, value: str) -> str:
        """CEL: *value* matches the pattern as SageMaker reads it."""
        test = f"{value}.matches({text.string('^(?:' + self.re2 + ')$')})"
        if self.not_ending is None:
            return test
        return f"{test} && !{value}.matches({text.string(self.not_ending)})"


_FINAL_LOOK_BEHIND: Final = re.compile(r"(?P<body>.*)\(\?<!(?P<char>\\?.)\)", re.DOTALL)


def java_re2(pattern: str) -> JavaPattern:
    """The RE2 form of a service-model pattern; NotExportableError when there is none."""
    translation = translate(pattern)
    if translation.re2 is not None:
        return JavaPattern(translation.re2)
    final = _FINAL_LOOK_BEHIND.fullmatch(pattern)
    if final is not None:
        body, char = translate(final["body"]), translate(final["char"])
        if body.re2 is not None and char.re2 is not None:
            return JavaPattern(body.re2, f"(?:{char.re2})$")
    raise NotExportableError(translation.re2_problem)


# -- Python (a policy's regexes) ------------------------------------------------------------


def python_re2(pattern: str, *, placeholders: bool = True) -> Templated:
    """The RE2 form of a Python regex meant for ``re.fullmatch`` (``{namespace}`` kept).

    The placeholder stands for the namespace regex-escaped, as
    :func:`webhook.policy.rules.naming.fill_pattern` fills it. Without
    *placeholders* (a regex the webhook compiles as it is), braces are the regex's.
    """
    if not placeholders:
        return Templated((_python(pattern),))
    for placeholder in UNSUPPORTED_PLACEHOLDERS:
        if placeholder in pattern:
            raise NotExportableError(
                f"{placeholder} may hold characters a regex reads as syntax, and CEL's "
                "standard library cannot escape them"
            )
    count = pattern.count(NAMESPACE)
    body = _python(pattern.replace(NAMESPACE, _SENTINEL), check_sentinels=True)
    pieces = body.split(_SENTINEL_RE2)
    if len(pieces) != count + 1 or any("x{e00" in piece for piece in pieces):
        raise NotExportableError(
            "{namespace} is used inside a class or under a repetition of its own"
        )
    return Templated(tuple(pieces))


def _python(source: str, *, check_sentinels: bool = False) -> str:
    """One Python regex (no placeholders left) in RE2."""
    try:
        parsed = sre_parse.parse(source)
    except re.error as error:
        raise NotExportableError(f"not a valid regex: {error}") from None
    if check_sentinels and not _sentinels_whole(list(parsed)):
        raise NotExportableError(
            "{namespace} is used inside a class or under a repetition of its own"
        )
    flags = parsed.state.flags
    if flags & (re.IGNORECASE | re.MULTILINE | re.LOCALE):
        raise NotExportableError("case folding and multi-line anchors read differently in RE2")
    translator = PythonToRe2(ascii_classes=bool(flags & re.ASCII))
    return translator.sequence(list(parsed), dotall=bool(flags & re.DOTALL), top=True)


_FIRST, _SECOND = (ord(char) for char in _SENTINEL)


def _sentinels_whole(items: list[tuple[Any, Any]]) -> bool:
    """True when each stand-in for ``{namespace}`` is two literals in a row of a sequence."""
    for index, (op, av) in enumerate(items):
        if op is sre.LITERAL and av == _FIRST:
            following = items[index + 1] if index + 1 < len(items) else None
            if following != (sre.LITERAL, _SECOND):
                return False
        elif op is sre.LITERAL and av == _SECOND:
            if index == 0 or items[index - 1] != (sre.LITERAL, _FIRST):
                return False
        elif (
            (
                op in (sre.IN, sre.NOT_LITERAL)
                and any(code in (_FIRST, _SECOND) for code in _codes(av))
            )
            or (op is sre.BRANCH and not all(_sentinels_whole(list(b)) for b in av[1]))
            or (op is sre.SUBPATTERN and not _sentinels_whole(list(av[3])))
            or (op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and not _sentinels_whole(list(av[2])))
        ):
            return False
    return True


def _codes(av: Any) -> list[int]:
    if isinstance(av, int):
        return [av]
    codes: list[int] = []
    for op, value in av:
        if op is sre.LITERAL:
            codes.append(value)
        elif op is sre.RANGE:
            codes.extend(value)
    return codes


# -- globs ----------------------------------------------------------------------------------


def glob_re2(pattern: str) -> Templated:
    """The RE2 form of a glob (:func:`fnmatch.fnmatchcase`), ``{namespace}`` kept.

    The placeholder is filled escaped (:class:`webhook.policy.globs.Globs`), so it
    is matched literally; a ``[`` set next to it could read it otherwise and is
    not exported.
    """
    for placeholder in UNSUPPORTED_PLACEHOLDERS:
        if placeholder in pattern:
            raise NotExportableError(
                f"{placeholder} may hold characters a regex reads as syntax, and CEL's "
                "standard library cannot escape them"
            )
    pieces = pattern.split(NAMESPACE)
    if len(pieces) > 1 and "[" in pattern:
        raise NotExportableError("a [set] in a glob with {namespace}")
    return Templated(tuple(_glob(piece) for piece in pieces))


def _glob(pattern: str) -> str:
    """One glob without placeholders, element by element as :func:`fnmatch.translate` reads it."""
    out: list[str] = []
    index, end = 0, len(pattern)
    while index < end:
        char = pattern[index]
        index += 1
        if char == "*":
            if not out or out[-1] != ANY + "*":
                out.append(ANY + "*")
        elif char == "?":
            out.append(ANY)
        elif char == "[":
            close = index
            if close < end and pattern[close] == "!":
                close += 1
            if close < end and pattern[close] == "]":
                close += 1
            while close < end and pattern[close] != "]":
                close += 1
            if close >= end:
                out.append(literal(ord("[")))
            else:
                out.append(_glob_set(pattern[index - 1 : close + 1]))
                index = close + 1
        else:
            out.append(literal(ord(char)))
    return "".join(out)


def _glob_set(bracket: str) -> str:
    """A ``[...]`` of a glob, as fnmatch reads it (its own translation, parsed)."""
    parsed = list(sre_parse.parse(fnmatch.translate(bracket)))
    (op, av), _end = parsed
    assert op is sre.SUBPATTERN
    inner = list(av[3])
    if len(inner) != 1:
        raise NotExportableError(f"the glob set {bracket} has no single-character reading")
    (kind, value) = inner[0]
    if kind is sre.IN:
        return PythonToRe2(ascii_classes=False).charset(list(value))
    if kind is sre.ANY:
        return ANY
    if kind is sre.ASSERT_NOT:  # an empty set: never matches
        return r"[^\x{0}-\x{10ffff}]"
    return PythonToRe2(ascii_classes=False).item(kind, value, dotall=True)


__all__ = [
    "NAMESPACE",
    "UNSUPPORTED_PLACEHOLDERS",
    "JavaPattern",
    "NotExportableError",
    "Templated",
    "alternatives",
    "glob_re2",
    "java_re2",
    "python_re2",
]
