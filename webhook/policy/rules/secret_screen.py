"""The native screen of the ``secrets`` rule: a spec it finds nothing in, as JSON Schema.

:data:`SPEC_SCREEN` follows the typed model (:class:`~webhook.model.spec.TrainingJobSpec`),
so it screens every string once and reads no field name it need not. It refuses a string
that the value screen matches (:data:`~webhook.policy.rules.credentials.NATIVE_VALUES`:
anything not ASCII, the start of a credential in clear or base64-encoded, 40 characters
of an AWS secret's alphabet); a map key or tag key that the value screen or the key
screen matches (:data:`~webhook.policy.rules.secret_names.NATIVE_KEYS`: may name a
secret), whatever its value; a member the model does not have, and a container where the
model has a scalar (the screen does not look into those). Field names of the model never
match the screens (checked when the screen is built, at import).

:func:`webhook.policy.rules.secrets.native_schema` is this screen for every rule; a job it
refuses gets the exact check.
"""

from __future__ import annotations

import re
import typing
from typing import Any, Final

from pydantic import BaseModel

from webhook.introspect import is_model, unwrap
from webhook.model.spec import TrainingJobSpec
from webhook.native import Schema
from webhook.policy.rules.credentials import NATIVE_VALUES
from webhook.policy.rules.secret_names import NATIVE_KEYS

_VALUE_SCREEN: Final[Schema] = {"not": {"type": "string", "pattern": NATIVE_VALUES}}
_SCALARS_OR: Final = ("string", "number", "boolean", "null")
#: A scalar field's value (of its type or not: a string where a number belongs is still
#: scanned by the rule's check): screened when a string; an object or array where the model has
#: a scalar is refused (the rule's check would walk into it).
_SCALAR: Final[Schema] = {"type": list(_SCALARS_OR), **_VALUE_SCREEN}
#: Keys that may name a secret or hold a credential are refused, whatever their value.
_KEY_SCREEN: Final = f"{NATIVE_VALUES}|{NATIVE_KEYS}"
_TAG_KEY: Final[Schema] = {
    "type": list(_SCALARS_OR),
    "not": {"type": "string", "pattern": _KEY_SCREEN},
}


def _screen(annotation: Any) -> Schema:
    """The screen of a value the model types as *annotation*.

    Structures, lists and maps must be what the model says (or null): anything else
    there is refused rather than looked into. Structures say nothing but their members,
    so :func:`webhook.native.conjunction` merges them with the built-in checks' own
    (closed) structures, and one pass over the job does both.
    """
    kind = unwrap(annotation)
    if is_model(kind):
        return _struct(kind)
    origin = typing.get_origin(kind)
    if origin is list:
        return {"type": ["array", "null"], "items": _screen(typing.get_args(kind)[0])}
    if origin is dict:
        return {
            "type": ["object", "null"],
            "patternProperties": {_KEY_SCREEN: {"not": {}}},
            "additionalProperties": _screen(typing.get_args(kind)[1]),
        }
    return _SCALAR


def _struct(model: type[BaseModel]) -> Schema:
    """A structure of the model: its fields, screened; no other member (refused)."""
    names = set(model.model_fields)
    for name in names:  # the rule's check reads a field name like any key
        if re.search(_KEY_SCREEN, name):
            raise AssertionError(f"{model.__name__}.{name} may name a secret: screen it")
    tag_like = names == {"key", "value"}  # the rule's check reads such an object as a tag
    properties = {
        name: _TAG_KEY if tag_like and name == "key" else _screen(info.annotation)
        for name, info in model.model_fields.items()
    }
    return {"type": ["object", "null"], "properties": properties, "additionalProperties": False}


#: The screen of a spec, built once from the typed model: every string the rule could
#: flag is refused, every key that may name a secret or hold a credential is refused
#: (field names of the model say nothing: :func:`_struct` makes sure), and so is any
#: member the model does not have, since the screen does not look into it.
SPEC_SCREEN: Final = _struct(TrainingJobSpec)
