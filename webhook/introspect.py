"""Reading pydantic models' annotations: one place for the walks several modules need.

The typed TrainingJob model and the policy model are walked to suggest field
names (did-you-mean), to check configured paths and defaults against the CRD,
and to find which model a validation error points into.
"""

from __future__ import annotations

import types
import typing
from typing import Any, TypeGuard

from pydantic import BaseModel


def unwrap(annotation: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> ``X`` (other unions are left alone)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(arguments) == 1:
            return unwrap(arguments[0])
    return annotation


def is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    """True for a pydantic model class."""
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X``, ``X | None`` or ``list[X]``, if any (not maps)."""
    annotation = unwrap(annotation)
    if is_model(annotation):
        return annotation
    if typing.get_origin(annotation) is list:
        return model_of(typing.get_args(annotation)[0])
    return None
