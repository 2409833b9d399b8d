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
    """Strict: an unknown or misspelt key in a policy file is an error, not ignored.

    The docstring under each field is its description: in the JSON Schema that
    ``trainingjob-guard policy schema`` prints (editors show it) and in the rule-kind
    reference (``docs/rule-kinds.md``, written by ``scripts/generate_docs.py``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


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
    """The rule's id within its policy (1-63 lower-case letters, digits and hyphens):
    findings are ``<policy id>/<rule id>``."""
    action: Action | None = None
    """deny, warn or audit; default: the policy's ``action``."""
    message: str | None = None
    """Replaces the built-in message; may use {namespace}, {name}, {path}, {detail}."""
    description: str = ""
    """What the rule is for; SARIF output shows it as the rule's description."""


class RequiredRule(RuleBase):
    """Fields and tags every job must have (paths relative to ``spec``).

    A field is missing when it is absent or null, and also when it is an empty (or
    blank) string, an empty list or an empty map.
    """

    kind: Literal["required"]
    fields: list[str] = []
    """Dotted paths under spec: ``vpcConfig``, ``outputDataConfig.kmsKeyID``; checked
    against the CRD's field names when the policy loads."""
    whenSpot: list[str] = []
    """Required only when ``enableManagedSpotTraining`` is true (``checkpointConfig``)."""
    tagKeys: list[str] = []
    """Tag keys that must be present in ``spec.tags``."""


class HyperParameterLimits(PolicyModel):
    """What one hyperparameter's value (always a string) must parse to."""

    type: Literal["string", "integer", "float", "boolean"] = "string"
    """What the value must parse to (a finite number for ``float``; ``true`` or
    ``false``, any case, for ``boolean``)."""
    min: float | None = None
    """The lowest value allowed (``integer`` and ``float`` only)."""
    max: float | None = None
    """The highest value allowed (``integer`` and ``float`` only)."""
    exclusiveMin: float | None = None
    """The value must be greater than this (``integer`` and ``float`` only)."""
    exclusiveMax: float | None = None
    """The value must be less than this (``integer`` and ``float`` only)."""
    enum: list[str] | None = None
    """The values allowed, compared as written."""
    pattern: str | None = None
    """A regex the whole value must match."""
    required: bool = False
    """The key must be present."""


class HyperparametersRule(RuleBase):
    """Limits on hyperparameter keys and values.

    Values arrive as strings and are parsed per their ``type``; messages show the
    limits, never a value.
    """

    kind: Literal["hyperparameters"]
    maxCount: int | None = Field(default=None, ge=0)
    """At most this many hyperparameters."""
    allowKeys: list[Glob] | None = None
    """Key globs allowed; left out, any key is allowed."""
    denyKeys: list[Glob] = []
    """Key globs denied (checked before ``allowKeys``)."""
    keys: dict[str, HyperParameterLimits] = {}
    """Limits per key name: what its value must be."""


class SecretsRule(RuleBase):
    """Credentials in any string of the job's spec: values at any depth, map keys, tags.

    Denies AWS keys, private keys, tokens and passwords in URLs anywhere in the spec,
    also base64-encoded or split by invisible characters, and password-like keys with
    a value (``DB_PASSWORD``, ``DB_PASS``, a ``*_PASSWORD_FILE`` that holds no path);
    never echoing the value.
    """

    kind: Literal["secrets"]
    maps: list[Literal["hyperParameters", "environment"]] | None = None
    """Ignored: every string of the spec is scanned, whatever this says. It once limited
    the scan to these maps; it is still accepted so that policy files that set it load
    (``policy lint`` says so)."""
    allowKeys: list[Glob] = []
    """Keys whose string values are never flagged (e.g. ``*_TOKEN_URL``): a map's or
    object's key, a tag's key, a list's key for its items."""


class ResourcesRule(RuleBase):
    """Instance types and counts, storage and time limits, spot use."""

    kind: Literal["resources"]
    instanceTypes: list[Glob] | None = None
    """Allowed instance type globs (``ml.m5.*``), for every instance type: the job's, its
    instance groups', its debugger and profiler rule evaluators'."""
    maxInstanceCount: int | None = Field(default=None, ge=1)
    """The job's instance count, or its instance groups' counts together."""
    maxVolumeSizeInGB: int | None = Field(default=None, ge=1)
    """Every volume size, the rule evaluators' too."""
    maxRuntimeInSeconds: int | None = Field(default=None, ge=1)
    """``stoppingCondition.maxRuntimeInSeconds``; a job without it runs up to SageMaker's
    default of one day, which counts."""
    maxWaitTimeInSeconds: int | None = Field(default=None, ge=1)
    """``stoppingCondition.maxWaitTimeInSeconds``, when given."""
    spot: Literal["allowed", "required", "forbidden"] = "allowed"
    """Managed spot training (``enableManagedSpotTraining``): allowed, required or
    forbidden."""


