"""The AdmissionReview wire types: the native envelope check and pydantic agree, strictly.

When the draft-4 schema proves a decoded body, :func:`parse_request` uses
it as it is; so every body the schema takes must be one pydantic's validator
of the TypedDicts takes too, with the same values for every declared field.
Both are strict: what one refuses, the other refuses too, and nothing is coerced.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.conftest import EXAMPLES
from webhook.native import Proof
from webhook.server.wire import (
    ENVELOPE,
    AdmissionRequest,
    AdmissionReview,
    GroupVersionKind,
    UserInfo,
    parse_request,
)

REVIEW: dict[str, Any] = json.loads((EXAMPLES / "admission-review.json").read_text())


@functools.cache
def envelope_proof() -> Proof:
    """The native proof of the AdmissionReview envelope, compiled on first use."""
    return Proof([ENVELOPE])


VALUES: tuple[Any, ...] = (None, "", "x", "true", 1, 1.0, True, [], ["x"], [1], {}, {"a": 1})


_NESTED: dict[tuple[type, str], type] = {
    (AdmissionReview, "request"): AdmissionRequest,
    (AdmissionRequest, "kind"): GroupVersionKind,
    (AdmissionRequest, "userInfo"): UserInfo,
}


def _declared(data: dict[str, Any], typed: type) -> dict[str, Any]:
    """The fields of *data* that the TypedDict *typed* declares, nested types included."""
    out = {}
    for name in typed.__annotations__:
        if name in data:
            value, inner = data[name], _NESTED.get((typed, name))
            out[name] = _declared(value, inner) if inner and isinstance(value, dict) else value
    return out


def _variants() -> list[dict[str, Any]]:
    """The bundled review with each field, at every level, absent or set to each of VALUES."""
    found = [copy.deepcopy(REVIEW)]
    places: list[tuple[str, ...]] = [
        ("apiVersion",),
        ("kind",),
        ("request",),
        *(("request", name) for name in AdmissionRequest.__annotations__),
        *(("request", "kind", name) for name in GroupVersionKind.__annotations__),
        *(("request", "userInfo", name) for name in UserInfo.__annotations__),
    ]
    for place, value in itertools.product(places, (*VALUES, KeyError)):
        data = copy.deepcopy(REVIEW)
        parent = data
        for step in place[:-1]:
            parent = parent.setdefault(step, {})
        if value is KeyError:
            parent.pop(place[-1], None)
        else:
            parent[place[-1]] = value
        found.append(data)
    for operation in ("CREATE", "UPDATE", "DELETE", "CONNECT", "create", "PATCH"):
        data = copy.deepcopy(REVIEW)
        data["request"]["operation"] = operation
        found.append(data)
    extra = copy.deepcopy(REVIEW)
    extra["request"]["options"] = {"kind": "CreateOptions"}
    extra["request"]["kind"]["extra"] = 1
    found.append(extra)
    return found


def _pydantic_takes(data: dict[str, Any]) -> bool:
    try:
        TypeAdapter(AdmissionReview).validate_python(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("data", _variants())
def test_what_the_envelope_takes_pydantic_takes_with_the_same_values(
    data: dict[str, Any],
) -> None:
    if envelope_proof().holds(data):
        typed = TypeAdapter(AdmissionReview).validate_python(data)  # must not raise
        assert typed == _declared(data, AdmissionReview)
    assert envelope_proof().holds(data) == _pydantic_takes(data)


def test_the_api_servers_review_takes_the_fast_path() -> None:
    assert envelope_proof().holds(REVIEW)
    assert parse_request(REVIEW) is REVIEW["request"]


@pytest.mark.parametrize(
    ("change", "location"),
    [
        ({"apiVersion": "admission.k8s.io/v1beta1"}, "apiVersion"),
        ({"request": {"uid": "u", "kind": {}, "operation": "PATCH"}}, "request.operation"),
        ({"request": {"kind": {}, "operation": "CREATE"}}, "request.uid"),
    ],
)
def test_a_body_pydantic_refuses_raises_with_the_location(
    change: dict[str, Any], location: str
) -> None:
    data = {**copy.deepcopy(REVIEW), **change}
    with pytest.raises(ValidationError) as raised:
        parse_request(data)
    assert location in {".".join(map(str, e["loc"])) for e in raised.value.errors()}


@pytest.mark.parametrize(
    ("field", "value", "location", "complaint"),
    [
        ("dryRun", "true", "request.dryRun", "valid boolean"),
        ("dryRun", 1, "request.dryRun", "valid boolean"),
        ("dryRun", "false", "request.dryRun", "valid boolean"),
        ("dryRun", None, "request.dryRun", "valid boolean"),
        ("uid", "", "request.uid", "at least 1 character"),
        ("uid", 42, "request.uid", "valid string"),
        ("name", 7, "request.name", "valid string"),
        ("namespace", ["team-a"], "request.namespace", "valid string"),
        ("subResource", 0, "request.subResource", "valid string"),
        ("userInfo", {"username": 1}, "request.userInfo.username", "valid string"),
        ("userInfo", {"groups": "ml"}, "request.userInfo.groups", "valid list"),
        ("userInfo", {"groups": [1]}, "request.userInfo.groups.0", "valid string"),
        ("kind", {"kind": True}, "request.kind.kind", "valid string"),
        ("object", [], "request.object", "valid dictionary"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_not_coerced(
    field: str, value: Any, location: str, complaint: str
) -> None:
    data = copy.deepcopy(REVIEW)
    data["request"][field] = value
    assert not envelope_proof().holds(data)
    with pytest.raises(ValidationError) as raised:
        parse_request(data)
    problems = {".".join(map(str, e["loc"])): e["msg"] for e in raised.value.errors()}
    assert location in problems, problems
    assert complaint in problems[location]


def test_the_envelope_declares_every_field_of_the_types() -> None:
    request = ENVELOPE["properties"]["request"]
    assert set(ENVELOPE["properties"]) == set(AdmissionReview.__annotations__)
    assert set(request["properties"]) == set(AdmissionRequest.__annotations__)
    assert set(request["required"]) == AdmissionRequest.__required_keys__
    assert set(request["properties"]["kind"]["properties"]) == set(GroupVersionKind.__annotations__)
    assert set(request["properties"]["userInfo"]["properties"]) == set(UserInfo.__annotations__)
