"""The shapes of what an exported expression reads, for the cost estimate.

``object`` and ``oldObject`` follow the TrainingJob CRD's schema (the typed
model, which a test keeps equal to the CRD): their types, and no bound on any
size (the CRD sets none), except what the API server validates before
admission: an object's name has at most 253 characters, its namespace 63, a
label's value 63 and its key 317 (a 253-character prefix, ``/`` and a
63-character name). The ``request`` and ``namespaceObject`` are
the AdmissionRequest's and the Namespace's, with the same guarantees.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any, Final

from webhook.export.cost import Environment
from webhook.export.values import (
    BOOL,
    DYN,
    INT,
    Shape,
    listing,
    mapping,
    record,
    shape_of,
    text,
)
from webhook.introspect import is_model, unwrap
from webhook.model import TrainingJob

NAME_CHARS: Final = 253
"""A Kubernetes object name (a DNS subdomain)."""
LABEL_CHARS: Final = 63
"""A namespace name, a label's value, a label key's name part."""
LABEL_KEY_CHARS: Final = 317


def _of(annotation: Any) -> Shape:
    kind = unwrap(annotation)
    if kind is str:
        return text()
    if kind is bool:
        return BOOL
    if kind in (int, float):
        return INT
    if is_model(kind):
        fields = {name: _of(info.annotation) for name, info in kind.model_fields.items()}
        return record(fields)
    origin = typing.get_origin(kind)
    if origin is list:
        return listing(_of(typing.get_args(kind)[0]))
    if origin is dict:
        return mapping(_of(typing.get_args(kind)[1]))
    return DYN


@functools.cache
def job() -> Shape:
    """A TrainingJob as the API server hands it to admission."""
    shape = _of(TrainingJob)
    assert shape.fields is not None
    labels = mapping(text(LABEL_CHARS), text(LABEL_KEY_CHARS))
    metadata = record(
        {
            "name": text(NAME_CHARS),
            "generateName": text(NAME_CHARS),
            "namespace": text(LABEL_CHARS),
            "labels": labels,
            "annotations": mapping(text()),
            "finalizers": listing(text()),
        },
        rest=DYN,
    )
    return record({**shape.fields, "metadata": metadata})


@functools.cache
def request() -> Shape:
    """The AdmissionRequest (the fields an exported expression reads, and any other)."""
    user = record({"username": text(), "groups": listing(text()), "uid": text()}, rest=DYN)
    return record(
        {
            "operation": text(7),
            "namespace": text(LABEL_CHARS),
            "name": text(NAME_CHARS),
            "dryRun": BOOL,
            "userInfo": user,
        },
        rest=DYN,
    )


@functools.cache
def namespace() -> Shape:
    """The request's Namespace object."""
    labels = mapping(text(LABEL_CHARS), text(LABEL_KEY_CHARS))
    metadata = record({"name": text(LABEL_CHARS), "labels": labels}, rest=DYN)
    return record({"metadata": metadata}, rest=DYN)


def environment(params: Mapping[str, Any] | None = None) -> Environment:
    """The variables of a ValidatingAdmissionPolicy's expressions (``variables`` aside)."""
    return Environment(
        {
            "object": job(),
            "oldObject": job(),
            "request": request(),
            "namespaceObject": namespace(),
            "params": shape_of(params) if params else DYN,
            "authorizer": DYN,
            "variables": record({}),
        }
    )


__all__ = ["environment", "job", "namespace", "request"]
