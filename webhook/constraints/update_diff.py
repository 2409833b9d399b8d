"""How the ACK controller compares an UPDATE's old and new spec, and how a change is told.

The comparison behind :mod:`webhook.constraints.update`, whose docstring gives the
choices it makes: "absent", ``null``, ``{}`` and ``[]`` are the same thing, and so are
the controller's defaults for fields of list items (:data:`ITEM_DEFAULTS`); booleans
never equal numbers; ``1`` equals ``1.0``. :func:`diff` lists the leaves that changed;
:func:`describe_change` tells a change without the value of a ``hyperParameters`` or
``environment`` entry.

Pure and cheap: no I/O, no copies of the objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import orjson

from webhook.paths import SENSITIVE_MAPS, Path
from webhook.text import show

#: The controller's defaults for fields of list items (its customSetDefaults).
ITEM_DEFAULTS: Final[Mapping[str, Mapping[str, object]]] = {
    "inputDataConfig": {"recordWrapperType": "None"},
    "debugRuleConfigurations": {"volumeSizeInGB": 0},
    "profilerRuleConfigurations": {"volumeSizeInGB": 0},
}


def identical(old: Any, new: Any) -> bool:
    """Byte-identical JSON: a fast check that, unlike ``==``, never takes true for 1."""
    try:
        return orjson.dumps(old) == orjson.dumps(new)
    except TypeError:  # not JSON-like (e.g. non-string keys): let the full walk decide
        return False


def spec_of(obj: object) -> Mapping[Any, Any]:
    """The ``spec`` of *obj*, or an empty one when it has none (or not an object)."""
    spec = obj.get("spec") if isinstance(obj, Mapping) else None
    return spec if isinstance(spec, Mapping) else {}


#: Types of JSON scalars, compared without the cost of abstract isinstance checks.
_SCALARS: Final = frozenset({str, int, float, bool})


def blank(value: object) -> object:
    """Return None for an absent, null or empty value, else the value."""
    if value is None or type(value) in _SCALARS:
        return value
    if isinstance(value, Mapping | list | tuple) and not value:
        return None
    return value


def value_at(spec: Mapping[Any, Any], path: Path) -> object:
    """Return the value at *path* (which starts with ``spec``), None when missing."""
    value: object = spec
    for step in path[1:]:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return blank(value)


def equal(a: object, b: object, defaults: Mapping[str, object] | None = None) -> bool:
    """Return True when *a* and *b* are the same to the controller."""
    kind_a, kind_b = type(a), type(b)
    if kind_a in _SCALARS and kind_b in _SCALARS:
        if kind_a is bool or kind_b is bool:
            return kind_a is kind_b and a == b
        return bool(a == b)
    a, b = blank(a), blank(b)
    if a is None or b is None:
        return a is b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        if defaults is None:
            return all(equal(a.get(key), b.get(key)) for key in a.keys() | b.keys())
        for key in a.keys() | b.keys():
            default = defaults.get(key) if isinstance(key, str) else None
            if not equal(or_default(a.get(key), default), or_default(b.get(key), default)):
                return False
        return True
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return False
        return all(equal(x, y, defaults) for x, y in zip(a, b, strict=True))
    return False  # a container against a scalar, or a type JSON does not have


def or_default(value: object, default: object) -> object:
    """*value*, or *default* when it is absent, null or empty."""
    blanked = blank(value)
    return default if blanked is None else blanked


def diff(
    a: object,
    b: object,
    path: Path,
    defaults: Mapping[str, object] | None,
    out: list[tuple[Path, object, object]],
    *,
    late: frozenset[Path],
    handled: frozenset[Path],
) -> None:
    """Append ``(path, old, new)`` to *out* for each changed leaf, outside the *handled* fields.

    A field of *late* going from absent to a value is no change (the controller's
    late initialization); the fields of *handled* are left to checks of their own.
    """
    a, b = blank(a), blank(b)
    if a is None and b is None:
        return
    if type(a) in _SCALARS and type(b) in _SCALARS:
        if not equal(a, b):
            out.append((path, a, b))
        return
    if isinstance(a, Mapping | None) and isinstance(b, Mapping | None):
        old: Mapping[Any, Any] = a or {}
        new: Mapping[Any, Any] = b or {}
        for key in sorted(old.keys() | new.keys(), key=str):
            before, after = old.get(key), new.get(key)
            if defaults and isinstance(key, str) and key in defaults:
                before, after = or_default(before, defaults[key]), or_default(after, defaults[key])
            if before is None and after is None:
                continue
            child = (*path, key)
            if child in handled or (blank(before) is None and child in late):
                continue
            diff(before, after, child, None, out, late=late, handled=handled)
        return
    if isinstance(a, list | tuple) and isinstance(b, list | tuple) and len(a) == len(b):
        last = path[-1]
        item_defaults = ITEM_DEFAULTS.get(last) if isinstance(last, str) else None
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            diff(x, y, (*path, index), item_defaults, out, late=late, handled=handled)
        return
    if not equal(a, b):
        out.append((path, a, b))


def _sensitive(path: Path) -> bool:
    return any(isinstance(step, str) and step in SENSITIVE_MAPS for step in path)


def describe(value: object) -> str:
    """Describe a value for a message (never called for a sensitive one)."""
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return show(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return f"{len(value)} item" + ("" if len(value) == 1 else "s")
    return f"a {type(value).__name__}"


def describe_change(path: Path, before: object, after: object) -> str:
    """``before -> after`` for a message; only added, removed or changed for a sensitive value."""
    if _sensitive(path):
        if before is None:
            return "key added"
        if after is None:
            return "key removed"
        return "value changed"
    return f"{describe(before)} -> {describe(after)}"
