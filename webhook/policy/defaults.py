"""Org defaults: the JSON Patch that fills in what a TrainingJob leaves out.

A policy's ``defaults`` block is a partial ``spec``; :func:`compile_defaults`
checks it once against the CRD's fields (walking the typed model
:class:`webhook.model.spec.TrainingJobSpec`) and :func:`patch_for` turns it,
per object, into RFC 6902 operations for the mutating webhook's response.

Semantics:

* Fill absent only, deep. A field present in the object is never touched,
  whatever its value, even one of the wrong type (the validator reports
  that); ``null`` counts as absent (the API server prunes nulls of
  non-nullable fields too). A missing mapping is added whole, with one ``add``
  at the deepest missing point; a present mapping (objects, and the string
  maps such as ``hyperParameters``) is descended into key by key. Lists are
  atomic, added only when absent, except ``tags``.
* ``tags`` merge by key: a default tag whose key the job does not have is
  appended (``/spec/tags/-``); a key the job has keeps the job's value.
* Strings (also inside lists, tags and maps; not map keys) are templated with
  :meth:`Subject.template`: ``{namespace}``, ``{name}``, ``{trainingJobName}``.
* ``coerceStrings`` replaces number and boolean values of
  ``spec.hyperParameters`` and ``spec.environment`` with strings (``true`` /
  ``false``, ``str`` of an integer, ``repr`` of a float: its shortest
  round-trip form). It applies to the defaults' own values of those maps too,
  at load time; without it, such a default is a configuration error.
* Precedence: when several policies' defaults apply, they are applied in the
  given order (the engine's policy order), each seeing the object as the
  previous ones left it. As nothing present is ever overwritten, **the first
  policy that sets a field wins**; a later one only fills what is still
  missing, including fields inside a mapping an earlier one added.
  :func:`conflicts` lists the pairs that disagree, for lint.
* A job without a ``spec`` mapping gets no patch: the validator reports it.

The patch is built while walking only the defaults, with every JSON Pointer
precomputed at load time; the object is never deep-copied or diffed. To let
later plans see earlier ones, the containers along a changed path are copied
(shallow, copy-on-write), never the object given. Applying the patch and
computing it again gives ``[]``.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from jsonpointer import JsonPointer
from pydantic import BaseModel

from webhook.introspect import model_of, unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.paths import SENSITIVE_MAPS, Path, format_path
from webhook.policy.model import Defaults
from webhook.policy.rules import RuleConfigError
from webhook.policy.subject import Subject
from webhook.text import SHOWN, did_you_mean, show, suggestion

__all__ = ["DefaultsPlan", "compile_defaults", "conflicts", "patch_for"]

# Why coerceStrings can rescue a job whose hyperparameter is a YAML number: the
# API server checks a custom resource against its CRD's openAPIV3Schema only
# after the mutating admission webhooks have patched it. Kubernetes docs,
# "Dynamic Admission Control" (What are admission webhooks?),
# https://kubernetes.io/docs/reference/access-authn-authz/extensible-admission-controllers/ :
#   "Mutating admission webhooks are invoked first, and can modify objects sent
#   to the API server to enforce custom defaults. After all object modifications
#   are complete, and after the incoming object is validated by the API server,
#   validating admission webhooks are invoked and can reject requests to enforce
#   custom policies."
# The CRD page agrees that the schema is applied to the mutated object:
# https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#defaulting
#   "Defaulting happens on the object [...] after mutating admission plugins
#   with non-empty patches using the admission webhook object version defaults."
# Checked here: the first page's wording is about objects in general ("validated
# by the API server"); tests/policy/test_defaults.py shows the coerced object
# passes the CRD's schema and the uncoerced one does not.
COERCED_MAPS: Final = ("hyperParameters", "environment")

_LEAF: Final = 0
"""A scalar or an atomic list: set when absent."""
_BRANCH: Final = 1
"""An object or a string map: added whole when absent, descended into when present."""
_TAGS: Final = 2
"""``spec.tags``: merged by key."""


@dataclass(frozen=True, slots=True)
class _Field:
    """One key of the defaults, compiled: where it goes and what it holds."""

    key: str
    parts: tuple[str, ...]
    """Path from the object's root (``("spec", "stoppingCondition", ...)``)."""
    pointer: str
    """The same path as an escaped JSON Pointer."""
    kind: int
    value: Any
    """The default (untemplated); for tags, a tuple of ``(key, value | None)``."""
    templated: bool
    """Whether a string in ``value`` has a placeholder."""
    children: tuple[_Field, ...] = ()


