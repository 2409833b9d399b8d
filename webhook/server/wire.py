"""AdmissionReview ``admission.k8s.io/v1`` as the API server sends it: typed, and parsed fast.

The wire types are ``TypedDict`` s (as kopf types them): a parsed request is
the JSON object itself, read with the field names of the Kubernetes API.
:func:`parse_request` checks a decoded body against them:

* natively first (:mod:`webhook.native`): a draft-4 JSON Schema of the same
  types proves the usual request in about a microsecond, and the dict is used
  as it is;
* else with pydantic's validator of the types, which gives every problem
  with its location for the error answer.

Both are strict, and agree: a value of the wrong JSON type is refused, never
coerced (``dryRun: "true"`` or ``1`` is not a boolean, as it is not to the API
server, which never sends one), and ``uid``, which the answer must echo, is a
non-empty string. Fields a type does not declare are ignored, as Kubernetes
clients do. (No ``from __future__ import annotations`` here: ``TypedDict``
reads ``NotRequired`` at class creation.)
"""

from typing import Annotated, Any, Final, Literal, NotRequired, cast

from pydantic import ConfigDict, Field, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic reads typing's only from Python 3.12

from webhook.native import Proof, Schema
from webhook.request import Operation

API_VERSION: Final = "admission.k8s.io/v1"

_STRICT: Final = ConfigDict(strict=True)
"""No coercion: each field has the JSON type it is declared with (on every type, so that
each is strict wherever it is validated)."""


@with_config(_STRICT)
class GroupVersionKind(TypedDict, total=False):
    """``request.kind``."""

    group: str
    version: str
    kind: str


@with_config(_STRICT)
class UserInfo(TypedDict, total=False):
    """``request.userInfo``: who is asking."""

    username: str
    groups: list[str]


@with_config(_STRICT)
class AdmissionRequest(TypedDict):
    """``request`` of an AdmissionReview."""

    uid: Annotated[str, Field(min_length=1)]
    kind: GroupVersionKind
    operation: Operation
    subResource: NotRequired[str | None]
    name: NotRequired[str]
    namespace: NotRequired[str]
    userInfo: NotRequired[UserInfo]
    object: NotRequired[dict[str, Any] | None]
    oldObject: NotRequired[dict[str, Any] | None]
    dryRun: NotRequired[bool]


@with_config(_STRICT)
class AdmissionReview(TypedDict):
    """An AdmissionReview as the API server sends it."""

    apiVersion: Literal["admission.k8s.io/v1"]
    kind: Literal["AdmissionReview"]
    request: AdmissionRequest


_STRING: Final = {"type": "string"}
_OBJECT_OR_NULL: Final = {"type": ["object", "null"]}

#: :class:`AdmissionReview` in draft 4; ``tests/server/test_wire.py`` holds the two together.
ENVELOPE: Final[Schema] = {
    "type": "object",
    "required": ["apiVersion", "kind", "request"],
    "properties": {
        "apiVersion": {"enum": [API_VERSION]},
        "kind": {"enum": ["AdmissionReview"]},
        "request": {
            "type": "object",
            "required": ["uid", "kind", "operation"],
            "properties": {
                "uid": {"type": "string", "minLength": 1},
                "kind": {
                    "type": "object",
                    "properties": {"group": _STRING, "version": _STRING, "kind": _STRING},
                },
                "operation": {"enum": ["CREATE", "UPDATE", "DELETE", "CONNECT"]},
                "subResource": {"type": ["string", "null"]},
                "name": _STRING,
                "namespace": _STRING,
                "userInfo": {
                    "type": "object",
                    "properties": {
                        "username": _STRING,
                        "groups": {"type": "array", "items": _STRING},
                    },
                },
                "object": _OBJECT_OR_NULL,
                "oldObject": _OBJECT_OR_NULL,
                "dryRun": {"type": "boolean"},
            },
        },
    },
}

_PROOF: Final = Proof([ENVELOPE])
_VALIDATOR: Final = TypeAdapter(AdmissionReview)


def parse_request(data: object) -> AdmissionRequest:
    """The ``request`` of an AdmissionReview decoded from JSON.

    Raises pydantic's ValidationError, with every problem and its location.
    """
    if _PROOF.holds(data):
        return cast(AdmissionReview, data)["request"]
    return _VALIDATOR.validate_python(data)["request"]
