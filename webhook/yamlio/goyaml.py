"""go-yaml v2's scalar rules: the tag and Go value of a scalar, from its text and tag.

kubectl reads YAML with go-yaml v2 (the fork in sigs.k8s.io/yaml), whose
``resolve`` differs from PyYAML's YAML 1.1 resolver; this module follows
go-yaml, not PyYAML:

- YAML 1.1 booleans (``y``, ``no``, ``on`` ...) and nulls (``~``, empty) by
  their exact text, from go-yaml's resolve table;
- integers in any Go base, with underscores (``0o755``, ``0x_1F``, ``1_000``),
  beyond int64 as uint64; floats without a dot (``3e-4``); a float that
  overflows float64 stays a string (Go's ``ParseFloat`` fails), one that
  underflows is 0;
- no sexagesimal numbers (``1:30`` is a string), and a timestamp keeps its
  text: kubectl never builds a time from an untagged scalar;
- explicit tags: ``!!str``, ``!!int`` ... must fit their text (``!!int x`` is
  refused), ``!!float`` turns an int into a float, ``!!binary`` is decoded,
  and any other tag (``!custom``, the non-specific ``!``) leaves the text.

Everything here is pure: a refusal raises :class:`RefusedError` at the
scalar's mark.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from typing import Any, Final

import yaml

from webhook.yamlio.problems import RefusedError

STR: Final = "tag:yaml.org,2002:str"
INT: Final = "tag:yaml.org,2002:int"
FLOAT: Final = "tag:yaml.org,2002:float"
BOOL: Final = "tag:yaml.org,2002:bool"
NULL: Final = "tag:yaml.org,2002:null"
TIMESTAMP: Final = "tag:yaml.org,2002:timestamp"
BINARY: Final = "tag:yaml.org,2002:binary"
MERGE: Final = "tag:yaml.org,2002:merge"
PLAIN: Final = ""
"""The tag of an untagged plain scalar: its type comes from its text."""
_RESOLVABLE: Final = frozenset({PLAIN, STR, INT, FLOAT, BOOL, NULL, TIMESTAMP})
"""Tags go-yaml resolves; it reads any other tag's scalar as its text."""

INT64: Final = range(-(2**63), 2**63)
_UINT64: Final = range(2**64)

# go-yaml v2's resolve table: the scalars it looks up, by their exact text.
_KNOWN: Final[dict[str, tuple[str, Any]]] = {
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), (NULL, None)),
    **dict.fromkeys(
        ("y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), (BOOL, True)
    ),
    **dict.fromkeys(
        ("n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"),
        (BOOL, False),
    ),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), (FLOAT, math.nan)),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), (FLOAT, math.inf)),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), (FLOAT, -math.inf)),
}
# The first character decides what go-yaml tries: D(igit), S(ign), M(ap) or '.'.
_HINTS: Final = {
    **dict.fromkeys("0123456789", "D"),
    **dict.fromkeys("+-", "S"),
    **dict.fromkeys("yYnNtTfFoO~", "M"),
    ".": ".",
}
_YAML_FLOAT: Final = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_DOT_FLOAT: Final = re.compile(r"\.[0-9_]+([eE][-+]?[0-9][0-9_]*)?")
_LONE_UNDERSCORE: Final = re.compile(r"(?<![0-9])_|_(?![0-9])")
_DIGITS: Final = {
    2: frozenset("01"),
    8: frozenset("01234567"),
    10: frozenset("0123456789"),
    16: frozenset("0123456789abcdefABCDEF"),
}
_BASES: Final = {"b": 2, "o": 8, "x": 16}
_DATE: Final = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(.*)", re.DOTALL)
_CLOCK: Final = r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,][0-9]+)?"
_ZONED_TIME: Final = re.compile(rf"[Tt]{_CLOCK}(?:Z|[-+]([0-9]{{2}}):([0-9]{{2}}))")
_LOCAL_TIME: Final = re.compile(rf" +{_CLOCK}")


def is_merge(key: yaml.Node) -> bool:
    """A ``<<`` key, plain or tagged ``!`` or ``!!merge``: go-yaml's rule (``"<<"`` is a key)."""
    return isinstance(key, yaml.ScalarNode) and key.value == "<<" and key.tag in (PLAIN, "!", MERGE)


