"""A pydantic JSON Schema as a Kubernetes structural schema (a CRD's ``openAPIV3Schema``).

The API server accepts a CustomResourceDefinition only when its schema is
*structural* (apiextensions-apiserver's ``pkg/apiserver/schema/validation.go``
and ``pkg/apis/apiextensions/validation/validation.go`` say what that takes):
OpenAPI v3 as in JSON Schema draft 4, every node typed (or marked
``x-kubernetes-preserve-unknown-fields``), no ``$ref``, ``definitions``,
``const``, ``uniqueItems: true``, ``type: null``, ``additionalProperties`` next to
``properties``, and no type or description inside ``anyOf``/``oneOf``. Pydantic
writes draft 2020-12 with all of those, so :func:`structural` rewrites:

* ``$ref`` to ``$defs`` is inlined (a recursive model is refused: a structural
  schema cannot be recursive);
* ``X | None`` (``anyOf: [X, {type: null}]``) is X with ``nullable: true``;
* ``const`` is a one-value ``enum``; draft 2020-12's numeric ``exclusiveMinimum``
  is draft 4's ``minimum`` with ``exclusiveMinimum: true`` (the same for maximum);
* a discriminated union (``oneOf`` of models, the rule kinds) is one object with
  every member's fields, the discriminator an ``enum`` of the members' tags, and
  ``required`` the fields all members require. A field whose type differs between
  members (``keys``: a list for one kind, a map for another) keeps no type, only
  ``x-kubernetes-preserve-unknown-fields``. Which fields go with which ``kind`` is
  left to the policy loader: an OpenAPI ``oneOf`` that failed would tell a user
  "must validate one and only one schema" without naming the field, where the
  loader names it with a did-you-mean;
* a free-form map (``dict[str, Any]``: ``params``, the defaults' ``spec``) is
  ``type: object`` with ``x-kubernetes-preserve-unknown-fields: true``;
* ``additionalProperties: false`` next to ``properties`` is dropped: the API
  server prunes unknown fields of a structural schema (and refuses them when the
  client asks for strict field validation, as kubectl does by default);
* ``title`` and ``default`` are dropped. Defaults stay the loader's: a default
  in the CRD would be written into every stored object, so changing one in a
  later version would not reach the objects already stored, and ``kubectl diff``
  would show fields nobody wrote.

Every other keyword (``type``, ``properties``, ``items``, ``required``, ``enum``,
``pattern``, lengths, bounds, ``description``) is kept as it is, and so are
Kubernetes' own ``x-kubernetes-*`` keywords that a model field gives in its
``json_schema_extra`` (a list of conditions keyed by ``type``, say). A keyword this
module does not know is an error, so a change of the model that needs a new
rewrite fails the generator instead of producing a schema the API server refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["StructuralSchemaError", "structural"]

KEPT: Final = frozenset(
    {
        "type",
        "description",
        "properties",
        "items",
        "additionalProperties",
        "required",
        "enum",
        "format",
        "pattern",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "minimum",
        "maximum",
        "multipleOf",
    }
)
"""Keywords of draft 2020-12 that mean the same in a structural schema."""
DROPPED: Final = frozenset({"title", "default", "discriminator", "$defs", "$schema", "examples"})
"""Keywords that document or default, and that a CRD's schema does without."""
HANDLED: Final = frozenset(
    {"$ref", "anyOf", "oneOf", "const", "exclusiveMinimum", "exclusiveMaximum", "uniqueItems"}
)
EXTENSION: Final = "x-kubernetes-"
"""Kubernetes' own keywords (``json_schema_extra`` of a field), kept as they are."""
PRESERVE: Final = "x-kubernetes-preserve-unknown-fields"


class StructuralSchemaError(ValueError):
    """The JSON Schema uses something a structural schema cannot say (the message says what)."""


def structural(schema: Mapping[str, Any]) -> dict[str, Any]:
    """*schema* (pydantic's ``model_json_schema()``) as a structural schema (module docstring)."""
    definitions = schema.get("$defs", {})
    return _Converter(definitions).node(schema, "")


