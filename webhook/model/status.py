"""``status`` of the TrainingJob, as the ACK controller writes it.

Timestamps are strings: the API server keeps them as RFC 3339 text, and the
YAML loader is set up not to turn them into ``datetime`` objects (as kubectl's
loader does not). Unknown status fields are ignored rather than rejected: the
controller owns this block, and a newer controller may add fields.
"""

from __future__ import annotations

from pydantic import ConfigDict

from webhook.model.base import CRDModel


class StatusModel(CRDModel):
    """A block of the status: typed, but tolerant of fields a newer controller adds."""

    model_config = ConfigDict(extra="ignore")


class ResourceMetadata(StatusModel):
    """ACK's record of the AWS resource."""

    arn: str | None = None
    ownerAccountID: str
    partition: str | None = None
    region: str


class Condition(StatusModel):
    """An ACK condition (``ACK.ResourceSynced``, ``ACK.Terminal`` ...)."""

    lastTransitionTime: str | None = None
    message: str | None = None
    reason: str | None = None
    status: str
    type: str


class RuleEvaluationStatus(StatusModel):
    """The state of one Debugger or Profiler rule evaluation."""

    lastModifiedTime: str | None = None
    ruleConfigurationName: str | None = None
    ruleEvaluationJobARN: str | None = None
    ruleEvaluationStatus: str | None = None
    statusDetails: str | None = None


class ModelArtifacts(StatusModel):
    """Where the trained model was written."""

    s3ModelArtifacts: str | None = None


class WarmPoolStatus(StatusModel):
    """The state of the job's warm pool."""

    resourceRetainedBillableTimeInSeconds: int | None = None
    reusedByJob: str | None = None
    status: str | None = None


class TrainingJobStatus(StatusModel):
    """The observed state of a TrainingJob."""

    ackResourceMetadata: ResourceMetadata | None = None
    conditions: list[Condition] | None = None
    creationTime: str | None = None
    debugRuleEvaluationStatuses: list[RuleEvaluationStatus] | None = None
    failureReason: str | None = None
    lastModifiedTime: str | None = None
    modelArtifacts: ModelArtifacts | None = None
    profilerRuleEvaluationStatuses: list[RuleEvaluationStatus] | None = None
    profilingStatus: str | None = None
    secondaryStatus: str | None = None
    trainingJobStatus: str | None = None
    warmPoolStatus: WarmPoolStatus | None = None
