"""The ``wgpolicyk8s.io/v1alpha2`` PolicyReport CRD, as a strict validator for tests.

``wgpolicyk8s.io_policyreports.yaml`` beside this file is that CRD, written from its
published API definition: kubernetes-sigs/wg-policy-prototypes,
``policy-report/apis/wgpolicyk8s.io/v1alpha2/policyreport_types.go`` (with core/v1
ObjectReference, meta/v1 LabelSelector and meta/v1 Timestamp), the types the CRD that
Kyverno and Policy Reporter install is generated from.

The validator is stricter than the API server in one way, on purpose: the server
silently prunes a field its structural schema does not define, and a report that lost a
field on the way in would differ from the next audit's every time (never "unchanged").
So a field the CRD does not define is an error here (``additionalProperties: false``
wherever the schema lists properties; ``metadata`` is the API server's). The
``int32``/``int64`` formats become the ranges they stand for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import jsonschema
import yaml

CRD_FILE: Final = Path(__file__).with_name("wgpolicyk8s.io_policyreports.yaml")
RANGES: Final = {"int32": 2**31, "int64": 2**63}


def crd() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CRD_FILE.read_text(encoding="utf-8"))
    return data


def open_api_schema(version: str = "v1alpha2") -> dict[str, Any]:
    for served in crd()["spec"]["versions"]:
        if served["name"] == version:
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise KeyError(version)


def strict(schema: Any, *, top: bool = True) -> Any:
    """*schema* with unknown fields refused and integer formats as ranges (see above)."""
    if isinstance(schema, list):
        return [strict(item, top=False) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {
        key: strict(value, top=False)
        for key, value in schema.items()
        if key != "properties" and not key.startswith("x-kubernetes-")
    }
    if "properties" in schema:
        out["properties"] = {
            name: (value if top and name == "metadata" else strict(value, top=False))
            for name, value in schema["properties"].items()
        }
        out.setdefault("additionalProperties", False)
    bound = RANGES.get(schema.get("format", ""))
    if schema.get("type") == "integer" and bound is not None:
        out["minimum"], out["maximum"] = -bound, bound - 1
    return out


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(strict(open_api_schema()))


def problems(report: Any) -> list[str]:
    """Every way *report* breaks the CRD, as ``path: message``; empty when it holds."""
    return [
        f"{'.'.join(str(part) for part in error.absolute_path)}: {error.message}"
        for error in validator().iter_errors(report)
    ]
