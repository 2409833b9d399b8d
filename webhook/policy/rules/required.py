"""Rule kind ``required``: fields and tags a policy wants every job to have.

``fields`` are dotted paths under ``spec`` (``vpcConfig``,
``outputDataConfig.kmsKeyID``), checked against the CRD's field names when the
policy is loaded, so a typo (``kmsKeyId``) is a policy error with a
did-you-mean rather than a rule that silently never fires. A path can only go
through objects: it cannot name list entries or map keys (use the
``hyperparameters`` rule's ``keys.<name>.required`` for a hyperparameter).
``whenSpot`` fields are required only when ``enableManagedSpotTraining`` is
``true``. ``tagKeys`` must each appear as a ``key`` in ``spec.tags`` (its value
may be anything, even empty; the ``tags`` rule checks values).

Choices:

* A field is missing when it is absent or null, and also when it is an empty
  (or blank) string, an empty list or an empty map: ``kmsKeyID: ""`` or
  ``vpcConfig: {}`` satisfy no one's intent in requiring the field.
* When an object on the way has the wrong type (``outputDataConfig: "x"``), the
  field is not reported: the CRD's type check already reports that object.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pydantic import BaseModel

from webhook.introspect import unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.native import Schema, at, contains, on_spec, required_at
from webhook.paths import Path
from webhook.policy.model import RequiredRule
from webhook.policy.rules import Check, RuleConfigError, Violation
from webhook.policy.subject import Subject
from webhook.text import did_you_mean, show, suggestion

_TAGS_PATH: Final[Path] = ("spec", "tags")
_SPOT_REASON: Final = "with managed spot training (enableManagedSpotTraining: true)"


def _container(annotation: Any) -> str | None:
    """Name what a non-object field holds (``a list``, ``a map``), None for objects."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return None
    origin = typing.get_origin(annotation)
    if origin is list:
        return "a list"
    if origin is dict:
        return "a map"
    return "a single value"


def _resolve(field: str, option: str) -> tuple[str, ...]:
    """Check the dotted *field* against the CRD's names; return its steps."""
    names = tuple(field.split("."))
    if not field or "" in names:
        raise RuleConfigError(option, f"{show(field)} is not a dotted field path like vpcConfig")
    if names[0] == "spec" and "spec" not in TrainingJobSpec.model_fields:
        rest = ".".join(names[1:]) or "vpcConfig"
        raise RuleConfigError(
            option, f"{show(field)}: paths are relative to spec; write {show(rest)}"
        )
    model: type[BaseModel] = TrainingJobSpec
    for index, name in enumerate(names):
        known = model.model_fields.get(name)
        prefix = ".".join(names[:index])
        if known is None:
            near = [
                f"{prefix}.{c}" if prefix else c
                for c in did_you_mean(name, sorted(model.model_fields), limit=1)
            ]
            raise RuleConfigError(option, f"unknown field {show(field)}{suggestion(near)}")
        if index == len(names) - 1:
            break
        annotation = unwrap(known.annotation)
        holds = _container(annotation)
        if holds is not None:
            here = ".".join(names[: index + 1])
            hint = ""
            if name == "hyperParameters":
                hint = "; use a hyperparameters rule with keys.<name>.required"
            raise RuleConfigError(
                option,
                f"{show(field)} goes inside {here}, which is {holds}: a required field "
                f"can only go through objects{hint}",
            )
        assert isinstance(annotation, type)
        model = annotation
    return names


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | dict):
        return not value
    return False


def _missing(spec: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    """Return ``missing`` or ``empty`` when the field at *names* is, else None."""
    current: Any = spec
    for name in names:
        if current is None:
            return "missing"
        if not isinstance(current, dict):
            return None  # an object on the way has the wrong type: the CRD check reports it
        if name not in current or current[name] is None:
            return "missing"
        current = current[name]
    return "empty" if _is_empty(current) else None


Compiled = tuple[tuple[str, ...], Path, str]


def _compile_fields(fields: list[str], option: str, reason: str) -> tuple[Compiled, ...]:
    compiled: list[Compiled] = []
    for field in dict.fromkeys(fields):
        names = _resolve(field, option)
        compiled.append((names, ("spec", *names), f"{names[-1]} is required{reason}"))
    return tuple(compiled)


def _check_fields(spec: Mapping[str, Any], fields: tuple[Compiled, ...]) -> Iterator[Violation]:
    for names, path, message in fields:
        state = _missing(spec, names)
        if state is not None:
            yield Violation(path, f"{message}; {state}")


def _tag_keys(tags: Any) -> set[str] | None:
    """The keys of ``spec.tags``, or None when tags has the wrong type."""
    if tags is None:
        return set()
    if not isinstance(tags, list):
        return None
    return {tag["key"] for tag in tags if isinstance(tag, dict) and isinstance(tag.get("key"), str)}


def compile_rule(rule: RequiredRule) -> Check:
    """Compile a ``required`` rule into a check."""
    always = _compile_fields(rule.fields, "fields", "")
    always_names = {names for names, _, _ in always}
    spot = tuple(
        item
        for item in _compile_fields(rule.whenSpot, "whenSpot", f" {_SPOT_REASON}")
        if item[0] not in always_names
    )
    for key in rule.tagKeys:
        if not key.strip():
            raise RuleConfigError("tagKeys", "a tag key cannot be empty")
    tag_keys = tuple(dict.fromkeys(rule.tagKeys))

    def check(subject: Subject) -> Iterator[Violation]:
        spec = subject.spec
        yield from _check_fields(spec, always)
        if spot and spec.get("enableManagedSpotTraining") is True:
            yield from _check_fields(spec, spot)
        if tag_keys:
            present = _tag_keys(spec.get("tags"))
            if present is None:
                return
            for key in tag_keys:
                wanted = subject.template(key)
                if wanted not in present:
                    yield Violation(_TAGS_PATH, f"tag {show(wanted)} is required; missing")

    return check


#: Values :func:`_is_empty` calls missing, and then some: a string with no ASCII letter or
#: digit (``str.strip`` knows more white space than regexes do).
_EMPTY: Final = {
    "anyOf": [
        {"type": "null"},
        {"type": "string", "not": {"pattern": "[0-9A-Za-z]"}},
        {"type": "array", "maxItems": 0},
        {"type": "object", "maxProperties": 0},
    ]
}


def _fields_schema(fields: tuple[Compiled, ...]) -> list[Schema]:
    return [required_at(names, {"not": _EMPTY}) for names, _, _ in fields]


def native_schema(rule: RequiredRule) -> Schema | None:
    """A job this rule finds nothing in (:mod:`webhook.native`); None with templated tag keys.

    Stricter than the check: every object on a field's path must be an object,
    and a required string must hold an ASCII letter or digit.
    """
    if any("{" in key for key in rule.tagKeys):
        return None
    always = _compile_fields(rule.fields, "fields", "")
    always_names = {names for names, _, _ in always}
    spot = [
        item
        for item in _compile_fields(rule.whenSpot, "whenSpot", "")
        if item[0] not in always_names
    ]
    parts = _fields_schema(always)
    if spot:
        no_spot = at(("enableManagedSpotTraining",), {"not": {"enum": [True]}})
        parts.append({"anyOf": [no_spot, {"allOf": _fields_schema(tuple(spot))}]})
    for key in dict.fromkeys(rule.tagKeys):
        tag = {"type": "object", "required": ["key"], "properties": {"key": {"enum": [key]}}}
        parts.append(required_at(("tags",), contains(tag)))
    return on_spec(*parts)
