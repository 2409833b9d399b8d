"""What the API server hands to admission: the object after decoding (:func:`decoded`, what
mutating admission sees) and after the schema check (:func:`admitted`, what validating
admission sees), for the tests that hold the exported policies to the webhook.

A TrainingJob reaches validating admission only once the API server has pruned
the fields its CRD does not define and the nulls, dropped ``status`` on CREATE
(the status subresource), and accepted it against the CRD's schema and
``metadata`` rules. :func:`admitted` does the same with the typed model (which
``tests/model/test_crd_drift.py`` keeps equal to the CRD), or says the API
server would have refused the object (None): then neither the webhook nor a
ValidatingAdmissionPolicy is ever asked about it.
"""

from __future__ import annotations

import copy
from typing import Any

from webhook.engine import DNS_SUBDOMAIN
from webhook.model.parse import known_fields, parse

_INT64 = (-(2**63), 2**63 - 1)


def _prune(value: Any, parent: tuple[str | int, ...]) -> Any:
    if isinstance(value, dict):
        known = known_fields(parent)
        free = (
            not known
            or parent[-1:] in (("labels",), ("annotations",))
            or (
                parent
                and parent[-1]
                in (
                    "hyperParameters",
                    "environment",
                    "hookParameters",
                    "collectionParameters",
                    "ruleParameters",
                    "profilingParameters",
                )
            )
        )
        out = {}
        for key, item in value.items():
            if item is None:
                continue
            if not free and key not in known and parent[:1] != ("metadata",):
                continue
            out[key] = _prune(item, (*parent, key))
        return out
    if isinstance(value, list):
        return [_prune(item, (*parent, index)) for index, item in enumerate(value)]
    return value


def _plain(value: Any) -> bool:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(item is not None and _plain(item) for item in value)
    return False  # a float, a date from YAML


def _json(value: Any) -> Any:
    """*value* as the API server decodes JSON: an integer past int64 becomes a float."""
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else float(value)
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: _json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json(item) for item in value]
    raise TypeError(type(value).__name__)


def decoded(obj: Any) -> dict[str, Any] | None:
    """*obj* as mutating admission sees it (unknown fields and nulls pruned, not yet checked
    against the schema), or None when it is not a JSON object kubectl could send."""
    if not isinstance(obj, dict):
        return None
    try:
        job: dict[str, Any] = _json(_prune(copy.deepcopy(obj), ()))
    except TypeError:  # a date or another YAML value kubectl writes as a string
        return None
    return job


def admitted(obj: Any, operation: str = "CREATE") -> dict[str, Any] | None:
    """*obj* as validating admission sees it, or None when the API server refuses it."""
    if not isinstance(obj, dict):
        return None
    job: dict[str, Any] = _prune(copy.deepcopy(obj), ())
    if operation == "CREATE":
        job.pop("status", None)
    if not _plain(job) or parse(job)[1]:
        return None
    name = job.get("metadata", {}).get("name")
    if not isinstance(name, str) or len(name) > 253 or not DNS_SUBDOMAIN.fullmatch(name):
        return None
    return job
