"""The built-in checks on one object, and their native proof.

:func:`check_object` gives every finding of the checks that need no policy: the
typed model (``crd.*``), the Kubernetes object name (``k8s.name``), SageMaker's
constraints and the rules they cannot express (``sagemaker.*``), unsubstituted
placeholders (``placeholder``). :func:`builtin_proof` states the same checks as one
native schema, which :func:`webhook.engine.review` asks first.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, Final

from webhook.constraints import messages
from webhook.constraints.check import SpecChecker, find_placeholder
from webhook.constraints.proof import builtin_schema
from webhook.constraints.rules import UNPROVEN, check_rules
from webhook.findings import Finding
from webhook.model import API_VERSION, KIND, TrainingJobSpec
from webhook.model.parse import parse
from webhook.native import Proof, Schema

# RFC 1123 subdomain: what Kubernetes requires of a custom resource's name.
_LABEL: Final = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_SUBDOMAIN: Final = re.compile(rf"{_LABEL}(\.{_LABEL})*")


def check_object(
    obj: Mapping[str, Any],
    checker: SpecChecker,
    *,
    full: bool = False,
    native: bool = True,
    proven: bool | None = None,
) -> list[Finding]:
    """Return every finding of the built-in checks on *obj*, all denying.

    Three ways to the same answer, fastest first: the native proof of
    the built-in checks (:mod:`webhook.native`) says the checks would find
    nothing, and only the cross-field rule it cannot state runs; else the walk; the
    typed model (pydantic) gives the exact schema errors, but costs more than
    the rest of the checks together, so it runs only when the walk notes
    something that does not fit the CRD's types, or when the object's top
    level or metadata is anything but plain. *full* always runs the walk and
    the model (the reference the tests hold the fast paths to); *native*
    False skips the proof; *proven* is its answer when the caller has it.
    """
    if proven is None:
        proven = native and not full and builtin_proof(checker).holds(obj)
    if native and not full and proven:
        return check_rules(obj["spec"], UNPROVEN)
    spec = obj.get("spec")
    spec_findings: list[Finding] = []
    suspect = True
    if isinstance(spec, dict):
        spec_findings, suspect = checker.walk(spec)
    findings: list[Finding] = []
    if full or suspect or not _plain(obj, spec):
        _, findings = parse(obj)
    metadata = obj.get("metadata")
    if isinstance(metadata, dict):
        findings.extend(_check_name(metadata))
    if isinstance(spec, dict):
        # A field both the CRD and SageMaker require is reported once, by the CRD.
        missing = {f.path for f in findings if f.rule == "crd.required"}
        findings.extend(
            f for f in spec_findings if f.rule != "sagemaker.required" or f.path not in missing
        )
        findings.extend(check_rules(spec))
    return findings


@functools.cache
def builtin_schema_of(checker: SpecChecker) -> Schema:
    """The schema of an object the built-in checks with *checker* find nothing in."""
    return builtin_schema(
        checker.constraints, API_VERSION, KIND, _CRD_REQUIRED, DNS_SUBDOMAIN.pattern
    )


@functools.cache
def builtin_proof(checker: SpecChecker) -> Proof:
    """The native proof of the built-in checks with *checker* (built once)."""
    return Proof([builtin_schema_of(checker)])


_TOP_LEVEL: Final = frozenset({"apiVersion", "kind", "metadata", "spec", "status"})
_CRD_REQUIRED: Final = tuple(
    name for name, info in TrainingJobSpec.model_fields.items() if info.is_required()
)


def _plain(obj: Mapping[str, Any], spec: Any) -> bool:
    """True when the typed model could only agree with the walk.

    That is when what it types outside the spec walk (the top level, metadata,
    the CRD's required fields) is all as the CRD wants.
    """
    if obj.get("apiVersion") != API_VERSION or obj.get("kind") != KIND:
        return False
    if not _TOP_LEVEL.issuperset(obj) or obj.get("status") is not None:
        return False
    metadata = obj.get("metadata")
    if type(metadata) is not dict or type(spec) is not dict:
        return False
    for name in ("name", "generateName", "namespace"):
        value = metadata.get(name)
        if value is not None and type(value) is not str:
            return False
    for name in ("labels", "annotations"):
        value = metadata.get(name)
        if value is not None and (
            type(value) is not dict
            or not all(type(k) is str and type(v) is str for k, v in value.items())
        ):
            return False
    finalizers = metadata.get("finalizers")
    if finalizers is not None and (
        type(finalizers) is not list or not all(type(f) is str for f in finalizers)
    ):
        return False
    return all(spec.get(name) is not None for name in _CRD_REQUIRED)


def _check_name(metadata: Mapping[str, Any]) -> list[Finding]:
    name = metadata.get("name")
    if not isinstance(name, str):
        if name is None and not metadata.get("generateName"):
            return [Finding("k8s.name", ("metadata", "name"), "metadata.name is required")]
        return []
    placeholder = find_placeholder(name)
    if placeholder is not None:
        return [Finding("placeholder", ("metadata", "name"), messages.placeholder(placeholder))]
    if len(name) > 253 or DNS_SUBDOMAIN.fullmatch(name) is None:
        return [
            Finding(
                "k8s.name",
                ("metadata", "name"),
                f"{name[:60]!r} is not a valid Kubernetes name: at most 253 lower-case "
                "letters, digits, '-' and '.', starting and ending with a letter or digit",
            )
        ]
    return []
