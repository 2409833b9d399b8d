"""The decision function with policies: defaults, rules, UPDATE and DELETE, precedence."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonpatch
import jsonschema
import pytest

from tests.conftest import AckData, write
from webhook.constraints.update import ACK_CONTROLLER_USER
from webhook.engine import Config, Context, review
from webhook.findings import Action
from webhook.policy.compiled import PolicySet
from webhook.policy.load import baseline_policy, load_policies

LATE_INITIALIZED = [
    ("enableInterContainerTrafficEncryption",),
    ("enableManagedSpotTraining",),
    ("enableNetworkIsolation",),
    ("algorithmSpecification", "enableSageMakerMetricsTimeSeries"),
    ("outputDataConfig", "kmsKeyID"),
    ("outputDataConfig", "compressionType"),
]


def _policies(tmp_path: Path, *texts: str) -> PolicySet:
    return load_policies(
        [write(tmp_path, f"policy-{i}.yaml", text) for i, text in enumerate(texts)]
    )


REQUIRE_VPC = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: network}
id: network
rules:
  - {id: vpc, kind: network, requireVpc: true}
"""

ORG_DEFAULTS = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: defaults}
id: defaults
defaults:
  coerceStrings: true
  spec:
    outputDataConfig: {kmsKeyID: "arn:aws:kms:us-east-1:123456789012:alias/{namespace}-ml"}
    resourceConfig: {volumeKMSKeyID: "arn:aws:kms:us-east-1:123456789012:alias/{namespace}-ml"}
    vpcConfig: {subnets: [subnet-0a1b2c3d4e5f60718], securityGroupIDs: [sg-0a1b2c3d4e5f60718]}
    stoppingCondition: {maxRuntimeInSeconds: 86400}
    tags: [{key: cost-center, value: "4711"}, {key: team, value: "{namespace}"}]
"""


def test_defaults_fill_what_is_missing_and_the_result_validates(
    ack: AckData, tmp_path: Path, crd_schema: dict[str, Any]
) -> None:
    """Missing KMS keys, VPC, max runtime and tags are filled; numbers are quoted;
    the patched object passes the CRD schema the API server checks next."""
    config = Config(policies=_policies(tmp_path, ORG_DEFAULTS))
    job = ack.unit_test_manifest("create/desired/success_before_create.yaml")
    job["metadata"]["namespace"] = "team-a"
    job["spec"]["hyperParameters"]["max_depth"] = 5
    del job["spec"]["stoppingCondition"]["maxRuntimeInSeconds"]
    validator = jsonschema.Draft7Validator(crd_schema)
    assert list(validator.iter_errors(job)), "a numeric hyperparameter breaks the CRD schema"
    decision = review(job, context=Context(namespace="team-a"), config=config)
    assert decision.allowed, decision.findings
    patched = jsonpatch.apply_patch(job, list(decision.patch))
    spec = patched["spec"]
    assert (
        spec["outputDataConfig"]["kmsKeyID"] == "arn:aws:kms:us-east-1:123456789012:alias/team-a-ml"
    )
    assert spec["resourceConfig"]["volumeKMSKeyID"].endswith("alias/team-a-ml")
    assert spec["vpcConfig"] == {
        "subnets": ["subnet-0a1b2c3d4e5f60718"],
        "securityGroupIDs": ["sg-0a1b2c3d4e5f60718"],
    }
    assert spec["stoppingCondition"]["maxRuntimeInSeconds"] == 86400
    assert spec["hyperParameters"]["max_depth"] == "5"
    # Tags merge by key: the job's own three stay, two are added.
    assert [t["key"] for t in spec["tags"]] == [
        "algorithm",
        "environment",
        "customer",
        "cost-center",
        "team",
    ]
    assert list(validator.iter_errors(patched)) == []
    # Idempotent: the defaults applied to their own output give an empty patch.
    again = review(patched, context=Context(namespace="team-a"), config=config)
    assert again.patch == ()


def test_present_values_are_never_touched(tmp_path: Path, job: dict[str, Any]) -> None:
    config = Config(policies=_policies(tmp_path, ORG_DEFAULTS))
    job["spec"]["tags"] = [{"key": "team", "value": "mine"}, {"key": "cost-center", "value": "1"}]
    before = copy.deepcopy(job)
    decision = review(job, context=Context(namespace="team-a"), config=config)
    assert decision.patch == ()
    assert job == before


def test_no_defaults_on_update_and_no_mutation_when_asked(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    policies = _policies(tmp_path, ORG_DEFAULTS)
    del job["spec"]["outputDataConfig"]["kmsKeyID"]
    old = copy.deepcopy(job)
    job["spec"]["profilerConfig"] = {"s3OutputPath": "s3://ml-team-a/profiler/"}
    update = review(
        job,
        old=old,
        context=Context("UPDATE", namespace="team-a"),
        config=Config(policies=policies),
    )
    assert update.patch == ()
    create = review(
        job, context=Context(namespace="team-a"), config=Config(policies=policies, mutate=False)
    )
    assert create.patch == ()


def test_a_spec_change_is_denied_and_a_warm_pool_change_allowed(ack: AckData) -> None:
    config = Config()
    old = ack.unit_test_manifest("readone/desired/warmpool.yaml")
    warm = copy.deepcopy(old)
    warm["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"] = 1800
    decision = review(warm, old=old, context=Context("UPDATE"), config=config)
    assert decision.allowed
    assert decision.findings == ()
    changed = copy.deepcopy(old)
    changed["spec"]["resourceConfig"]["instanceType"] = "ml.m5.2xlarge"
    decision = review(changed, old=old, context=Context("UPDATE"), config=config)
    assert not decision.allowed
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("update.immutable", "spec.resourceConfig.instanceType")
    ]
    assert "create a new TrainingJob" in decision.findings[0].message


def test_late_initialized_fields_may_appear_from_the_controller(ack: AckData) -> None:
    """The controller fills these after creation (values from its own late_initialize fixture);
    the same additions from anyone else are spec changes."""
    old = ack.unit_test_manifest("readone/desired/after_create_inprogress.yaml")
    filled = ack.unit_test_manifest("readone/observed/late_initialize.yaml")["spec"]
    new = copy.deepcopy(old)
    for path in LATE_INITIALIZED:
        source, target = filled, new["spec"]
        for step in path[:-1]:
            source, target = source[step], target.setdefault(step, {})
        target[path[-1]] = source[path[-1]]
    assert new["spec"] != old["spec"]
    controller = Context("UPDATE", user=ACK_CONTROLLER_USER)
    decision = review(new, old=old, context=controller, config=Config())
    assert decision.allowed
    assert decision.findings == ()
    by_user = review(new, old=old, context=Context("UPDATE", user="alice"), config=Config())
    assert {f.rule for f in by_user.denials} == {"update.immutable"}
    assert {f.path for f in by_user.denials} == {("spec", *path) for path in LATE_INITIALIZED}


def test_metadata_only_update_of_a_non_compliant_object_is_allowed(
    ack: AckData, tmp_path: Path
) -> None:
    config = Config(policies=_policies(tmp_path, REQUIRE_VPC))
    old = ack.unit_test_manifest("readone/observed/created.yaml")
    assert not review(old, config=config).allowed  # it breaks the policy added since
    new = copy.deepcopy(old)
    new["metadata"]["finalizers"] = []
    new["metadata"].setdefault("labels", {})["touched"] = "yes"
    decision = review(new, old=old, context=Context("UPDATE"), config=config)
    assert decision.allowed
    assert decision.findings == ()


def test_delete_is_allowed_whatever_the_policies_say(ack: AckData, tmp_path: Path) -> None:
    config = Config(policies=_policies(tmp_path, REQUIRE_VPC))
    obj = ack.unit_test_manifest("readone/observed/created.yaml")
    assert review(obj, old=obj, context=Context("DELETE"), config=config).allowed


API_WARN = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: new-instances}
id: new-instances
match: {namespaces: [research]}
apiConstraints: {sagemaker.instance-type: warn}
"""

