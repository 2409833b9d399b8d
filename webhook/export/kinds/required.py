"""Rule kind ``required`` as CEL (:mod:`webhook.policy.rules.required`)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webhook.constraints.bounds import fixed_length
from webhook.constraints.schema import StringShape
from webhook.export import text
from webhook.export.kinds.common import RuleContext, concat, not_blank, template
from webhook.export.model import Validation
from webhook.export.walk import Walker
from webhook.introspect import unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.policy.model import RequiredRule
from webhook.policy.rules.required import _container, _resolve

_SPOT = (
    "has(object.spec.enableManagedSpotTraining) && object.spec.enableManagedSpotTraining == true"
)
_SPOT_REASON = " with managed spot training (enableManagedSpotTraining: true)"


def _kind(names: tuple[str, ...]) -> str | None:
    """What the field holds: ``a list``, ``a map``, ``a single value``, None for an object."""
    model: type[BaseModel] = TrainingJobSpec
    annotation: Any = None
    for name in names:
        annotation = unwrap(model.model_fields[name].annotation)
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            model = annotation
    return _container(annotation)


def _present(names: tuple[str, ...], walker: Walker) -> str:
    """CEL: the field is there and not empty (blank text, an empty list or map)."""
    value = "object.spec"
    parts = ["has(object.spec)"]
    for name in names:
        value = f"{value}.{name}"
        parts.append(f"has({value})")
    kind = _kind(names)
    if kind is None or kind in ("a list", "a map"):
        parts.append(f"size({value}) > 0")
    elif unwrap(_annotation(names)) is str:
        shape = walker.shape(names)
        assert isinstance(shape, StringShape)
        high = shape.max if shape.max is not None else fixed_length(shape)
        parts.append(f"(size({value}) > {high} || {not_blank(value)})")
    return text.all_of(parts)


def _annotation(names: tuple[str, ...]) -> object:
    model: type[BaseModel] = TrainingJobSpec
    annotation: object = None
    for name in names:
        annotation = unwrap(model.model_fields[name].annotation)
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            model = annotation
    return annotation


def export(context: RuleContext) -> list[Validation]:
    """The validations of a ``required`` rule."""
    rule: RequiredRule = context.rule
    out: list[Validation] = []
    always: list[tuple[str, ...]] = []
    for field in dict.fromkeys(rule.fields):
        names = _resolve(field, "fields")
        always.append(names)
        path = "spec." + ".".join(names)
        out.append(
            context.validation(
                path, _present(names, context.walker), f"{names[-1]} is required; missing"
            )
        )
    for field in dict.fromkeys(rule.whenSpot):
        names = _resolve(field, "whenSpot")
        if names in always:
            continue
        path = "spec." + ".".join(names)
        out.append(
            context.validation(
                path,
                text.implies(f"has(object.spec) && {_SPOT}", _present(names, context.walker)),
                f"{names[-1]} is required{_SPOT_REASON}; missing",
            )
        )
    for key in dict.fromkeys(rule.tagKeys):
        wanted = concat(template(key))
        tags = "object.spec.tags"
        present = (
            f"has(object.spec) && has({tags}) && (size({tags}) > 50 || "
            f"{tags}.exists(x0, has(x0.key) && x0.key == {wanted}))"
        )
        out.append(
            context.validation(
                "spec.tags", present, ["tag ", *template(key), " is required; missing"]
            )
        )
    return out
