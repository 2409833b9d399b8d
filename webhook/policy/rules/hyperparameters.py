"""Rule kind ``hyperparameters``: which keys a job may set and what their values must be.

``maxCount`` limits the number of keys, ``allowKeys`` (globs; absent allows any
key) and ``denyKeys`` (globs, checked first) restrict the key names, and
``keys`` gives per-key limits. SageMaker passes every hyperparameter as a
string, so a value is parsed per its ``type`` before the limits apply:

* ``integer``: Python ``int()`` of the stripped string (``"1.5"`` is not one);
* ``float``: ``float()``, finite only (``nan`` and ``inf`` are rejected);
* ``boolean``: ``true`` or ``false``, any case;
* ``string``: the value as is.

``min``/``max``/``exclusiveMin``/``exclusiveMax`` apply to the parsed number;
``enum`` compares the raw string; ``pattern`` is a regex that must match the
whole raw string; ``required`` means the key must be present.

Choices:

* Values are never shown in messages (a hyperparameter may hold a secret);
  the limits are.
* A value that is not a string (``epochs: 10`` unquoted) is skipped: the CRD's
  type check reports it with a "quote it" fix.
* An empty ``allowKeys`` is a policy error (``maxCount: 0`` allows no key).
* A key named in ``keys`` must be allowed by ``allowKeys`` and, when
  ``required``, not denied by ``denyKeys``: a contradiction is a policy error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from webhook.paths import Path
from webhook.policy.globs import Globs
from webhook.policy.model import HyperParameterLimits, HyperparametersRule
from webhook.policy.rules import Check, FieldPath, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import did_you_mean, show, suggestion

_MAP: Final[Path] = ("spec", "hyperParameters")
LISTED: Final = 12
"""Largest enum a message lists in full."""

_GLOB_CHARS: Final = frozenset("*?[{")

Number = int | float
_Bound = tuple[Callable[[Number], bool], str]
"""A limit on a parsed number: whether a number meets it, and the message when not."""


def _parse_integer(text: str) -> Number | None:
    try:
        return int(text.strip())
    except ValueError:
        return None


def _parse_float(text: str) -> Number | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _parse_boolean(text: str) -> Number | None:
    return True if text.strip().lower() in ("true", "false") else None


#: Parser (None when the value is not of the type) and what the type is called.
_PARSERS: Final[dict[str, tuple[Callable[[str], Number | None], str]]] = {
    "integer": (_parse_integer, "an integer"),
    "float": (_parse_float, "a finite number"),
    "boolean": (_parse_boolean, "a boolean (true or false)"),
}


def _number(value: float) -> str:
    """Render a limit: ``200`` rather than ``200.0``."""
    return str(int(value)) if value.is_integer() else repr(value)


@dataclass(frozen=True, slots=True)
class _Limits:
    """One key's compiled limits."""

    path: Path
    required: bool
    parse: Callable[[str], Number | None] | None
    type_name: str
    bounds: tuple[_Bound, ...]
    enum: frozenset[str] | None
    enum_message: str
    pattern: re.Pattern[str] | None
    pattern_message: str

    def check(self, value: str) -> Iterator[str]:
        """The problems of *value*, without showing it."""
        if self.parse is not None:
            number = self.parse(value)
            if number is None:
                yield f"value is not {self.type_name}"
            else:
                for holds, message in self.bounds:
                    if not holds(number):
                        yield message
        if self.enum is not None and value not in self.enum:
            yield self.enum_message
        if self.pattern is not None and not self.pattern.fullmatch(value):
            yield self.pattern_message


def _empty_range(limits: HyperParameterLimits) -> bool:
    """True when no number can satisfy both the lower and the upper limits."""
    low = [(v, e) for v, e in ((limits.min, False), (limits.exclusiveMin, True)) if v is not None]
    high = [(v, e) for v, e in ((limits.max, False), (limits.exclusiveMax, True)) if v is not None]
    if not low or not high:
        return False
    low_value, low_exclusive = max(low)
    high_value, high_exclusive = min(high, key=lambda bound: (bound[0], not bound[1]))
    if low_value != high_value:
        return low_value > high_value
    return low_exclusive or high_exclusive


def _compile_limits(key: str, limits: HyperParameterLimits) -> _Limits:
    """Compile *key*'s limits; a limit no value can meet is a policy error."""
    field: FieldPath = ("keys", key)
    parse, type_name = _PARSERS.get(limits.type, (None, "a string"))
    bounds = _compile_bounds(field, limits)
    enum, enum_message = _compile_enum(field, limits, parse, type_name)
    pattern, pattern_message = _compile_pattern(field, limits.pattern)
    return _Limits(
        (*_MAP, key),
        limits.required,
        parse,
        type_name,
        bounds,
        enum,
        enum_message,
        pattern,
        pattern_message,
    )


