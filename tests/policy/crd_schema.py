"""What the API server does with a CRD's schema, for tests (no kube-apiserver runs here).

* :func:`structural_problems`: the rules of a structural schema that matter to the
  API server's acceptance of a CRD, written from apiextensions-apiserver's
  ``pkg/apiserver/schema/validation.go`` (structural invariants and completeness)
  and ``pkg/apis/apiextensions/validation/validation.go`` (forbidden keywords).
  An independent check of :mod:`webhook.policy.structural`'s output, not its code.
* :func:`object_problems`: an object as the API server validates it against the
  schema with strict field validation (kubectl's default): types, enums,
  patterns, bounds, ``nullable``, unknown fields refused (outside
  ``x-kubernetes-preserve-unknown-fields``), then the root's
  ``x-kubernetes-validations`` rules evaluated in CEL. The schema is translated to
  JSON Schema draft 4 (what OpenAPI v3's schema object is based on) for the
  ``jsonschema`` validator; the root's ``metadata`` is Kubernetes' ObjectMeta, open
  here but for its name (the API server validates the rest on its own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

import jsonschema
from cel_expr_python import cel

PRESERVE: Final = "x-kubernetes-preserve-unknown-fields"
FORBIDDEN: Final = {
    "$ref": "$ref is not supported",
    "$schema": "not a field of JSONSchemaProps in a CRD",
    "definitions": "definitions is not supported",
    "$defs": "not a field of JSONSchemaProps",
    "id": "id is not supported",
    "additionalItems": "additionalItems is not supported",
    "patternProperties": "patternProperties is not supported",
    "dependencies": "dependencies is not supported",
    "const": "not in OpenAPI v3 (draft 4)",
    "discriminator": "not a field of JSONSchemaProps",
}
JUNCTORS: Final = ("allOf", "anyOf", "oneOf", "not")
NOT_IN_JUNCTORS: Final = (
    "type",
    "description",
    "default",
    "additionalProperties",
    "nullable",
    "title",
    "externalDocs",
    PRESERVE,
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys",
    "x-kubernetes-list-type",
    "x-kubernetes-map-type",
    "x-kubernetes-validations",
)
TYPES: Final[dict[str, type | tuple[type, ...]]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "object": dict,
    "array": list,
}
RE2_UNSUPPORTED: Final = re.compile(r"\(\?[=!<]|\\[1-9]|\(\?P=")
"""Lookarounds and backreferences: Python's re has them, Go's RE2 (the API server's) not."""


def structural_problems(schema: Mapping[str, Any]) -> list[str]:
    """Why the API server would refuse *schema* as a CRD's ``openAPIV3Schema`` (empty: fine)."""
    problems = list(_node(schema, "openAPIV3Schema", "root"))
    if schema.get("type") != "object":
        problems.append("openAPIV3Schema.type: must be object at the root")
    if "additionalProperties" in schema:
        problems.append("openAPIV3Schema.additionalProperties: must not be used at the root")
    metadata = schema.get("properties", {}).get("metadata")
    if metadata is not None:
        rest = {k: v for k, v in metadata.items() if k not in ("type", "properties")}
        names = set(metadata.get("properties", {})) - {"name", "generateName"}
        if metadata.get("type") != "object" or rest or names:
            problems.append(
                "openAPIV3Schema.properties[metadata]: must not specify anything other than "
                "name and generateName"
            )
    return problems


def _node(node: Mapping[str, Any], where: str, level: str) -> Iterator[str]:
    for key, reason in FORBIDDEN.items():
        if key in node:
            yield f"{where}.{key}: {reason}"
    if node.get("uniqueItems") is True:
        yield f"{where}.uniqueItems: cannot be set to true"
    kind = node.get("type")
    if kind == "null":
        yield f"{where}.type: cannot be set to null"
    if kind is not None and kind not in TYPES:
        yield f"{where}.type: {kind!r} is not an OpenAPI type"
    if not kind and not node.get(PRESERVE) and not node.get("x-kubernetes-int-or-string"):
        yield f"{where}.type: must not be empty for specified {level} schemas"
    if PRESERVE in node and node[PRESERVE] is not True:
        yield f"{where}.{PRESERVE}: must be true when given"
    if kind == "array" and not isinstance(node.get("items"), dict):
        yield f"{where}.items: must be specified, as one schema"
    extra = node.get("additionalProperties")
    if node.get("properties") and extra is not None and extra is not True:
        yield f"{where}.additionalProperties: additionalProperties and properties are mutual exclusive"
    for value in node.get("enum") or ():
        if kind in TYPES and not _is(value, kind) and not (value is None and node.get("nullable")):
            yield f"{where}.enum: {value!r} is not of type {kind}"
    pattern = node.get("pattern")
    if pattern is not None:
        if RE2_UNSUPPORTED.search(pattern):
            yield f"{where}.pattern: not an RE2 regular expression"
        else:
            try:
                re.compile(pattern)
            except re.error as error:
                yield f"{where}.pattern: must be a valid regular expression: {error}"
    if node.get("x-kubernetes-list-type") == "map":
        items = node.get("items") or {}
        keys = node.get("x-kubernetes-list-map-keys") or []
        if items.get("type") != "object" or not keys:
            yield f"{where}: a map list needs object items and x-kubernetes-list-map-keys"
        for key in keys:
            if key not in items.get("required", ()):
                yield f"{where}.x-kubernetes-list-map-keys: {key!r} must be required in the items"
    for name, child in (node.get("properties") or {}).items():
        yield from _node(child, f"{where}.properties[{name}]", "object field")
    if isinstance(node.get("items"), dict):
        yield from _node(node["items"], f"{where}.items", "array item")
    if isinstance(extra, dict):
        yield from _node(extra, f"{where}.additionalProperties", "object field")
    for junctor in JUNCTORS:
        for index, nested in enumerate(_nested(node.get(junctor))):
            yield from _junctor(nested, node, f"{where}.{junctor}[{index}]")


def _nested(value: Any) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def _junctor(nested: Mapping[str, Any], outside: Mapping[str, Any], where: str) -> Iterator[str]:
    for key in NOT_IN_JUNCTORS:
        if key in nested:
            yield f"{where}.{key}: must be empty to be structural"
    for name in nested.get("properties") or {}:
        if name == "metadata":
            yield f"{where}.properties[metadata]: must not be specified in a nested context"
        if name not in (outside.get("properties") or {}):
            yield f"{where}.properties[{name}]: must be specified outside the junctor too"
    if "items" in nested and "items" not in outside:
        yield f"{where}.items: must be specified outside the junctor too"


def _is(value: Any, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(value, TYPES[kind])


def as_json_schema(node: Mapping[str, Any], *, root: bool = True) -> dict[str, Any]:
    """The structural schema *node* as JSON Schema draft 4, validating as the API server."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key == "nullable":
            continue
        if key == "properties":
            out[key] = {name: as_json_schema(child, root=False) for name, child in value.items()}
            if root and "metadata" in value:  # ObjectMeta: only its name is restricted here
                out[key]["metadata"].pop("additionalProperties", None)
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            out[key] = as_json_schema(value, root=False)
        elif key == "format":
            continue  # the API server checks a few formats; none matters for policies
        else:
            out[key] = value
    if node.get("nullable"):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    if (
        node.get("type") == "object"
        and not node.get(PRESERVE)
        and "additionalProperties" not in node
    ):
        out["additionalProperties"] = False  # unknown fields: refused under strict validation
    return out


def object_problems(schema: Mapping[str, Any], obj: Any) -> list[str]:
    """Why the API server would refuse *obj* (strict field validation), as ``path: message``."""
    validator = jsonschema.Draft4Validator(as_json_schema(schema))
    problems = [
        f"{'.'.join(str(step) for step in error.absolute_path) or '<root>'}: {error.message}"
        for error in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.path)))
    ]
    if problems:
        return problems  # the API server runs the CEL rules only on a schema-valid object
    environment = cel.NewEnv(variables={"self": cel.Type.DYN})
    for rule in schema.get("x-kubernetes-validations") or ():
        value = environment.compile(rule["rule"]).eval(environment.Activation({"self": obj}))
        if value.type() == cel.Type.ERROR or value.value() is not True:
            problems.append(f"<root>: {rule['message']}")
    return problems