@dataclass(frozen=True, slots=True)
class DefaultsPlan:
    """A policy's defaults, checked against the CRD and ready to apply."""

    fields: tuple[_Field, ...]
    coerce_strings: bool


# -- load time -----------------------------------------------------------------


def compile_defaults(defaults: Defaults) -> DefaultsPlan:
    """Check *defaults* against the CRD's fields and precompute its patch."""
    fields = _compile_object(defaults.spec, TrainingJobSpec, ("spec",), defaults.coerceStrings)
    return DefaultsPlan(fields, defaults.coerceStrings)


def _compile_object(
    spec: Mapping[Any, Any], model: type[BaseModel], parts: tuple[str, ...], coerce: bool
) -> tuple[_Field, ...]:
    fields: list[_Field] = []
    for key, raw in spec.items():
        here: Path = (*parts, key)
        if not isinstance(key, str):
            raise RuleConfigError(here, "field names must be strings")
        info = model.model_fields.get(key)
        if info is None:
            near = did_you_mean(key, sorted(model.model_fields), limit=1)
            raise RuleConfigError(here, f'unknown field "{key}"{suggestion(near)}', on_key=True)
        annotation = unwrap(info.annotation)
        field_parts = (*parts, key)
        pointer = JsonPointer.from_parts(field_parts).path
        if raw is None:
            raise RuleConfigError(here, "a default cannot be null; leave it out")
        if field_parts == ("spec", "tags"):
            tags = _compile_tags(raw, here)
            templated = any(_has_placeholder(t) for t in tags)
            fields.append(_Field(key, field_parts, pointer, _TAGS, tags, templated))
            continue
        sub = model_of(annotation)
        if sub is not None and typing.get_origin(annotation) is not list:
            if not isinstance(raw, dict):
                raise RuleConfigError(here, f"must be an object, not {_kind(raw)}")
            children = _compile_object(raw, sub, field_parts, coerce)
            value = {child.key: child.value for child in children}
            templated = any(child.templated for child in children)
            fields.append(_Field(key, field_parts, pointer, _BRANCH, value, templated, children))
        elif typing.get_origin(annotation) is dict:
            if not isinstance(raw, dict):
                raise RuleConfigError(here, f"must be an object, not {_kind(raw)}")
            coerce_here = coerce and len(field_parts) == 2 and key in COERCED_MAPS
            children = _compile_map(raw, field_parts, coerce_here)
            value = {child.key: child.value for child in children}
            templated = any(child.templated for child in children)
            fields.append(_Field(key, field_parts, pointer, _BRANCH, value, templated, children))
        else:
            _check_value(raw, annotation, here)
            templated = _has_placeholder(raw)
            fields.append(_Field(key, field_parts, pointer, _LEAF, raw, templated))
    return tuple(fields)


def _compile_map(
    raw: Mapping[Any, Any], parts: tuple[str, ...], coerce: bool
) -> tuple[_Field, ...]:
    values = _check_map(raw, parts, coerce)
    fields: list[_Field] = []
    for key, item in values.items():
        field_parts = (*parts, key)
        pointer = JsonPointer.from_parts(field_parts).path
        fields.append(_Field(key, field_parts, pointer, _LEAF, item, "{" in item))
    return tuple(fields)


