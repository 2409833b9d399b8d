"""The object a policy rule looks at, with the values rules keep asking for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from webhook.request import Context


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def namespace_of(obj: Mapping[str, Any], request_namespace: str | None) -> str:
    """The namespace policies are selected by: the request's, else the object's ("" if none)."""
    if request_namespace:
        return request_namespace
    metadata = obj.get("metadata")
    return _text(metadata.get("namespace")) if isinstance(metadata, dict) else ""


@dataclass(slots=True)
class Subject:
    """A TrainingJob under review: the raw object and its request context.

    Read-only by convention, not a frozen dataclass: one is built per review,
    and a frozen dataclass's ``__init__`` costs three times as much.

    Rules read the raw mapping (the typed model may not exist when the object
    has type errors, and every rule must still run), so every accessor here is
    defensive about types.
    """

    obj: Mapping[str, Any]
    spec: Mapping[str, Any]
    metadata: Mapping[str, Any]
    namespace: str
    name: str
    training_job_name: str
    context: Context
    old: Mapping[str, Any] | None = None
    scratch: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)
    """Per-review caches of rule kinds (e.g. the CEL activation), dropped with the subject."""

    @classmethod
    def of(
        cls, obj: Mapping[str, Any], context: Context, old: Mapping[str, Any] | None = None
    ) -> Subject:
        """Build the subject of *obj* under *context*."""
        spec = obj.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        metadata = obj.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        return cls(
            obj,
            spec,
            metadata,
            namespace_of(obj, context.namespace),
            _text(metadata.get("name")),
            _text(spec.get("trainingJobName")),
            context,
            old,
        )

    def template(self, text: str) -> str:
        """Substitute ``{namespace}``, ``{name}`` and ``{trainingJobName}`` in *text*."""
        if "{" not in text:
            return text
        return (
            text.replace("{namespace}", self.namespace)
            .replace("{name}", self.name)
            .replace("{trainingJobName}", self.training_job_name)
        )

    def block(self, *names: str) -> Mapping[str, Any]:
        """The mapping at ``spec.<names...>``, or an empty one."""
        current: Any = self.spec
        for name in names:
            current = current.get(name) if isinstance(current, dict) else None
        return current if isinstance(current, dict) else {}

    def labels(self) -> Mapping[str, str]:
        """The object's labels (only string values)."""
        labels = self.metadata.get("labels")
        if not isinstance(labels, dict):
            return {}
        return {k: v for k, v in labels.items() if isinstance(k, str) and isinstance(v, str)}
