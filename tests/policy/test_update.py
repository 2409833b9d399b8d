"""UPDATE semantics, on pairs built from the ACK controller's own unit-test manifests."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, AckData
from webhook.constraints.update import (
    IMMUTABLE,
    LATE_INITIALIZED,
    NOT_PROPAGATED,
    PROFILER_REMOVED,
    PROFILER_RULES,
    WARM_POOL,
    WARM_POOL_AND_PROFILER,
    UpdateReview,
    review_update,
)
from webhook.findings import Action, Decision, Finding
from webhook.paths import Path, format_path

TERMINAL = "the ACK controller would mark the job ACK.Terminal"


Load = Callable[[str], dict[str, Any]]


@pytest.fixture
def load(ack: AckData) -> Load:
    """Reads one manifest of the ACK controller's unit tests."""
    return ack.unit_test_manifest


def seen(review: UpdateReview) -> list[tuple[str, str, Action]]:
    return [(f.rule, f.where, f.action) for f in review.findings]


def allowed(review: UpdateReview) -> bool:
    return Decision(review.findings).allowed


def only(review: UpdateReview) -> Finding:
    assert len(review.findings) == 1, seen(review)
    return review.findings[0]


# A job created with a profiler (one rule) and a job created with a warm pool, as stored
# in the cluster after the controller's late initialization.
PROFILED = "readone/observed/created_debugger_variation.yaml"
PLAIN = "readone/observed/created.yaml"
WARM = "readone/observed/warmpool_available.yaml"

CPU_RULE = {
    "ruleConfigurationName": "CPUBottleneck",
    "ruleEvaluatorImage": "895741380848.dkr.ecr.us-west-2.amazonaws.com/sagemaker-debugger-rules:latest",
    "ruleParameters": {"rule_to_invoke": "CPUBottleneck"},
}


# --- no change at all ------------------------------------------------------------------


def test_controller_late_initialize_transition_is_no_change(load: Load) -> None:
    # The controller's ReadOne=LateInitialize scenario: created.yaml -> late_initialize.yaml.
    review = review_update(
        load(PLAIN), load("readone/observed/late_initialize.yaml"), by_controller=True
    )
    assert review == UpdateReview(spec_unchanged=True, findings=())


def test_late_initialized_fields_filled_in_are_no_change(load: Load) -> None:
    # The user's warm pool manifest, then the controller's patch adding the late-initialized
    # values it read back (readone/observed/warmpool_available.yaml).
    old = load("readone/desired/warmpool.yaml")
    observed = load(WARM)["spec"]
    new = copy.deepcopy(old)
    filled = []
    for path in LATE_INITIALIZED:
        source, target = observed, new["spec"]
        for step in path[1:-1]:
            source, target = source[step], target.setdefault(step, {})
        if path[-1] in source and path[-1] not in target:
            target[path[-1]] = source[path[-1]]
            filled.append(path[-1])
    assert len(filled) >= 4, filled  # the fixture really exercises late initialization
    assert new != old

    review = review_update(old, new, by_controller=True)

    assert review == UpdateReview(spec_unchanged=True, findings=())
    # The same patch from anyone else changes the spec, one denial per field.
    review = review_update(old, new)
    assert not review.spec_unchanged
    assert sorted((f.rule, f.where) for f in review.findings) == sorted(
        (IMMUTABLE, format_path(path)) for path in LATE_INITIALIZED if path[-1] in filled
    )


def test_metadata_only_change_of_non_compliant_object(load: Load) -> None:
    old = load("create/desired/invalid_before_create.yaml")  # trainingJobName is invalid
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"team": "a"}
    new["metadata"]["annotations"] = {"note": "x"}
    new["metadata"]["finalizers"] = []  # the controller letting go: deletion must pass
    new["status"] = {"trainingJobStatus": "Failed"}

    assert review_update(old, new) == UpdateReview(spec_unchanged=True, findings=())