def _check_map(raw: Mapping[Any, Any], here: Path, coerce: bool) -> dict[str, str]:
    """Check a string map (``hyperParameters`` ...); coerce its values if asked."""
    name = str(here[-1])
    sensitive = name in SENSITIVE_MAPS
    values: dict[str, str] = {}
    for key, given in raw.items():
        at: Path = (*here, key)
        if not isinstance(key, str):
            raise RuleConfigError(at, "keys must be strings: quote it")
        item = _as_string(given) if coerce and _coercible(given) else given
        if not isinstance(item, str):
            hint = ", or set coerceStrings: true" if name in COERCED_MAPS else ""
            raise RuleConfigError(
                format_path(at),
                f"values of {name} must be strings and this one is "
                f"{_kind(item, shown=not sensitive)}: quote it{hint}",
            )
        values[key] = item
    return values


def _compile_tags(raw: Any, here: Path) -> tuple[tuple[str, str | None], ...]:
    if not isinstance(raw, list):
        raise RuleConfigError(here, f"must be a list of tags, not {_kind(raw)}")
    tags: dict[str, str | None] = {}
    for index, tag in enumerate(raw):
        at: Path = (*here, index)
        if not isinstance(tag, dict):
            raise RuleConfigError(at, f"must be an object, not {_kind(tag)}")
        for name in tag:
            if name not in ("key", "value"):
                near = did_you_mean(str(name), ["key", "value"], limit=1)
                message = f'unknown field "{name}"{suggestion(near)}'
                raise RuleConfigError(format_path((*at, str(name))), message)
        key, value = tag.get("key"), tag.get("value")
        if not isinstance(key, str) or not key:
            raise RuleConfigError((*at, "key"), "a default tag needs a key")
        if value is not None and not isinstance(value, str):
            message = f"must be a string, not {_kind(value)}"
            raise RuleConfigError((*at, "value"), message)
        if key in tags:
            raise RuleConfigError((*at, "key"), f"tag {show(key)} is set twice")
        tags[key] = value
    return tuple(tags.items())


def _check_value(value: Any, annotation: Any, here: Path) -> None:
    """Raise unless *value* has the JSON type the CRD gives *annotation*."""
    annotation = unwrap(annotation)
    if annotation is bool:
        if not isinstance(value, bool):
            raise RuleConfigError(here, f"must be true or false, not {_kind(value)}")
    elif annotation is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise RuleConfigError(here, f"must be an integer, not {_kind(value)}")
    elif annotation is str:
        if not isinstance(value, str):
            raise RuleConfigError(here, f"must be a string, not {_kind(value)}")
    elif typing.get_origin(annotation) is list:
        if not isinstance(value, list):
            raise RuleConfigError(here, f"must be a list, not {_kind(value)}")
        (item_type,) = typing.get_args(annotation)
        model = model_of(item_type)
        for index, item in enumerate(value):
            at: Path = (*here, index)
            if model is None:
                _check_value(item, item_type, at)
            elif isinstance(item, dict):
                _check_model(item, model, at)
            else:
                raise RuleConfigError(at, f"must be an object, not {_kind(item)}")
    elif typing.get_origin(annotation) is dict:
        if not isinstance(value, dict):
            raise RuleConfigError(here, f"must be an object, not {_kind(value)}")
        _check_map(value, here, coerce=False)
    else:  # pragma: no cover - the model uses only the types above
        raise RuleConfigError(here, f"cannot be defaulted ({annotation})")


def _check_model(value: Mapping[Any, Any], model: type[BaseModel], here: Path) -> None:
    """Check an object inside an atomic list (``inputDataConfig[0]`` ...)."""
    for key, item in value.items():
        at: Path = (*here, key)
        info = model.model_fields.get(key) if isinstance(key, str) else None
        if info is None:
            near = did_you_mean(str(key), sorted(model.model_fields), limit=1)
            raise RuleConfigError(at, f'unknown field "{key}"{suggestion(near)}', on_key=True)
        if item is None:
            raise RuleConfigError(at, "a default cannot be null; leave it out")
        annotation = unwrap(info.annotation)
        sub = model_of(annotation)
        if sub is not None and typing.get_origin(annotation) is not list:
            if not isinstance(item, dict):
                raise RuleConfigError(at, f"must be an object, not {_kind(item)}")
            _check_model(item, sub, at)
        else:
            _check_value(item, annotation, at)


