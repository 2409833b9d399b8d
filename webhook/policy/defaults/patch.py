"""Per object: the JSON Patch of the plans that apply, built without copying the object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from jsonpointer import JsonPointer

from webhook.policy.defaults.plan import (
    BRANCH,
    COERCED_MAPS,
    TAGS,
    DefaultsPlan,
    Field,
    as_string,
    coercible,
)
from webhook.policy.subject import Subject


class _Doc:
    """The object as the patch so far leaves it, copied only along changed paths."""

    __slots__ = ("_owned", "root")

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root: Any = root
        self._owned: set[int] = set()

    def _own(self, parts: Sequence[str]) -> Any:
        """The container at *parts*, made private (shallow copies) on the way."""
        if id(self.root) not in self._owned:
            self.root = dict(self.root)
            self._owned.add(id(self.root))
        node = self.root
        for part in parts:
            child = node[part]
            if id(child) not in self._owned:
                child = dict(child) if isinstance(child, dict) else list(child)
                node[part] = child
                self._owned.add(id(child))
            node = child
        return node

    def set(self, parts: Sequence[str], value: Any) -> None:
        self._own(parts[:-1])[parts[-1]] = value

    def append(self, parts: Sequence[str], value: Any) -> None:
        self._own(parts).append(value)


def patch_for(
    obj: Mapping[str, Any], subject: Subject, plans: Sequence[DefaultsPlan]
) -> list[dict[str, Any]]:
    """Return the JSON Patch that applies *plans*, in order, to *obj* (left unchanged)."""
    if not plans or not isinstance(obj.get("spec"), dict):
        return []
    ops: list[dict[str, Any]] = []
    doc = _Doc(obj)
    for plan in plans:
        _fill(plan.fields, doc.root["spec"], subject, doc, ops)
        if plan.coerce_strings:
            _coerce(doc, ops)
    return ops


def _fill(
    fields: tuple[Field, ...],
    node: Mapping[str, Any],
    subject: Subject,
    doc: _Doc,
    ops: list[dict[str, Any]],
) -> None:
    for field in fields:
        current = node.get(field.key)
        if current is None:
            value = _render_tags(field, subject) if field.kind == TAGS else _render(field, subject)
            op = "replace" if field.key in node else "add"
            ops.append({"op": op, "path": field.pointer, "value": value})
            doc.set(field.parts, value)
        elif field.kind == BRANCH:
            if isinstance(current, dict):
                _fill(field.children, current, subject, doc, ops)
        elif field.kind == TAGS and isinstance(current, list):
            _merge_tags(field, current, subject, doc, ops)


def _render(field: Field, subject: Subject) -> Any:
    value = field.value
    if not isinstance(value, dict | list):
        return subject.template(value) if field.templated else value
    return _fresh(value, subject)


def _fresh(value: Any, subject: Subject) -> Any:
    """A new copy of a default subtree, its strings templated."""
    if isinstance(value, str):
        return subject.template(value)
    if isinstance(value, dict):
        return {key: _fresh(item, subject) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item, subject) for item in value]
    return value


def _tag(key: str, value: str | None, subject: Subject) -> dict[str, str]:
    tag = {"key": subject.template(key)}
    if value is not None:
        tag["value"] = subject.template(value)
    return tag


def _render_tags(field: Field, subject: Subject) -> list[dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for key, value in field.value:
        tag = _tag(key, value, subject)
        tags.setdefault(tag["key"], tag)
    return list(tags.values())


def _merge_tags(
    field: Field,
    current: list[Any],
    subject: Subject,
    doc: _Doc,
    ops: list[dict[str, Any]],
) -> None:
    have = {
        tag["key"] for tag in current if isinstance(tag, dict) and isinstance(tag.get("key"), str)
    }
    pointer = field.pointer + "/-"
    for key, value in field.value:
        tag = _tag(key, value, subject)
        if tag["key"] in have:
            continue
        have.add(tag["key"])
        ops.append({"op": "add", "path": pointer, "value": tag})
        doc.append(field.parts, tag)


def _coerce(doc: _Doc, ops: list[dict[str, Any]]) -> None:
    spec = doc.root["spec"]
    for name in COERCED_MAPS:
        values = spec.get(name)
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(key, str) and coercible(value):
                parts = ("spec", name, key)
                text = as_string(value)
                ops.append(
                    {"op": "replace", "path": JsonPointer.from_parts(parts).path, "value": text}
                )
                doc.set(parts, text)