def resolve(node: yaml.ScalarNode) -> tuple[str, Any]:
    """go-yaml v2's ``resolve`` with its tag check: ``(resolved tag, value)``."""
    tag, text = node.tag, node.value
    if tag == BINARY:
        return STR, _binary(node)
    if tag not in _RESOLVABLE:
        return STR, text
    resolved, value = _resolve_text(tag, text)
    if tag in (PLAIN, resolved, STR):
        return resolved, value
    if tag == FLOAT and resolved == INT and value in INT64:
        return FLOAT, float(value)
    wanted, found = tag.rpartition(":")[2], resolved.rpartition(":")[2]
    raise RefusedError(node.start_mark, f"cannot read {text!r} as !!{wanted}: it is a !!{found}")


def _resolve_text(tag: str, text: str) -> tuple[str, Any]:
    hint = _HINTS.get(text[:1], "") if text else "N"
    if not hint or tag == STR:
        return STR, text
    if text in _KNOWN:
        return _KNOWN[text]
    if hint == ".":
        if _DOT_FLOAT.fullmatch(text) and not _LONE_UNDERSCORE.search(text):
            number = float(text.replace("_", ""))
            if not math.isinf(number):  # Go's ParseFloat fails on overflow, not underflow
                return FLOAT, number
    elif hint in "DS":
        if tag == TIMESTAMP and _is_timestamp(text):
            return TIMESTAMP, text  # go-yaml gives a timestamp's text, not a time
        plain = text.replace("_", "")
        signed = _parse_int(plain)
        if signed is not None and signed in INT64:
            return INT, signed
        unsigned = _parse_uint(plain)
        if unsigned is not None:
            return INT, unsigned
        if _YAML_FLOAT.fullmatch(plain):
            number = float(plain)
            if not math.isinf(number):
                return FLOAT, number
    return STR, text


def _parse_int(text: str) -> int | None:
    """Go's ``strconv.ParseInt(text, 0, 64)``, unbounded (the caller checks the range)."""
    sign = -1 if text[:1] == "-" else 1
    magnitude = _parse_uint(text[1:] if text[:1] in ("+", "-") else text)
    return None if magnitude is None else sign * magnitude


def _parse_uint(text: str) -> int | None:
    """Go's ``strconv.ParseUint(text, 0, 64)``: 0x, 0o, 0b or a leading 0 set the base."""
    if not text:
        return None
    base, digits = 10, text
    if text[0] == "0":
        base, digits = 8, text[1:]
        if len(text) >= 3 and text[1].lower() in _BASES:
            base, digits = _BASES[text[1].lower()], text[2:]
    if not _DIGITS[base].issuperset(digits):
        return None
    value = int(digits, base) if digits else 0
    return value if value in _UINT64 else None


def _is_timestamp(text: str) -> bool:
    """Whether Go's ``time.Parse`` reads *text* with one of go-yaml's timestamp layouts."""
    date = _DATE.fullmatch(text)
    if date is None:
        return False
    year, month, day = int(date[1]), int(date[2]), int(date[3])
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (1 <= month <= 12 and 1 <= day <= days[month - 1]):
        return False
    rest = date[4]
    if not rest:
        return True
    clock = (_ZONED_TIME if rest[:1] in ("T", "t") else _LOCAL_TIME).fullmatch(rest)
    if clock is None:
        return False
    hour, minute, second, *zone = (int(group or 0) for group in clock.groups())
    in_range = hour < 24 and minute < 60 and second < 60
    return in_range and (not zone or (zone[0] <= 24 and zone[1] <= 60))  # Go allows +24:00


def _binary(node: yaml.ScalarNode) -> str:
    """A ``!!binary`` value as Go's JSON writes it: invalid UTF-8 bytes become U+FFFD."""
    try:
        data = base64.b64decode(node.value.replace("\r", "").replace("\n", ""), validate=True)
    except binascii.Error:
        raise RefusedError(node.start_mark, "a !!binary value that is not valid base64") from None
    parts: list[str] = []
    while True:
        try:
            parts.append(data.decode())
        except UnicodeDecodeError as error:
            parts += (data[: error.start].decode(), "\ufffd")
            data = data[error.start + 1 :]
            continue
        return "".join(parts)
