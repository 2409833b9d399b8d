"""The parts of Kubernetes ObjectMeta that checks read.

Other ObjectMeta fields (``uid``, ``managedFields``, ``ownerReferences`` ...)
are kept but not typed: the API server owns their format.
"""

from __future__ import annotations

from pydantic import ConfigDict

from webhook.model.base import CRDModel


class ObjectMeta(CRDModel):
    """``metadata`` of a Kubernetes object."""

    model_config = ConfigDict(extra="allow")

    name: str | None = None
    generateName: str | None = None
    namespace: str | None = None
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None
    finalizers: list[str] | None = None
