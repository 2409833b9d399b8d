"""Typed model of the ACK SageMaker TrainingJob (``sagemaker.services.k8s.aws/v1alpha1``)."""

from __future__ import annotations

from typing import Final, Literal

from webhook.model.base import CRDModel
from webhook.model.meta import ObjectMeta
from webhook.model.spec import TrainingJobSpec
from webhook.model.status import TrainingJobStatus

GROUP: Final = "sagemaker.services.k8s.aws"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"
KIND: Final = "TrainingJob"


class TrainingJob(CRDModel):
    """A whole TrainingJob object."""

    apiVersion: Literal["sagemaker.services.k8s.aws/v1alpha1"]
    kind: Literal["TrainingJob"]
    metadata: ObjectMeta
    spec: TrainingJobSpec
    status: TrainingJobStatus | None = None


__all__ = [
    "API_VERSION",
    "GROUP",
    "KIND",
    "VERSION",
    "CRDModel",
    "ObjectMeta",
    "TrainingJob",
    "TrainingJobSpec",
    "TrainingJobStatus",
]
