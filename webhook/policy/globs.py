"""Glob allow-lists that may use placeholders (``s3://ml-{namespace}/*``).

Globs follow :func:`fnmatch.fnmatchcase`: ``*`` matches any run of
characters (``/`` included), ``?`` one character, ``[...]`` a set; matching is
case-sensitive. Placeholders are substituted with the subject's values,
escaped, so a value can never widen the pattern.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Sequence

from webhook.native import anchored
from webhook.policy.subject import Subject

_GLOB_SPECIAL = re.compile(r"([*?\[])")


def _escape(value: str) -> str:
    return _GLOB_SPECIAL.sub(r"[\1]", value)


@functools.lru_cache(maxsize=4096)
def _filled(pattern: str, namespace: str, name: str, job_name: str) -> re.Pattern[str]:
    """The regex of *pattern* with its placeholders filled (cached: few distinct values)."""
    filled = (
        pattern.replace("{namespace}", _escape(namespace))
        .replace("{name}", _escape(name))
        .replace("{trainingJobName}", _escape(job_name))
    )
    return re.compile(fnmatch.translate(filled))


class Globs:
    """A compiled list of globs; a value is allowed when any of them matches."""

    __slots__ = ("_static", "_templated", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        static = [p for p in self.patterns if "{" not in p]
        self._static = (
            re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in static)) if static else None
        )
        self._templated = tuple(p for p in self.patterns if "{" in p)

    def matches(self, value: str, subject: Subject | None = None) -> bool:
        """True when *value* matches one of the globs (placeholders filled from *subject*)."""
        if self._static is not None and self._static.match(value):
            return True
        for pattern in self._templated:
            if subject is None:
                regex = _filled(pattern, "", "", "")
            else:
                regex = _filled(pattern, subject.namespace, subject.name, subject.training_job_name)
            if regex.match(value):
                return True
        return False

    def describe(self, subject: Subject | None = None, limit: int = 5) -> str:
        """The allowed globs, placeholders filled, for a message."""
        shown = [subject.template(p) if subject else p for p in self.patterns[:limit]]
        more = len(self.patterns) - limit
        return ", ".join(shown) + (f" (and {more} more)" if more > 0 else "")

    def __bool__(self) -> bool:
        return bool(self.patterns)


def can_start_with(pattern: str, prefix: str) -> bool:
    """Whether the glob *pattern* can match some value starting with *prefix*."""
    literal = re.split(r"[*?\[{]", pattern, maxsplit=1)[0]
    if literal == pattern:
        return pattern.startswith(prefix)
    return literal.startswith(prefix) or prefix.startswith(literal)


def native_regex(patterns: Sequence[str]) -> str | None:
    """The anchored regex of :class:`Globs` *patterns* for :mod:`webhook.native`.

    None when a pattern has a placeholder (it depends on the request) or a
    ``[...]`` set (fnmatch's sets differ from regex classes in small ways):
    the rule then stays in Python.
    """
    alternatives = []
    for pattern in patterns:
        if "[" in pattern or "{" in pattern:
            return None
        alternatives.append(
            "".join(
                "(?s:.)*" if char == "*" else "(?s:.)" if char == "?" else _literal(char)
                for char in pattern
            )
        )
    return anchored("|".join(alternatives)) if alternatives else None


def _literal(char: str) -> str:
    return "\\" + char if char in r"\.+*?()|[]{}^$#&-~" else char
