"""The policy file format: what a platform team writes, as pydantic models.

A policy file is a YAML document (several per file are fine)::

    apiVersion: trainingjob-guard.io/v1alpha1
    kind: TrainingJobPolicy
    metadata: {name: team-network}   # optional; when given, the same as id
    id: team-network            # stable; findings are "<policy id>/<rule id>"
    version: "1.2.0"
    severity: high
    description: Jobs run in the team's VPC.
    action: deny                # default action of the rules below
    match: {namespaces: ["team-*"]}
    rules:
      - {id: vpc, kind: network, requireVpc: true, subnets: ["subnet-0abc*"]}
    defaults:
      spec: {enableNetworkIsolation: true}

``id`` is the policy's one name: findings, ``--rule-action``, metrics and
duplicate checks use it. A policy is also a Kubernetes object of the
``TrainingJobPolicy`` CRD (:mod:`webhook.policy.crd`), whose ``metadata.name``
names it too; so that a policy never has two names, ``metadata.name`` may be left
out of a file and, when given, must equal ``id`` (loading reports it at the
name's line otherwise; the CRD refuses such an object).

``trainingjob-guard policy schema`` prints the JSON Schema of this format for
editors. Strings in allow-lists, messages and defaults may use the
placeholders ``{namespace}``, ``{name}`` (metadata.name) and
``{trainingJobName}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from webhook.findings import Action

API_VERSION: Final = "trainingjob-guard.io/v1alpha1"
KIND: Final = "TrainingJobPolicy"

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length=63)]
Glob = Annotated[str, Field(min_length=1)]


class PolicyModel(BaseModel):
    """Strict: an unknown or misspelt key in a policy file is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectorRequirement(PolicyModel):
    """One ``matchExpressions`` entry of a Kubernetes label selector."""

    key: str
    operator: Literal["In", "NotIn", "Exists", "DoesNotExist"]
    values: list[str] = []


class LabelSelector(PolicyModel):
    """A Kubernetes label selector; all its terms must hold."""

    matchLabels: dict[str, str] = {}
    matchExpressions: list[SelectorRequirement] = []


class Scope(PolicyModel):
    """Which TrainingJobs a policy applies to; every given term must hold."""

    namespaces: list[Glob] = []
    """Namespace name globs (``team-*``); empty means any namespace."""
    namespaceSelector: LabelSelector | None = None
    """Labels of the namespace (the webhook looks them up; the CLI takes flags)."""
    objectSelector: LabelSelector | None = None
    """Labels of the TrainingJob itself."""


class AnnotationExemption(PolicyModel):
    """An annotation that exempts a job, honoured only when set by these groups."""

    annotation: str = Field(min_length=1)
    groups: list[str] = Field(min_length=1)


class Exemptions(PolicyModel):
    """Who and where the policy does not apply: platform-controlled, never the object's author."""

    users: list[str] = []
    groups: list[str] = []
    namespaces: list[Glob] = []
    annotation: AnnotationExemption | None = None


class RuleBase(PolicyModel):
    """What every rule has: an id, an action and an optional message override."""

    id: Identifier
    action: Action | None = None
    """deny, warn or audit; default: the policy's ``action``."""
    message: str | None = None
    """Replaces the built-in message; may use {namespace}, {name}, {path}, {detail}."""
    description: str = ""


class RequiredRule(RuleBase):
    """Fields that must be present (paths relative to ``spec``)."""

    kind: Literal["required"]
    fields: list[str] = []
    """Dotted paths under spec: ``vpcConfig``, ``outputDataConfig.kmsKeyID``."""
    whenSpot: list[str] = []
    """Required only when ``enableManagedSpotTraining`` is true (``checkpointConfig``)."""
    tagKeys: list[str] = []
    """Tag keys that must be present in ``spec.tags``."""


class HyperParameterLimits(PolicyModel):
    """What one hyperparameter's value (always a string) must parse to."""

    type: Literal["string", "integer", "float", "boolean"] = "string"
    min: float | None = None
    max: float | None = None
    exclusiveMin: float | None = None
    exclusiveMax: float | None = None
    enum: list[str] | None = None
    pattern: str | None = None
    required: bool = False


class HyperparametersRule(RuleBase):
    """Limits on hyperparameter keys and values."""

    kind: Literal["hyperparameters"]
    maxCount: int | None = Field(default=None, ge=0)
    allowKeys: list[Glob] | None = None
    """Key globs allowed; None allows any key."""
    denyKeys: list[Glob] = []
    keys: dict[str, HyperParameterLimits] = {}


class SecretsRule(RuleBase):
    """Credentials in any string of the job's spec: values at any depth, map keys, tags."""

    kind: Literal["secrets"]
    maps: list[Literal["hyperParameters", "environment"]] | None = None
    """Ignored: every string of the spec is scanned, whatever this says. It once limited
    the scan to these maps; it is still accepted so that policy files that set it load."""
    allowKeys: list[Glob] = []
    """Keys whose string values are never flagged (e.g. ``*_TOKEN_URL``): a map's or
    object's key, a tag's key, a list's key for its items."""


class ResourcesRule(RuleBase):
    """Instance types and counts, storage and time limits, spot use."""

    kind: Literal["resources"]
    instanceTypes: list[Glob] | None = None
    """Allowed instance type globs (``ml.m5.*``), for the job and its instance groups."""
    maxInstanceCount: int | None = Field(default=None, ge=1)
    """Across all instance groups."""
    maxVolumeSizeInGB: int | None = Field(default=None, ge=1)
    maxRuntimeInSeconds: int | None = Field(default=None, ge=1)
    maxWaitTimeInSeconds: int | None = Field(default=None, ge=1)
    spot: Literal["allowed", "required", "forbidden"] = "allowed"


