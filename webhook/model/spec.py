"""``spec`` of the TrainingJob, field for field as in the ACK CRD (v1.9.1).

Attribute names are the CRD's camelCase names (``roleARN``, ``s3URI``,
``kmsKeyID`` ...), so a path in a finding, a policy and a CEL expression all
spell a field the same way. ``tests/model/test_crd_drift.py`` fails when this
module and the CRD in ``../shared/ack/`` disagree.
"""

from __future__ import annotations

from webhook.model.base import CRDModel

StringMap = dict[str, str]


class MetricDefinition(CRDModel):
    """A metric the algorithm writes to its logs."""

    name: str | None = None
    regex: str | None = None


class AlgorithmSpecification(CRDModel):
    """The training image or algorithm, and its input mode."""

    algorithmName: str | None = None
    enableSageMakerMetricsTimeSeries: bool | None = None
    metricDefinitions: list[MetricDefinition] | None = None
    trainingImage: str | None = None
    trainingInputMode: str | None = None


class CheckpointConfig(CRDModel):
    """Where managed spot training keeps checkpoints."""

    localPath: str | None = None
    s3URI: str | None = None


class CollectionConfiguration(CRDModel):
    """A Debugger tensor collection."""

    collectionName: str | None = None
    collectionParameters: StringMap | None = None


class DebugHookConfig(CRDModel):
    """Debugger hook parameters and storage paths."""

    collectionConfigurations: list[CollectionConfiguration] | None = None
    hookParameters: StringMap | None = None
    localPath: str | None = None
    s3OutputPath: str | None = None


class RuleConfiguration(CRDModel):
    """A Debugger or Profiler rule (both share one layout in the CRD)."""

    instanceType: str | None = None
    localPath: str | None = None
    ruleConfigurationName: str | None = None
    ruleEvaluatorImage: str | None = None
    ruleParameters: StringMap | None = None
    s3OutputPath: str | None = None
    volumeSizeInGB: int | None = None


class ExperimentConfig(CRDModel):
    """The experiment, trial and trial component to associate the job with."""

    experimentName: str | None = None
    trialComponentDisplayName: str | None = None
    trialName: str | None = None


class InfraCheckConfig(CRDModel):
    """Infrastructure health checks before training."""

    enableInfraCheck: bool | None = None


class FileSystemDataSource(CRDModel):
    """An EFS or FSx for Lustre data source."""

    directoryPath: str | None = None
    fileSystemAccessMode: str | None = None
    fileSystemID: str | None = None
    fileSystemType: str | None = None


class HubAccessConfig(CRDModel):
    """Access to a SageMaker hub content item."""

    hubContentARN: str | None = None


class ModelAccessConfig(CRDModel):
    """Acceptance of a model's end-user licence agreement."""

    acceptEula: bool | None = None


class S3DataSource(CRDModel):
    """An S3 data source."""

    attributeNames: list[str] | None = None
    hubAccessConfig: HubAccessConfig | None = None
    instanceGroupNames: list[str] | None = None
    modelAccessConfig: ModelAccessConfig | None = None
    s3DataDistributionType: str | None = None
    s3DataType: str | None = None
    s3URI: str | None = None


class DataSource(CRDModel):
    """Where a channel's data lives."""

    fileSystemDataSource: FileSystemDataSource | None = None
    s3DataSource: S3DataSource | None = None


class ShuffleConfig(CRDModel):
    """Shuffling of the input data."""

    seed: int | None = None


class Channel(CRDModel):
    """One input channel."""

    channelName: str | None = None
    compressionType: str | None = None
    contentType: str | None = None
    dataSource: DataSource | None = None
    inputMode: str | None = None
    recordWrapperType: str | None = None
    shuffleConfig: ShuffleConfig | None = None


class OutputDataConfig(CRDModel):
    """Where model artifacts go, and how they are encrypted."""

    compressionType: str | None = None
    kmsKeyID: str | None = None
    s3OutputPath: str | None = None


class ProfilerConfig(CRDModel):
    """SageMaker Profiler settings."""

    profilingIntervalInMilliseconds: int | None = None
    profilingParameters: StringMap | None = None
    s3OutputPath: str | None = None


class RemoteDebugConfig(CRDModel):
    """Remote debugging of the training container."""

    enableRemoteDebug: bool | None = None


class InstanceGroup(CRDModel):
    """A group of instances of one type (heterogeneous clusters)."""

    instanceCount: int | None = None
    instanceGroupName: str | None = None
    instanceType: str | None = None


class PlacementSpecification(CRDModel):
    """Instances to place on one UltraServer."""

    instanceCount: int | None = None
    ultraServerID: str | None = None


class InstancePlacementConfig(CRDModel):
    """Placement of instances on UltraServers."""

    enableMultipleJobs: bool | None = None
    placementSpecifications: list[PlacementSpecification] | None = None


class ResourceConfig(CRDModel):
    """Instances and storage for training."""

    instanceCount: int | None = None
    instanceGroups: list[InstanceGroup] | None = None
    instancePlacementConfig: InstancePlacementConfig | None = None
    instanceType: str | None = None
    keepAlivePeriodInSeconds: int | None = None
    volumeKMSKeyID: str | None = None
    volumeSizeInGB: int | None = None


class RetryStrategy(CRDModel):
    """How often SageMaker retries the job after an internal error."""

    maximumRetryAttempts: int | None = None


class StoppingCondition(CRDModel):
    """Time limits of the job."""

    maxPendingTimeInSeconds: int | None = None
    maxRuntimeInSeconds: int | None = None
    maxWaitTimeInSeconds: int | None = None


class Tag(CRDModel):
    """An AWS tag."""

    key: str | None = None
    value: str | None = None


class TensorBoardOutputConfig(CRDModel):
    """Where TensorBoard output goes."""

    localPath: str | None = None
    s3OutputPath: str | None = None


class VpcConfig(CRDModel):
    """The VPC subnets and security groups of the training containers."""

    securityGroupIDs: list[str] | None = None
    subnets: list[str] | None = None


class TrainingJobSpec(CRDModel):
    """The desired state of a TrainingJob; the CRD requires six of its fields."""

    algorithmSpecification: AlgorithmSpecification
    checkpointConfig: CheckpointConfig | None = None
    debugHookConfig: DebugHookConfig | None = None
    debugRuleConfigurations: list[RuleConfiguration] | None = None
    enableInterContainerTrafficEncryption: bool | None = None
    enableManagedSpotTraining: bool | None = None
    enableNetworkIsolation: bool | None = None
    environment: StringMap | None = None
    experimentConfig: ExperimentConfig | None = None
    hyperParameters: StringMap | None = None
    infraCheckConfig: InfraCheckConfig | None = None
    inputDataConfig: list[Channel] | None = None
    outputDataConfig: OutputDataConfig
    profilerConfig: ProfilerConfig | None = None
    profilerRuleConfigurations: list[RuleConfiguration] | None = None
    remoteDebugConfig: RemoteDebugConfig | None = None
    resourceConfig: ResourceConfig
    retryStrategy: RetryStrategy | None = None
    roleARN: str
    stoppingCondition: StoppingCondition
    tags: list[Tag] | None = None
    tensorBoardOutputConfig: TensorBoardOutputConfig | None = None
    trainingJobName: str
    vpcConfig: VpcConfig | None = None
