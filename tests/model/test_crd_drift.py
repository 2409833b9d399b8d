"""The typed model and the ACK CRD (../shared/ack) must describe the same object."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from webhook.model import TrainingJob
from webhook.model.meta import ObjectMeta


def _unwrap_optional(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arguments = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(arguments) == 1, annotation
        return arguments[0]
    return annotation


def _compare(schema: dict[str, Any], annotation: Any, where: str, problems: list[str]) -> None:
    annotation = _unwrap_optional(annotation)
    kind = schema.get("type")
    origin = typing.get_origin(annotation)
    if kind == "string":
        if annotation is not str:
            problems.append(f"{where}: CRD string, model {annotation}")
    elif kind == "integer":
        if annotation is not int:
            problems.append(f"{where}: CRD integer, model {annotation}")
    elif kind == "boolean":
        if annotation is not bool:
            problems.append(f"{where}: CRD boolean, model {annotation}")
    elif kind == "array":
        if origin is not list:
            problems.append(f"{where}: CRD array, model {annotation}")
            return
        _compare(schema["items"], typing.get_args(annotation)[0], f"{where}[]", problems)
    elif kind == "object" and "additionalProperties" in schema:
        if origin is not dict or typing.get_args(annotation)[0] is not str:
            problems.append(f"{where}: CRD map, model {annotation}")
            return
        value = typing.get_args(annotation)[1]
        _compare(schema["additionalProperties"], value, f"{where}{{}}", problems)
    elif kind == "object":
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            problems.append(f"{where}: CRD object, model {annotation}")
            return
        _compare_object(schema, annotation, where, problems)
    else:
        problems.append(f"{where}: CRD type {kind!r} not handled")


def _compare_object(
    schema: dict[str, Any], model: type[BaseModel], where: str, problems: list[str]
) -> None:
    properties = schema.get("properties", {})
    fields = model.model_fields
    for name in sorted(set(properties) - set(fields)):
        problems.append(f"{where}.{name}: in the CRD, missing from the model")
    for name in sorted(set(fields) - set(properties)):
        problems.append(f"{where}.{name}: in the model, not in the CRD")
    for name in sorted(set(properties) & set(fields)):
        _compare(properties[name], fields[name].annotation, f"{where}.{name}", problems)
    for name in schema.get("required", []):
        if name in fields and not fields[name].is_required():
            problems.append(f"{where}.{name}: required by the CRD, optional in the model")


@pytest.mark.parametrize("block", ["spec", "status"])
def test_model_matches_crd(crd_schema: dict[str, Any], block: str) -> None:
    problems: list[str] = []
    annotation = TrainingJob.model_fields[block].annotation
    _compare(crd_schema["properties"][block], annotation, block, problems)
    assert problems == []


def test_top_level_fields_match_crd(crd_schema: dict[str, Any]) -> None:
    assert set(TrainingJob.model_fields) == set(crd_schema["properties"])
    assert crd_schema["properties"]["metadata"] == {"type": "object"}
    assert TrainingJob.model_fields["metadata"].annotation is ObjectMeta


def test_drift_check_catches_a_renamed_field(crd_schema: dict[str, Any]) -> None:
    """The comparison is not vacuous: a CRD with one renamed field is reported."""
    spec = crd_schema["properties"]["spec"]
    renamed = dict(spec, properties=dict(spec["properties"]))
    renamed["properties"]["roleArn"] = renamed["properties"].pop("roleARN")
    problems: list[str] = []
    _compare(renamed, TrainingJob.model_fields["spec"].annotation, "spec", problems)
    assert problems == [
        "spec.roleArn: in the CRD, missing from the model",
        "spec.roleARN: in the model, not in the CRD",
    ]