class NetworkRule(RuleBase):
    """VPC placement, network isolation and inter-container encryption."""

    kind: Literal["network"]
    requireVpc: bool = False
    subnets: list[Glob] | None = None
    securityGroups: list[Glob] | None = None
    requireNetworkIsolation: bool = False
    interContainerEncryption: Literal["optional", "distributed", "always"] = "optional"
    """``distributed``: required when more than one instance (count or groups)."""


class EncryptionRule(RuleBase):
    """KMS keys for output and volumes."""

    kind: Literal["encryption"]
    requireOutputKey: bool = False
    requireVolumeKey: bool = False
    keys: list[Glob] | None = None
    """Allowed key ARNs, ids or aliases (globs)."""
    sameAccountAsRole: bool = False
    """A key given as an ARN must be in the role's account."""
    region: str | None = None
    """A key given as an ARN must be in this region."""


class TenancyRule(RuleBase):
    """A namespace uses its own role, buckets and keys."""

    kind: Literal["tenancy"]
    roles: list[Glob] | None = None
    s3: list[Glob] | None = None
    """S3 URI globs; an entry ending in ``/`` also allows everything below it."""
    fileSystems: list[Glob] | None = None
    """EFS / FSx file system id globs (``fs-0abc*``)."""
    hubContents: list[Glob] | None = None
    """SageMaker hub content ARN globs."""
    kmsKeys: list[Glob] | None = None


class ImagesRule(RuleBase):
    """Where training and rule images come from, and how they are pinned."""

    kind: Literal["images"]
    registries: list[Glob] | None = None
    repositories: list[Glob] | None = None
    """Globs of ``registry/repository`` (without tag or digest)."""
    algorithms: list[Glob] | None = None
    """Algorithm resources (``algorithmName``: name or ARN, globs) the rule vouches for;
    any other algorithm is reported, since its image cannot be checked."""
    forbidLatest: bool = True
    requireTag: bool = True
    """An image with neither tag nor digest is denied."""
    requireDigest: bool = False


class TagsRule(RuleBase):
    """Required tags and SageMaker's 50-tag budget."""

    kind: Literal["tags"]
    required: dict[str, str | None] = {}
    """Tag key -> regex its value must match (None: any value)."""
    controllerTags: int = Field(default=4, ge=0, le=50)
    """Tags the ACK controller adds at creation (its ``resourceTags``; four by default)."""
    budget: bool = True
    """Check SageMaker's 50-tag budget (one rule of a policy is enough)."""
    duplicates: bool = True
    """Report repeated tag keys (one rule of a policy is enough)."""


class NamingRule(RuleBase):
    """How ``trainingJobName`` is spelled."""

    kind: Literal["naming"]
    pattern: str | None = None
    """A regex; placeholders are substituted (escaped) first."""
    prefix: str | None = None
    """E.g. ``{namespace}-``."""


class CelRule(RuleBase):
    """A custom rule in CEL, as in ValidatingAdmissionPolicy."""

    kind: Literal["cel"]
    expression: str = Field(min_length=1)
    """True means the object is fine."""
    messageExpression: str | None = None
    fieldPath: str | None = None
    """The field a finding points at, dotted from the object (``spec.resourceConfig``)."""


Rule = Annotated[
    RequiredRule
    | HyperparametersRule
    | SecretsRule
    | ResourcesRule
    | NetworkRule
    | EncryptionRule
    | TenancyRule
    | ImagesRule
    | TagsRule
    | NamingRule
    | CelRule,
    Field(discriminator="kind"),
]


class Defaults(PolicyModel):
    """Org defaults applied on CREATE, only where the object leaves a field out."""

    spec: dict[str, Any] = {}
    """A partial spec; merged deep, fill-absent only; ``tags`` merged by key."""
    coerceStrings: bool = False
    """Turn number and boolean values in hyperParameters and environment into strings."""


class PolicyMetadata(PolicyModel):
    """The policy document's own metadata, as a Kubernetes object would carry it."""

    name: str | None = Field(default=None, min_length=1)
    """Optional; when given, the policy's ``id`` (the loader refuses any other name)."""
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}


class PolicyDocument(PolicyModel):
    """One policy: scope, exemptions, rules and defaults.

    ``id`` is the source of truth for the policy's name; ``metadata.name``, when
    given, must be the same (see the module's docstring).
    """

    apiVersion: Literal["trainingjob-guard.io/v1alpha1"]
    kind: Literal["TrainingJobPolicy"]
    metadata: PolicyMetadata = PolicyMetadata()
    id: Identifier
    """The policy's name: findings are ``<id>/<rule id>``."""
    version: str = "1"
    severity: Literal["low", "medium", "high", "critical"] = "medium"
    description: str = ""
    action: Action = Action.DENY
    match: Scope = Scope()
    exclude: Scope | None = None
    exemptions: Exemptions = Exemptions()
    params: dict[str, Any] = {}
    """Available to CEL rules as ``params``."""
    apiConstraints: dict[str, Action] = {}
    """Actions for built-in rule ids (``sagemaker.instance-type: warn``) on matched jobs."""
    rules: list[Rule] = []
    defaults: Defaults | None = None