class NetworkRule(RuleBase):
    """VPC placement, network isolation and inter-container encryption."""

    kind: Literal["network"]
    requireVpc: bool = False
    """``spec.vpcConfig`` with at least one subnet and one security group."""
    subnets: list[Glob] | None = None
    """Globs every entry of ``vpcConfig.subnets`` must match."""
    securityGroups: list[Glob] | None = None
    """Globs every entry of ``vpcConfig.securityGroupIDs`` must match."""
    requireNetworkIsolation: bool = False
    """``enableNetworkIsolation: true``."""
    interContainerEncryption: Literal["optional", "distributed", "always"] = "optional"
    """When ``enableInterContainerTrafficEncryption: true`` is required: ``distributed``
    when more than one instance (count or groups), ``always``, or not (``optional``)."""


class EncryptionRule(RuleBase):
    """KMS keys for output and volumes."""

    kind: Literal["encryption"]
    requireOutputKey: bool = False
    """``outputDataConfig.kmsKeyID`` must be set."""
    requireVolumeKey: bool = False
    """``resourceConfig.volumeKMSKeyID`` must be set."""
    keys: list[Glob] | None = None
    """Allowed key ARNs, ids or aliases (globs), for every KMS key field."""
    sameAccountAsRole: bool = False
    """A key given as an ARN must be in the role's account."""
    region: str | None = None
    """A key given as an ARN must be in this region."""


class TenancyRule(RuleBase):
    """A namespace uses its own role, buckets and keys.

    Storage: a rule with any of ``s3``, ``fileSystems`` and ``hubContents`` denies every
    storage location its lists do not cover; a rule with none of them leaves storage
    alone.
    """

    kind: Literal["tenancy"]
    roles: list[Glob] | None = None
    """Globs ``roleARN`` must match (``arn:aws:iam::123456789012:role/{namespace}-*``)."""
    s3: list[Glob] | None = None
    """Globs every S3 URI of the spec must match; an entry ending in ``/`` also allows
    everything below it."""
    fileSystems: list[Glob] | None = None
    """EFS / FSx file system id globs (``fs-0abc*``)."""
    hubContents: list[Glob] | None = None
    """SageMaker hub content ARN globs."""
    kmsKeys: list[Glob] | None = None
    """Globs every KMS key field must match."""


class ImagesRule(RuleBase):
    """Where training and rule evaluator images come from, and how they are pinned."""

    kind: Literal["images"]
    registries: list[Glob] | None = None
    """Globs on the registry host (``*.dkr.ecr.*.amazonaws.com``)."""
    repositories: list[Glob] | None = None
    """Globs of ``registry/repository`` (without tag or digest)."""
    algorithms: list[Glob] | None = None
    """Algorithm resources (``algorithmName``: name or ARN, globs) the rule vouches for;
    any other algorithm is reported, since its image cannot be checked."""
    forbidLatest: bool = True
    """The tag ``latest`` (or no tag and no digest) is denied."""
    requireTag: bool = True
    """An image with neither tag nor digest is denied."""
    requireDigest: bool = False
    """An image must be pinned by digest (``@sha256:...``)."""


class TagsRule(RuleBase):
    """Required tags and SageMaker's 50-tag budget."""

    kind: Literal["tags"]
    required: dict[str, str | None] = {}
    """Tag key -> regex its value must match (null: any value)."""
    controllerTags: int = Field(default=4, ge=0, le=50)
    """Tags the ACK controller adds at creation (its ``resourceTags``; four by default),
    which count against SageMaker's 50."""
    budget: bool = True
    """Check SageMaker's 50-tag budget (one rule of a policy is enough)."""
    duplicates: bool = True
    """Report repeated tag keys (one rule of a policy is enough)."""


class NamingRule(RuleBase):
    """How ``trainingJobName`` is spelled."""

    kind: Literal["naming"]
    pattern: str | None = None
    """A regex the whole name must match; placeholders are substituted (escaped) first."""
    prefix: str | None = None
    """The name must start with it, placeholders filled (``{namespace}-``)."""


class CelRule(RuleBase):
    """A custom rule in CEL, as in ValidatingAdmissionPolicy.

    Variables: ``object``, ``oldObject``, ``request``, ``params``, ``namespaceObject``.
    """

    kind: Literal["cel"]
    expression: str = Field(min_length=1)
    """True means the object is fine."""
    messageExpression: str | None = None
    """A CEL expression that yields the finding's message."""
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