API_DENY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: strict}
id: strict
match: {namespaces: [research]}
apiConstraints: {sagemaker.instance-type: deny}
"""


@pytest.mark.parametrize(
    ("texts", "namespace", "action"),
    [
        ((API_WARN,), "research", Action.WARN),
        ((API_WARN,), "team-a", Action.DENY),  # the policy does not apply there
        ((API_WARN, API_DENY), "research", Action.DENY),  # the strictest wins
    ],
)
def test_api_constraint_actions_from_policies(
    tmp_path: Path, job: dict[str, Any], texts: tuple[str, ...], namespace: str, action: Action
) -> None:
    config = Config(policies=_policies(tmp_path, *texts))
    job["spec"]["resourceConfig"]["instanceType"] = "ml.p9.48xlarge"
    decision = review(job, context=Context(namespace=namespace), config=config)
    assert [(f.rule, f.action) for f in decision.findings] == [("sagemaker.instance-type", action)]


def test_operator_actions_override_policies(tmp_path: Path, job: dict[str, Any]) -> None:
    config = Config(
        policies=_policies(tmp_path, API_WARN, REQUIRE_VPC),
        actions={"sagemaker.instance-type": Action.AUDIT, "network/vpc": Action.WARN},
    )
    job["spec"]["resourceConfig"]["instanceType"] = "ml.p9.48xlarge"
    del job["spec"]["vpcConfig"]
    decision = review(job, context=Context(namespace="research"), config=config)
    assert decision.allowed
    assert sorted((f.rule, f.action) for f in decision.findings) == [
        ("network/vpc", Action.WARN),
        ("sagemaker.instance-type", Action.AUDIT),
    ]


def test_a_placeholder_hides_policy_findings_on_the_same_field(
    tmp_path: Path, job: dict[str, Any]
) -> None:
    tenancy = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: tenancy}
id: tenancy
rules:
  - {id: buckets, kind: tenancy, s3: ["s3://ml-{namespace}/"]}
"""
    config = Config(policies=_policies(tmp_path, tenancy))
    job["spec"]["outputDataConfig"]["s3OutputPath"] = "s3://$BUCKET/output/"
    job["spec"]["inputDataConfig"][0]["dataSource"]["s3DataSource"]["s3URI"] = "s3://ml-team-b/x/"
    decision = review(job, context=Context(namespace="team-a"), config=config)
    assert [(f.rule, f.where) for f in decision.findings] == [
        ("placeholder", "spec.outputDataConfig.s3OutputPath"),
        ("tenancy/buckets", "spec.inputDataConfig[0].dataSource.s3DataSource.s3URI"),
    ]


def test_the_bundled_baseline_passes_the_valid_example(job: dict[str, Any]) -> None:
    config = Config(policies=load_policies([baseline_policy()]))
    decision = review(job, context=Context(namespace="team-a"), config=config)
    assert decision.findings == ()
    assert decision.patch == ()
