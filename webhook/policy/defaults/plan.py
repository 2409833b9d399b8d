"""Load time: a policy's ``defaults`` checked against the CRD and compiled into a plan."""

from __future__ import annotations

import json
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from jsonpointer import JsonPointer
from pydantic import BaseModel

from webhook.introspect import model_of, unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.paths import SENSITIVE_MAPS, Path, format_path
from webhook.policy.model import Defaults
from webhook.policy.rules import RuleConfigError
from webhook.text import did_you_mean, show, suggestion

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

LEAF: Final = 0
"""A scalar or an atomic list: set when absent."""
BRANCH: Final = 1
"""An object or a string map: added whole when absent, descended into when present."""
TAGS: Final = 2
"""``spec.tags``: merged by key."""


@dataclass(frozen=True, slots=True)
class Field:
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
    children: tuple[Field, ...] = ()


@dataclass(frozen=True, slots=True)
class DefaultsPlan:
    """A policy's defaults, checked against the CRD and ready to apply."""

    fields: tuple[Field, ...]
    coerce_strings: bool


def compile_defaults(defaults: Defaults) -> DefaultsPlan:
    """Check *defaults* against the CRD's fields and precompute its patch."""
    fields = _compile_object(defaults.spec, TrainingJobSpec, ("spec",), defaults.coerceStrings)
    return DefaultsPlan(fields, defaults.coerceStrings)


def _compile_object(
    spec: Mapping[Any, Any], model: type[BaseModel], parts: tuple[str, ...], coerce: bool
) -> tuple[Field, ...]:
    fields: list[Field] = []
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
            fields.append(Field(key, field_parts, pointer, TAGS, tags, templated))
            continue
        sub = model_of(annotation)
        if sub is not None and typing.get_origin(annotation) is not list:
            if not isinstance(raw, dict):
                raise RuleConfigError(here, f"must be an object, not {_kind(raw)}")
            children = _compile_object(raw, sub, field_parts, coerce)
            value = {child.key: child.value for child in children}
            templated = any(child.templated for child in children)
            fields.append(Field(key, field_parts, pointer, BRANCH, value, templated, children))
        elif typing.get_origin(annotation) is dict:
            if not isinstance(raw, dict):
                raise RuleConfigError(here, f"must be an object, not {_kind(raw)}")
            coerce_here = coerce and len(field_parts) == 2 and key in COERCED_MAPS
            children = _compile_map(raw, field_parts, coerce_here)
            value = {child.key: child.value for child in children}
            templated = any(child.templated for child in children)
            fields.append(Field(key, field_parts, pointer, BRANCH, value, templated, children))
        else:
            _check_value(raw, annotation, here)
            templated = _has_placeholder(raw)
            fields.append(Field(key, field_parts, pointer, LEAF, raw, templated))
    return tuple(fields)


def _compile_map(raw: Mapping[Any, Any], parts: tuple[str, ...], coerce: bool) -> tuple[Field, ...]:
    values = _check_map(raw, parts, coerce)
    fields: list[Field] = []
    for key, item in values.items():
        field_parts = (*parts, key)
        pointer = JsonPointer.from_parts(field_parts).path
        fields.append(Field(key, field_parts, pointer, LEAF, item, "{" in item))
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
        item = as_string(given) if coerce and coercible(given) else given
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


def coercible(value: Any) -> bool:
    """True for what ``coerceStrings`` turns into a string: numbers and booleans."""
    return isinstance(value, bool | int | float)


def as_string(value: bool | int | float) -> str:
    """The string a number or boolean stands for: ``true``, ``5``, ``0.1``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return repr(value)