def _compile_bounds(field: FieldPath, limits: HyperParameterLimits) -> tuple[_Bound, ...]:
    """``min``/``max``/``exclusiveMin``/``exclusiveMax``: each a test and its message."""
    given = {
        "min": limits.min,
        "max": limits.max,
        "exclusiveMin": limits.exclusiveMin,
        "exclusiveMax": limits.exclusiveMax,
    }
    for name, limit in given.items():
        if limit is None:
            continue
        if limits.type not in ("integer", "float"):
            raise RuleConfigError(
                (*field, name), f"applies only to type integer or float, not {limits.type}"
            )
        if not math.isfinite(limit):
            raise RuleConfigError((*field, name), "must be a finite number")
    if _empty_range(limits):
        raise RuleConfigError(field, "the lower limit is not below the upper limit: no value fits")
    bounds: list[_Bound] = []
    if limits.min is not None:
        low_min = limits.min
        bounds.append((lambda n: n >= low_min, f"value must be at least {_number(low_min)}"))
    if limits.exclusiveMin is not None:
        low_ex = limits.exclusiveMin
        bounds.append((lambda n: n > low_ex, f"value must be greater than {_number(low_ex)}"))
    if limits.max is not None:
        high_max = limits.max
        bounds.append((lambda n: n <= high_max, f"value must be at most {_number(high_max)}"))
    if limits.exclusiveMax is not None:
        high_ex = limits.exclusiveMax
        bounds.append((lambda n: n < high_ex, f"value must be less than {_number(high_ex)}"))
    return tuple(bounds)


def _compile_enum(
    field: FieldPath,
    limits: HyperParameterLimits,
    parse: Callable[[str], Number | None] | None,
    type_name: str,
) -> tuple[frozenset[str] | None, str]:
    """``enum``: the allowed values (each of the key's type) and the message, if given."""
    if limits.enum is None:
        return None, ""
    if not limits.enum:
        raise RuleConfigError((*field, "enum"), "is empty: no value fits; remove it or add values")
    if parse is not None:
        bad = [v for v in limits.enum if parse(v) is None]
        if bad:
            raise RuleConfigError(
                (*field, "enum"), f"{show(bad[0])} is not {type_name}, the key's type"
            )
    if len(limits.enum) <= LISTED:
        return frozenset(limits.enum), f"value is not one of {', '.join(limits.enum)}"
    message = f"value is not one of the {len(limits.enum)} values the policy allows"
    return frozenset(limits.enum), message


def _compile_pattern(field: FieldPath, pattern: str | None) -> tuple[re.Pattern[str] | None, str]:
    """``pattern``: the compiled regex and the message, if given."""
    if pattern is None:
        return None, ""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise RuleConfigError(
            (*field, "pattern"), f"{show(pattern)} is not a valid regex: {error}"
        ) from None
    return compiled, f"value does not match the pattern {pattern}"


def _literal(pattern: str) -> bool:
    return not _GLOB_CHARS.intersection(pattern)


def _refuse_contradictions(
    rule: HyperparametersRule, allow: Globs | None, deny: Globs, limits: Mapping[str, _Limits]
) -> None:
    """Refuse limits for a key allowKeys never allows, and a required key denyKeys denies."""
    templated_allow = any("{" in pattern for pattern in rule.allowKeys or [])
    for key, compiled in limits.items():
        if allow is not None and not templated_allow and not allow.matches(key):
            raise RuleConfigError(
                ("keys", key),
                f"{show(key)} is not in allowKeys, so its limits can never apply; "
                "add it to allowKeys or remove it",
            )
        if compiled.required and deny.matches(key):
            raise RuleConfigError(
                ("keys", key, "required"),
                f"{show(key)} is also denied by denyKeys: no job can pass",
            )


def compile_rule(rule: HyperparametersRule) -> Check:
    """Compile a ``hyperparameters`` rule into a check."""
    if rule.allowKeys == []:
        raise RuleConfigError(
            "allowKeys", "is empty; leave it out to allow any key, or use maxCount: 0 to allow none"
        )
    allow = Globs(rule.allowKeys) if rule.allowKeys is not None else None
    deny = Globs(rule.denyKeys)
    limits = {key: _compile_limits(key, value) for key, value in rule.keys.items()}
    _refuse_contradictions(rule, allow, deny, limits)
    required = tuple(
        (key, c.path, f"hyperparameter {show(key)} is required; missing")
        for key, c in limits.items()
        if c.required
    )
    known = sorted(
        {*(p for p in (rule.allowKeys or []) if _literal(p)), *rule.keys},
    )
    max_count = rule.maxCount

    def check(subject: Subject) -> Iterator[Violation]:
        params = subject.spec.get("hyperParameters")
        if params is None:
            params = {}
        elif not isinstance(params, dict):
            return  # the CRD's type check reports it
        if max_count is not None and len(params) > max_count:
            yield Violation(
                _MAP,
                f"has {len(params)} hyperparameters; the policy allows at most {max_count}",
            )
        yield from _check_keys(subject, params)
        for key, path, message in required:
            if key not in params:
                yield Violation(path, message)

    def _check_keys(subject: Subject, params: Mapping[Any, Any]) -> Iterator[Violation]:
        for key, value in params.items():
            if not isinstance(key, str):
                continue  # the CRD's type check reports it
            path = (*_MAP, key)
            if deny and deny.matches(key, subject):
                yield Violation(
                    path,
                    f"{show(key)} is a denied hyperparameter; denied: {deny.describe(subject)}",
                )
                continue
            if allow is not None and not allow.matches(key, subject):
                near = suggestion(did_you_mean(key, known, limit=1))
                yield Violation(
                    path,
                    f"{show(key)} is not an allowed hyperparameter; "
                    f"allowed: {allow.describe(subject)}{near}",
                )
                continue
            compiled = limits.get(key)
            if compiled is not None and isinstance(value, str):
                for message in compiled.check(value):
                    yield Violation(path, message)

    return check