class _Converter:
    def __init__(self, definitions: Mapping[str, Any]) -> None:
        self._definitions = definitions
        self._resolving: list[str] = []

    def node(self, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        """One schema node, rewritten (*where* is its JSON path, for error messages)."""
        unknown = (
            {key for key in schema if not key.startswith(EXTENSION)} - KEPT - DROPPED - HANDLED
        )
        if unknown:
            raise StructuralSchemaError(f"{where or '/'}: cannot convert {sorted(unknown)}")
        if "$ref" in schema:
            return self._reference(schema, where)
        if "anyOf" in schema:
            return self._nullable(schema, where)
        if "oneOf" in schema:
            return self._union(schema, where)
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key in DROPPED:
                continue
            if key == "const":
                out["enum"] = [value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum"):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                out[bound] = value
                out[key] = True
            elif key == "uniqueItems":
                continue  # forbidden in a CRD: the loader keeps the check
            elif key == "properties":
                out[key] = {
                    name: self.node(child, f"{where}/properties/{name}")
                    for name, child in value.items()
                }
            elif key == "items":
                out[key] = self.node(value, f"{where}/items")
            elif key == "additionalProperties":
                continue  # below, once the properties are known
            else:
                out[key] = value
        self._additional(schema, out, where)
        if "enum" in out and "type" not in out:
            out["type"] = _enum_type(out["enum"], where)
        return out

    def _additional(self, schema: Mapping[str, Any], out: dict[str, Any], where: str) -> None:
        extra = schema.get("additionalProperties")
        if out.get("type") != "object":
            return
        if isinstance(extra, Mapping) and extra:
            if "properties" in out:
                raise StructuralSchemaError(f"{where}: both properties and additionalProperties")
            out["additionalProperties"] = self.node(extra, f"{where}/additionalProperties")
        elif "properties" not in out and extra is not False:
            out[PRESERVE] = True  # dict[str, Any]: free-form, kept as written

    def _reference(self, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        reference = schema["$ref"]
        name = reference.removeprefix("#/$defs/")
        if name == reference or name not in self._definitions:
            raise StructuralSchemaError(f"{where}: cannot resolve $ref {reference!r}")
        if name in self._resolving:
            raise StructuralSchemaError(f"{where}: {name} is recursive")
        self._resolving.append(name)
        try:
            resolved = self.node(self._definitions[name], f"{where}({name})")
        finally:
            self._resolving.pop()
        description = schema.get("description")
        if description:
            resolved["description"] = description
        return resolved

    def _nullable(self, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        options = list(schema["anyOf"])
        present = [option for option in options if option != {"type": "null"}]
        if len(present) != 1 or len(options) != 2:
            raise StructuralSchemaError(f"{where}: only X | None unions can be converted")
        rest = {key: value for key, value in schema.items() if key != "anyOf"}
        out = self.node({**present[0], **rest}, where)
        out["nullable"] = True
        return out

    def _union(self, schema: Mapping[str, Any], where: str) -> dict[str, Any]:
        tag = (schema.get("discriminator") or {}).get("propertyName")
        if not tag:
            raise StructuralSchemaError(f"{where}: only discriminated unions can be converted")
        members = [
            self.node(member, f"{where}/oneOf/{index}")
            for index, member in enumerate(schema["oneOf"])
        ]
        properties: dict[str, Any] = {}
        for member in members:
            if member.get("type") != "object":
                raise StructuralSchemaError(f"{where}: a union member is not an object")
            for name, child in member.get("properties", {}).items():
                if name == tag:
                    continue
                if name not in properties:
                    properties[name] = child
                elif _shape(properties[name]) != _shape(child):
                    properties[name] = {PRESERVE: True}  # typed differently by the members
                elif properties[name] != child:
                    properties[name] = _loosest(properties[name], child)
        tags = [value for member in members for value in member["properties"][tag]["enum"]]
        required = set.intersection(*(set(member.get("required", ())) for member in members))
        out: dict[str, Any] = {
            "type": "object",
            "properties": {tag: {"type": "string", "enum": tags}, **properties},
            "required": [name for name in [tag, *properties] if name in required],
        }
        description = schema.get("description")
        if description:
            out["description"] = description
        return out


def _shape(node: Mapping[str, Any]) -> Any:
    """What must agree for two members' fields of one name to share a schema."""
    return (
        node.get("type"),
        _shape(node["items"]) if "items" in node else None,
        _shape(node["additionalProperties"]) if "additionalProperties" in node else None,
        node.get(PRESERVE, False),
    )


def _loosest(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """One schema for a field two members type alike but constrain differently.

    Only what both members agree on is kept (type, shape, and equal keywords); a
    constraint of one member alone would refuse the other member's values.
    """
    out: dict[str, Any] = {}
    for key in first.keys() & second.keys():
        if first[key] == second[key]:
            out[key] = first[key]
        elif key in ("items", "additionalProperties"):
            out[key] = _loosest(first[key], second[key])
        elif key == "properties":
            names = first[key].keys() | second[key].keys()
            out[key] = {
                name: first[key][name]
                if name not in second[key]
                else second[key][name]
                if name not in first[key]
                else _loosest(first[key][name], second[key][name])
                for name in sorted(names)
            }
    if first.get("nullable") or second.get("nullable"):
        out["nullable"] = True
    return out


def _enum_type(values: list[Any], where: str) -> str:
    types = {type(value) for value in values}
    if types == {str}:
        return "string"
    if types == {bool}:
        return "boolean"
    if types <= {int}:
        return "integer"
    raise StructuralSchemaError(
        f"{where}: an enum of mixed or unknown types {sorted(map(str, types))}"
    )