def _kind(value: Any, shown: bool = True) -> str:
    """Name the JSON type of a bad value; show it when small and not secret."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {json.dumps(value)}" if shown else "a boolean"
    if isinstance(value, int | float):
        return f"the number {json.dumps(value)}" if shown else "a number"
    if isinstance(value, str):
        return f"the string {show(value)}" if shown else "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _has_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return "{" in value
    if isinstance(value, dict):
        return any(_has_placeholder(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_placeholder(item) for item in value)
    return False


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _coercible(value: Any) -> bool:
    return isinstance(value, bool | int | float)


def _as_string(value: bool | int | float) -> str:
    """The string a number or boolean stands for: ``true``, ``5``, ``0.1``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return repr(value)


# -- per object ----------------------------------------------------------------


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
    fields: tuple[_Field, ...],
    node: Mapping[str, Any],
    subject: Subject,
    doc: _Doc,
    ops: list[dict[str, Any]],
) -> None:
    for field in fields:
        current = node.get(field.key)
        if current is None:
            value = _render_tags(field, subject) if field.kind == _TAGS else _render(field, subject)
            op = "replace" if field.key in node else "add"
            ops.append({"op": op, "path": field.pointer, "value": value})
            doc.set(field.parts, value)
        elif field.kind == _BRANCH:
            if isinstance(current, dict):
                _fill(field.children, current, subject, doc, ops)
        elif field.kind == _TAGS and isinstance(current, list):
            _merge_tags(field, current, subject, doc, ops)


def _render(field: _Field, subject: Subject) -> Any:
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


def _render_tags(field: _Field, subject: Subject) -> list[dict[str, str]]:
    tags: dict[str, dict[str, str]] = {}
    for key, value in field.value:
        tag = _tag(key, value, subject)
        tags.setdefault(tag["key"], tag)
    return list(tags.values())


def _merge_tags(
    field: _Field,
    current: list[Any],
    subject: Subject,
    doc: _Doc,
    ops: list[dict[str, Any]],
) -> None:
    have = {tag["key"] for tag in current if isinstance(tag, dict) and _is_text(tag.get("key"))}
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
            if isinstance(key, str) and _coercible(value):
                parts = ("spec", name, key)
                text = _as_string(value)
                ops.append(
                    {"op": "replace", "path": JsonPointer.from_parts(parts).path, "value": text}
                )
                doc.set(parts, text)


# -- lint ----------------------------------------------------------------------


def conflicts(plans: Sequence[tuple[str, DefaultsPlan]]) -> list[str]:
    """Describe each pair of policies that default one field to different values."""
    settings: dict[str, list[tuple[str, Any, bool]]] = {}
    for policy, plan in plans:
        for where, value, sensitive in _leaves(plan.fields):
            settings.setdefault(where, []).append((policy, value, sensitive))
    lines: list[str] = []
    for where, setters in settings.items():
        for index, (first, first_value, sensitive) in enumerate(setters):
            for second, second_value, _ in setters[index + 1 :]:
                if first_value == second_value:
                    continue
                if sensitive:
                    detail = f'policies "{first}" and "{second}" set different values'
                else:
                    detail = (
                        f'policy "{first}" sets {_display(first_value)}, '
                        f'policy "{second}" sets {_display(second_value)}'
                    )
                lines.append(f"{where}: {detail} (the first in order wins)")
    return lines


def _leaves(fields: tuple[_Field, ...]) -> list[tuple[str, Any, bool]]:
    """Every field a plan sets: ``(rendered path, value, value is secret)``."""
    leaves: list[tuple[str, Any, bool]] = []
    for field in fields:
        if field.kind == _BRANCH:
            leaves.extend(_leaves(field.children))
        elif field.kind == _TAGS:
            leaves.extend((f"spec.tags[{key}]", value, False) for key, value in field.value)
        else:
            sensitive = len(field.parts) == 3 and field.parts[1] in SENSITIVE_MAPS
            leaves.append((format_path(field.parts), field.value, sensitive))
    return leaves


def _display(value: Any) -> str:
    if isinstance(value, str):
        return show(value)
    if value is None:
        return "no value"
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."