def test_empty_and_absent_are_the_same(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["debugRuleConfigurations"] = []
    new["spec"]["environment"] = {}
    new["spec"]["checkpointConfig"] = None
    for channel in new["spec"]["inputDataConfig"]:
        del channel["recordWrapperType"]  # "None" is the controller's default

    assert review_update(old, new).spec_unchanged


# --- immutable fields ------------------------------------------------------------------


def test_instance_type_change_is_denied(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["resourceConfig"]["instanceType"] = "ml.m5.2xlarge"

    review = review_update(old, new)

    assert not review.spec_unchanged
    assert not allowed(review)
    finding = only(review)
    assert (finding.rule, finding.where) == (IMMUTABLE, "spec.resourceConfig.instanceType")
    assert finding.message == (
        'spec.resourceConfig.instanceType cannot change after creation ("ml.m4.xlarge" -> '
        f'"ml.m5.2xlarge"): {TERMINAL}; create a new TrainingJob instead'
    )


def test_every_changed_field_is_reported_at_its_leaf(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["stoppingCondition"]["maxRuntimeInSeconds"] = 3600
    new["spec"]["inputDataConfig"][1]["dataSource"]["s3DataSource"]["s3URI"] = "s3://b/v"
    new["spec"]["vpcConfig"] = {"subnets": ["subnet-1"], "securityGroupIDs": ["sg-1"]}
    new["spec"]["inputDataConfig"].append({"channelName": "extra"})
    new["spec"]["trainingJobName"] = "renamed"

    review = review_update(old, new)

    assert seen(review) == [
        (IMMUTABLE, "spec.inputDataConfig", Action.DENY),
        (IMMUTABLE, "spec.stoppingCondition.maxRuntimeInSeconds", Action.DENY),
        (IMMUTABLE, "spec.trainingJobName", Action.DENY),
        (IMMUTABLE, "spec.vpcConfig.securityGroupIDs", Action.DENY),
        (IMMUTABLE, "spec.vpcConfig.subnets", Action.DENY),
    ]
    messages = [f.message for f in review.findings]
    assert messages[0].startswith(
        "spec.inputDataConfig cannot change after creation (2 items -> 3 items)"
    )
    assert messages[1].startswith(
        "spec.stoppingCondition.maxRuntimeInSeconds cannot change after creation (86400 -> 3600)"
    )
    assert messages[2] == (
        'spec.trainingJobName cannot change after creation ("xgboost-training-jobsa" -> '
        '"renamed"): it names the SageMaker job the ACK controller manages; create a new '
        "TrainingJob instead"
    )
    assert "(unset -> 1 item)" in messages[3]


def test_same_length_list_reports_the_changed_item(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["inputDataConfig"][1]["dataSource"]["s3DataSource"]["s3URI"] = "s3://b/v"

    finding = only(review_update(old, new))

    assert finding.where == "spec.inputDataConfig[1].dataSource.s3DataSource.s3URI"
    assert '-> "s3://b/v")' in finding.message


@pytest.mark.parametrize("field", ["hyperParameters", "environment"])
def test_secret_maps_never_show_values(load: Load, field: str) -> None:
    old = load(PLAIN)
    old["spec"]["environment"] = {"TOKEN": "hunter2-old", "GONE": "bye-secret"}
    new = copy.deepcopy(old)
    new["spec"][field]["TOKEN" if field == "environment" else "eta"] = "hunter2-new"
    new["spec"][field]["ADDED"] = "fresh-secret"
    new["spec"][field].pop("GONE" if field == "environment" else "gamma")

    review = review_update(old, new)

    changed = "TOKEN" if field == "environment" else "eta"
    gone = "GONE" if field == "environment" else "gamma"
    assert sorted((f.where, f.message.split(":")[0]) for f in review.findings) == sorted(
        [
            (
                f"spec.{field}[ADDED]",
                f"spec.{field}[ADDED] cannot change after creation (key added)",
            ),
            (
                f"spec.{field}[{gone}]",
                f"spec.{field}[{gone}] cannot change after creation (key removed)",
            ),
            (
                f"spec.{field}[{changed}]",
                f"spec.{field}[{changed}] cannot change after creation (value changed)",
            ),
        ]
    )
    text = " ".join(f.message for f in review.findings)
    for secret in ("hunter2", "fresh-secret", "bye-secret", '"0.2"', '"4"'):
        assert secret not in text


def test_secret_map_of_wrong_type_shows_no_value(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["hyperParameters"] = "eta=0.9-secret"

    finding = only(review_update(old, new))

    assert finding.where == "spec.hyperParameters"
    assert "(value changed)" in finding.message
    assert "secret" not in finding.message


@pytest.mark.parametrize("by_controller", [False, True])
def test_late_initialized_value_change_is_a_change(load: Load, by_controller: bool) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["enableNetworkIsolation"] = True

    finding = only(review_update(old, new, by_controller=by_controller))

    assert finding.where == "spec.enableNetworkIsolation"
    assert finding.message.startswith(
        "spec.enableNetworkIsolation cannot change after creation (false -> true): " + TERMINAL
    )


@pytest.mark.parametrize("by_controller", [False, True])
def test_late_initialized_value_removed_is_a_change(load: Load, by_controller: bool) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    del new["spec"]["outputDataConfig"]["compressionType"]

    finding = only(review_update(old, new, by_controller=by_controller))

    assert (finding.rule, finding.where) == (IMMUTABLE, "spec.outputDataConfig.compressionType")
    assert finding.message == (
        'spec.outputDataConfig.compressionType cannot change after creation ("GZIP" -> unset): '
        "the ACK controller filled it in after creation (late initialization) and would mark "
        "the job ACK.Terminal without it; keep the value it set"
    )


# --- late initialization: the controller's own, nobody else's -------------------------

#: A value of each late-initialized field, as the controller fills it in, and as shown.
LATE_VALUES: dict[Path, tuple[object, str]] = {
    ("spec", "enableInterContainerTrafficEncryption"): (False, "false"),
    ("spec", "enableManagedSpotTraining"): (False, "false"),
    ("spec", "enableNetworkIsolation"): (True, "true"),
    ("spec", "algorithmSpecification", "enableSageMakerMetricsTimeSeries"): (False, "false"),
    ("spec", "outputDataConfig", "kmsKeyID"): (
        "arn:aws:kms:us-west-2:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        '"arn:aws:kms:us-west-2:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"',
    ),
    ("spec", "outputDataConfig", "compressionType"): ("GZIP", '"GZIP"'),
    ("spec", "resourceConfig", "instanceCount"): (1000000, "1000000"),
}
LATE_PATHS = sorted(LATE_INITIALIZED)


def test_late_values_cover_every_late_initialized_field() -> None:
    assert set(LATE_VALUES) == LATE_INITIALIZED


@pytest.fixture
def before_late_init(load: Load) -> dict[str, Any]:
    """A stored job the controller has not late-initialized yet."""
    job = load(PLAIN)
    for path in LATE_INITIALIZED:
        parent = job["spec"]
        for step in path[1:-1]:
            parent = parent[step]
        parent.pop(path[-1], None)
    return job


def with_value(job: dict[str, Any], path: Path, value: object) -> dict[str, Any]:
    changed = copy.deepcopy(job)
    parent = changed["spec"]
    for step in path[1:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return changed


@pytest.mark.parametrize("path", LATE_PATHS, ids=format_path)
def test_late_initialized_field_added_by_anyone_else_is_a_change(
    before_late_init: dict[str, Any], path: Path
) -> None:
    old = before_late_init
    value, shown = LATE_VALUES[path]
    new = with_value(old, path, value)

    review = review_update(old, new)

    assert not review.spec_unchanged
    finding = only(review)
    where = format_path(path)
    assert (finding.rule, finding.where, finding.action) == (IMMUTABLE, where, Action.DENY)
    assert finding.message == (
        f"{where} cannot change after creation (unset -> {shown}): only the ACK controller "
        "fills it in (late initialization, from what SageMaker reports); it cannot apply a "
        "value anyone else sets to the running job, and would mark the job ACK.Terminal if "
        "the value differs; create a new TrainingJob instead"
    )


@pytest.mark.parametrize("path", LATE_PATHS, ids=format_path)
def test_late_initialized_field_added_by_the_controller_is_no_change(
    before_late_init: dict[str, Any], path: Path
) -> None:
    old = before_late_init
    new = with_value(old, path, LATE_VALUES[path][0])

    assert review_update(old, new, by_controller=True) == UpdateReview(True, ())


def test_the_controller_filling_in_and_changing_more_is_denied_for_the_rest(
    before_late_init: dict[str, Any],
) -> None:
    old = before_late_init
    new = old
    for path, (value, _) in LATE_VALUES.items():
        new = with_value(new, path, value)
    new["spec"]["resourceConfig"]["instanceType"] = "ml.m5.2xlarge"

    by_controller = review_update(old, new, by_controller=True)
    by_user = review_update(old, new)

    assert [f.where for f in by_controller.findings] == ["spec.resourceConfig.instanceType"]
    assert sorted(f.where for f in by_user.findings) == sorted(
        [*map(format_path, LATE_INITIALIZED), "spec.resourceConfig.instanceType"]
    )
    assert not allowed(by_controller)
    assert not allowed(by_user)


def test_bool_is_not_a_number(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["enableNetworkIsolation"] = 0
    new["spec"]["resourceConfig"]["instanceCount"] = True

    assert [f.where for f in review_update(old, new).findings] == [
        "spec.enableNetworkIsolation",
        "spec.resourceConfig.instanceCount",
    ]


# --- changes the controller never sends ------------------------------------------------


def test_tags_change_only_warns(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["tags"].append({"key": "cost-center", "value": "42"})

    review = review_update(old, new)

    assert not review.spec_unchanged
    assert allowed(review)
    finding = only(review)
    assert (finding.rule, finding.where, finding.action) == (
        NOT_PROPAGATED,
        "spec.tags",
        Action.WARN,
    )
    assert finding.message == (
        "the ACK controller does not send changes of tags to SageMaker after creation; "
        "the job keeps the tags it was created with"
    )


def test_metric_definitions_change_only_warns(load: Load) -> None:
    old = load(PLAIN)
    new = copy.deepcopy(old)
    del new["spec"]["algorithmSpecification"]["metricDefinitions"][0]

    review = review_update(old, new)

    assert allowed(review)
    assert seen(review) == [
        (NOT_PROPAGATED, "spec.algorithmSpecification.metricDefinitions", Action.WARN)
    ]


# --- warm pool -------------------------------------------------------------------------


@pytest.mark.parametrize("seconds", [300, 0])
def test_warm_pool_keep_alive_change_is_allowed(load: Load, seconds: int) -> None:
    old = load(WARM)
    new = copy.deepcopy(old)
    new["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"] = seconds

    review = review_update(old, new)

    assert review == UpdateReview(spec_unchanged=False, findings=())


def test_adding_a_warm_pool_is_denied(load: Load) -> None:
    # The controller's Update=AddWarmPool scenario.
    old = load(PLAIN)
    new = copy.deepcopy(old)
    new["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"] = 70

    review = review_update(old, new)

    assert not allowed(review)
    finding = only(review)
    assert (finding.rule, finding.where) == (
        WARM_POOL,
        "spec.resourceConfig.keepAlivePeriodInSeconds",
    )
    assert finding.message == (
        "a warm pool can only be changed on a job created with one (unset -> 70): "
        f"{TERMINAL}; create a new TrainingJob instead, with a warm pool"
    )


def test_removing_the_warm_pool_is_denied(load: Load) -> None:
    old = load(WARM)
    new = copy.deepcopy(old)
    del new["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"]

    finding = only(review_update(old, new))

    assert finding.rule == WARM_POOL
    assert finding.message.startswith(
        "spec.resourceConfig.keepAlivePeriodInSeconds cannot be removed (70 -> unset)"
    )
    assert finding.message.endswith("change it to 0 to release the warm pool instead")


def test_warm_pool_with_other_change_denies_the_other_change(load: Load) -> None:
    # The controller's Update=Invalid update scenario: keepAlive and instanceCount.
    old = load(WARM)
    new = copy.deepcopy(old)
    new["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"] = 100
    new["spec"]["resourceConfig"]["instanceCount"] = 2

    assert seen(review_update(old, new)) == [
        (IMMUTABLE, "spec.resourceConfig.instanceCount", Action.DENY)
    ]


def test_warm_pool_and_profiler_together_are_denied(load: Load) -> None:
    # The controller's Update=WarmPoolAndProfiler scenario.
    old = load(WARM)
    new = copy.deepcopy(old)
    profiled = load(PROFILED)["spec"]
    new["spec"]["resourceConfig"]["keepAlivePeriodInSeconds"] = 69
    new["spec"]["profilerConfig"] = profiled["profilerConfig"]
    new["spec"]["profilerRuleConfigurations"] = profiled["profilerRuleConfigurations"]

    review = review_update(old, new)

    finding = only(review)
    assert (finding.rule, finding.where) == (
        WARM_POOL_AND_PROFILER,
        "spec.resourceConfig.keepAlivePeriodInSeconds",
    )
    assert finding.message.startswith(
        "the warm pool (spec.resourceConfig.keepAlivePeriodInSeconds) and the profiler cannot "
        f"change in the same update: {TERMINAL}"
    )


# --- profiler --------------------------------------------------------------------------


def test_adding_a_profiler_is_allowed(load: Load) -> None:
    # The controller's Update=AddProfiler scenario.
    old = load(PLAIN)
    new = copy.deepcopy(old)
    profiled = load(PROFILED)["spec"]
    new["spec"]["profilerConfig"] = profiled["profilerConfig"]
    new["spec"]["profilerRuleConfigurations"] = profiled["profilerRuleConfigurations"]

    assert review_update(old, new) == UpdateReview(spec_unchanged=False, findings=())


def test_changing_profiler_config_is_allowed(load: Load) -> None:
    # The controller's Update=ProfilerConfig scenario.
    old = load(PROFILED)
    new = copy.deepcopy(old)
    new["spec"]["profilerConfig"]["profilingIntervalInMilliseconds"] = 200

    assert review_update(old, new) == UpdateReview(spec_unchanged=False, findings=())


def test_appending_a_rule_is_allowed(load: Load) -> None:
    # The controller's Update=Update Profiler Rule and Update=BothProfiler scenarios.
    old = load(PROFILED)
    new = copy.deepcopy(old)
    new["spec"]["profilerRuleConfigurations"].append(CPU_RULE)
    new["spec"]["profilerConfig"]["profilingIntervalInMilliseconds"] = 200

    assert review_update(old, new) == UpdateReview(spec_unchanged=False, findings=())


def test_rule_volume_size_default_is_no_change(load: Load) -> None:
    old = load(PROFILED)  # its rule has volumeSizeInGB: 0, the controller's default
    new = copy.deepcopy(old)
    del new["spec"]["profilerRuleConfigurations"][0]["volumeSizeInGB"]

    assert review_update(old, new).spec_unchanged


def test_modifying_an_existing_rule_is_denied(load: Load) -> None:
    old = load(PROFILED)
    new = copy.deepcopy(old)
    rule = new["spec"]["profilerRuleConfigurations"][0]
    rule["ruleEvaluatorImage"] = "895741380848.dkr.ecr.us-west-2.amazonaws.com/other:1"
    rule["ruleParameters"]["rule_to_invoke"] = "Other"
    new["spec"]["profilerRuleConfigurations"].append(CPU_RULE)  # case 5 in the controller

    review = review_update(old, new)

    assert not allowed(review)
    finding = only(review)
    assert (finding.rule, finding.where) == (PROFILER_RULES, "spec.profilerRuleConfigurations[0]")
    assert finding.message.startswith(
        'profiler rule "ProfilerReport" cannot change (ruleEvaluatorImage, ruleParameters '
        f"changed): {TERMINAL}; existing rules must stay as they are, new rules"
    )


def test_removing_one_rule_is_denied(load: Load) -> None:
    # The controller's Update=RemoveOneProfilerRule scenario.
    old = load(PROFILED)
    old["spec"]["profilerRuleConfigurations"].append(CPU_RULE)
    new = copy.deepcopy(old)
    del new["spec"]["profilerRuleConfigurations"][0]

    review = review_update(old, new)

    assert seen(review) == [(PROFILER_RULES, "spec.profilerRuleConfigurations[0]", Action.DENY)]
    assert review.findings[0].message.startswith(
        'profiler rule "ProfilerReport" cannot be removed: ' + TERMINAL
    )


def test_removing_a_rule_and_adding_another_is_denied(load: Load) -> None:
    # The controller's Update=RemoveAddProfilerRule scenario.
    old = load(PROFILED)
    new = copy.deepcopy(old)
    new["spec"]["profilerRuleConfigurations"] = [
        {**CPU_RULE, "ruleConfigurationName": "SuperProfiler"},
        CPU_RULE,
    ]

    assert seen(review_update(old, new)) == [
        (PROFILER_RULES, "spec.profilerRuleConfigurations[0]", Action.DENY)
    ]


def test_inserting_a_rule_before_existing_ones_is_denied(load: Load) -> None:
    old = load(PROFILED)
    new = copy.deepcopy(old)
    new["spec"]["profilerRuleConfigurations"].insert(0, CPU_RULE)

    finding = only(review_update(old, new))

    assert finding.where == "spec.profilerRuleConfigurations[1]"
    assert finding.message.startswith(
        'profiler rule "ProfilerReport" cannot move (from position 0 to 1)'
    )


def test_new_rule_reusing_an_existing_name_is_denied(load: Load) -> None:
    old = load(PROFILED)
    new = copy.deepcopy(old)
    new["spec"]["profilerRuleConfigurations"].append(
        {**CPU_RULE, "ruleConfigurationName": "ProfilerReport"}
    )

    finding = only(review_update(old, new))

    assert (finding.rule, finding.where) == (PROFILER_RULES, "spec.profilerRuleConfigurations[1]")
    assert 'reuses the ruleConfigurationName "ProfilerReport"' in finding.message


def test_removing_the_whole_profiler_is_allowed(load: Load) -> None:
    # The controller's Update=RemoveProfilerBothParams scenario.
    old = load(PROFILED)
    new = copy.deepcopy(old)
    del new["spec"]["profilerConfig"]
    del new["spec"]["profilerRuleConfigurations"]

    assert review_update(old, new) == UpdateReview(spec_unchanged=False, findings=())


@pytest.mark.parametrize(
    ("removed", "kept"),
    [
        ("profilerRuleConfigurations", "profilerConfig"),  # Update=RemoveProfilerRule
        ("profilerConfig", "profilerRuleConfigurations"),  # Update=RemoveProfilerConfig
    ],
)
def test_removing_half_the_profiler_warns(load: Load, removed: str, kept: str) -> None:
    old = load(PROFILED)
    old["spec"]["profilerRuleConfigurations"].append(CPU_RULE)
    new = copy.deepcopy(old)
    del new["spec"][removed]

    review = review_update(old, new)

    assert allowed(review)
    finding = only(review)
    assert (finding.rule, finding.where, finding.action) == (
        PROFILER_REMOVED,
        f"spec.{removed}",
        Action.WARN,
    )
    assert finding.message == (
        f"removing spec.{removed} turns the whole profiler off: the ACK controller disables "
        f"profiling and ignores spec.{kept}, which stays in the spec without effect; remove "
        "it too"
    )


# --- odd input -------------------------------------------------------------------------


def _odd_specs() -> list[object]:
    # Built on the bundled example, so that these run without the ACK data too.
    example = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())["spec"]
    odd: list[object] = [None, [], "spec", 3, {}, {"resourceConfig": "big"}]
    for field, value in [
        ("resourceConfig", {"keepAlivePeriodInSeconds": "long"}),
        ("resourceConfig", ["x"]),
        ("profilerConfig", "on"),
        ("profilerRuleConfigurations", "all"),
        ("profilerRuleConfigurations", [1, None, "x", {"ruleConfigurationName": 5}]),
        (
            "profilerRuleConfigurations",
            [{"ruleConfigurationName": "A"}, {"ruleConfigurationName": "A"}],
        ),
        ("hyperParameters", ["eta"]),
        ("tags", {"a": "b"}),
        ("algorithmSpecification", "xgboost"),
        ("inputDataConfig", [None, 1, {"recordWrapperType": None}]),
        ("outputDataConfig", {"kmsKeyID": {"nested": [1, {"x": None}]}}),
        (7, "int key"),
    ]:
        spec = copy.deepcopy(example)
        spec[field] = value
        odd.append(spec)
    return odd


ODD = _odd_specs()


@pytest.mark.parametrize("old_spec", ODD)
@pytest.mark.parametrize("new_spec", ODD)
def test_odd_input_never_raises(old_spec: object, new_spec: object) -> None:
    review = review_update({"spec": old_spec}, {"spec": new_spec})
    assert isinstance(review, UpdateReview)
    if review.spec_unchanged:
        assert review.findings == ()
    for finding in review.findings:
        assert finding.where.startswith("spec")


@pytest.mark.parametrize("spec", ODD)
def test_odd_spec_against_itself_is_unchanged(spec: object) -> None:
    review = review_update({"spec": spec}, {"spec": copy.deepcopy(spec)})
    assert review == UpdateReview(spec_unchanged=True, findings=())


@pytest.mark.parametrize("obj", [{}, {"metadata": {}}, {"spec": None}, {"spec": {}}])
def test_missing_spec_is_empty(obj: dict[str, Any]) -> None:
    assert review_update(obj, {}) == UpdateReview(spec_unchanged=True, findings=())


def test_objects_that_are_not_mappings() -> None:
    review = review_update("old", None)  # type: ignore[arg-type]
    assert review == UpdateReview(spec_unchanged=True, findings=())


def test_spec_appearing_is_reported_per_field(load: Load) -> None:
    review = review_update({}, load(PLAIN))
    wheres = {f.where for f in review.findings}
    assert "spec.roleARN" in wheres
    assert "spec.resourceConfig.instanceCount" in wheres  # not from the controller: a change
    assert not allowed(review)
    by_controller = {f.where for f in review_update({}, load(PLAIN), by_controller=True).findings}
    assert by_controller == wheres - set(map(format_path, LATE_INITIALIZED))
