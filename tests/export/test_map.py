"""``trainingjob-guard export map``: a MutatingAdmissionPolicy (beta) valid against the
Kubernetes 1.34 schemas, marked beta, with the report, the cost and the exit codes a user
reads; and defaults beyond the shipped ones (placeholders, string maps, tags whose keys
may collide, what is left to the webhook) held to the webhook's ``/mutate``."""

from __future__ import annotations

import glob
import io
import itertools
from contextlib import redirect_stderr
from pathlib import Path

import kubernetes_validate
import pytest

from tests.conftest import EXAMPLES, PROJECT, write
from tests.export.harness import Request, export_cli, yaml_objects
from tests.export.mutating import check, defaults_mutants, run
from tests.native.corpus import jobs, mutants
from webhook.cli import main
from webhook.engine import Config
from webhook.export.cost import PER_CALL_LIMIT, RUNTIME_BUDGET
from webhook.export.mutating import NAME_OF_POLICY, export
from webhook.export.mutation import expression
from webhook.policy.load import load_policies
from webhook.testing import read_case_file

ALL = sorted(glob.glob(str(PROJECT / "policies" / "*" / "policy.yaml")))
HEAD = """apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {{name: {id}}}
id: {id}
version: "1.0.0"
severity: low
description: test
"""


def _policy(folder: Path, policy_id: str, body: str) -> Path:
    return write(folder, f"{policy_id}.yaml", HEAD.format(id=policy_id) + body)


@pytest.fixture(scope="module")
def everything() -> tuple[int, str, str]:
    return export_cli("map", *(arg for path in ALL for arg in ("--policy", path)))


# --- the objects and the command ----------------------------------------------------------------


def test_the_objects_are_valid_v1beta1_objects_of_kubernetes_1_34(
    everything: tuple[int, str, str],
) -> None:
    code, out, _ = everything
    assert code == 0
    objects = yaml_objects(out)
    assert [o["kind"] for o in objects] == [
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
    ]
    for item in objects:
        assert item["apiVersion"] == "admissionregistration.k8s.io/v1beta1"
        kubernetes_validate.validate(item, "1.34.0", strict=True)
    with pytest.raises(kubernetes_validate.SchemaNotFoundError):  # v1beta1 came with 1.34
        kubernetes_validate.validate(objects[0], "1.33.0", strict=True)


def test_every_object_and_the_output_say_beta(everything: tuple[int, str, str]) -> None:
    _, out, _ = everything
    header = out.split("\n---\n", 1)[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert "BETA: MutatingAdmissionPolicy (admissionregistration.k8s.io/v1beta1)" in header
    assert "--feature-gates=MutatingAdmissionPolicy=true" in header
    assert "--runtime-config=admissionregistration.k8s.io/v1beta1=true" in header
    for item in yaml_objects(out):
        assert item["metadata"]["annotations"]["trainingjob-guard.io/stability"] == "beta"


def test_one_policy_holds_every_policys_defaults_in_id_order_on_create_only(
    everything: tuple[int, str, str],
) -> None:
    policy, binding = yaml_objects(everything[1])
    assert policy["metadata"]["name"] == binding["spec"]["policyName"] == NAME_OF_POLICY
    annotations = policy["metadata"]["annotations"]
    assert annotations["trainingjob-guard.io/policies"] == (
        "baseline, encryption, org-defaults, required-tags"
    )
    spec = policy["spec"]
    assert spec["failurePolicy"] == "Fail"
    assert spec["reinvocationPolicy"] == "Never"
    (rule,) = spec["matchConstraints"]["resourceRules"]
    assert rule["operations"] == ["CREATE"]
    assert rule["resources"] == ["trainingjobs"]
    assert [m["patchType"] for m in spec["mutations"]] == ["JSONPatch"] * 4
    org = spec["mutations"][2]["jsonPatch"]["expression"]
    assert org.startswith('((request.namespace.matches("^(?:(?:team\\\\-')  # the policy's scope
    assert 'JSONPatch{op: "add", path: "/spec/tags/-"' in org
    assert '"value": request.namespace}' in org


def test_the_expressions_and_their_offline_form_come_from_the_same_nodes() -> None:
    exported = export(Config(policies=load_policies(ALL)))
    policy = exported.objects[0]
    for mutation, written in zip(exported.mutations, policy["spec"]["mutations"], strict=True):
        assert written["jsonPatch"]["expression"] == mutation.expression
        assert mutation.expression == expression(mutation.nodes, typed=True)
        assert mutation.offline == expression(mutation.nodes, typed=False)
        assert "JSONPatch{" not in mutation.offline
        assert mutation.offline.count('{"op": ') == mutation.expression.count("JSONPatch{op: ")


def test_the_report_names_what_is_left_to_the_webhook_and_the_cost(
    everything: tuple[int, str, str],
) -> None:
    _, out, err = everything
    for text in (out, err):
        assert "baseline/defaults: coerceStrings: CEL's string() writes numbers" in text
        assert "org-defaults/defaults: coerceStrings:" in text
        assert f"{NAME_OF_POLICY}: " in text
    assert "Estimated CEL cost" in err


def test_costs_are_within_the_api_servers_limits() -> None:
    exported = export(Config(policies=load_policies(ALL)))
    assert not exported.errors
    (cost,) = exported.costs
    assert 0 < cost.highest <= PER_CALL_LIMIT
    assert cost.total <= RUNTIME_BUDGET
    assert cost.costliest == "mutations[2] (org-defaults)"


def test_strict_fails_when_a_default_is_left_to_the_webhook() -> None:
    assert export_cli("map", "--strict")[0] == 1  # the baseline's coerceStrings
    encryption = str(PROJECT / "policies" / "encryption")
    code, out, err = export_cli("map", "--strict", "--no-baseline", "--policy", encryption)
    assert code == 0, err
    assert "Not exported: nothing" in out


def test_without_defaults_there_is_nothing_to_apply() -> None:
    code, out, err = export_cli("map", "--no-policy")
    assert code == 0
    assert yaml_objects(out) == []
    assert "No policy has defaults: nothing to export." in err


def test_a_policy_that_does_not_load_is_a_usage_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "p.yaml", "apiVersion: trainingjob-guard.io/v1alpha1\nkind: Nope\n")
    code, out, err = export_cli("map", "--policy", str(bad))
    assert code == 2
    assert out == ""
    assert "p.yaml" in err


def test_rule_actions_are_not_an_option_of_map() -> None:
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as exit_info:
        main(["export", "map", "--rule-action", "sagemaker.length=warn"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --rule-action" in err.getvalue()


def test_a_relaxed_size_rule_moves_the_bounds_a_mutation_keeps_to_the_fixed_ones(
    tmp_path: Path,
) -> None:
    body = 'defaults:\n  spec:\n    tags:\n      - key: job\n        value: "{trainingJobName}"\n'
    strict = export(Config(policies=load_policies([_policy(tmp_path, "tags", body)])))
    assert "size(object.spec.tags) <= 50" in strict.mutations[0].expression
    assert "size(object.spec.trainingJobName) <= 63" in strict.mutations[0].expression
    relaxed = _policy(
        tmp_path,
        "relaxed",
        "apiConstraints:\n  sagemaker.list-size: warn\n  sagemaker.length: audit\n" + body,
    )
    exported = export(Config(policies=load_policies([relaxed])))
    assert "size(object.spec.tags) <= 1000" in exported.mutations[0].expression
    assert "size(object.spec.trainingJobName) <= 262144" in exported.mutations[0].expression
    assert not exported.errors
    assert exported.costs[0].highest <= PER_CALL_LIMIT
    config = Config(policies=load_policies([relaxed]))
    assert _compare(config, _requests(tmp_path), exact=True) >= 100


# --- defaults beyond the shipped ones -------------------------------------------------------------

RICH = """match:
  namespaces: ["team-*", "managed-by"]
exemptions:
  users: [ci-bot]
defaults:
  spec:
    hyperParameters:
      "a/b~c": "1"
      epochs: "{namespace}"
    environment:
      OWNER: "{name}"
    checkpointConfig:
      s3URI: "s3://checkpoints/{namespace}/{name}"
    enableNetworkIsolation: true
    stoppingCondition:
      maxRuntimeInSeconds: 3600
      maxWaitTimeInSeconds: 7200
    vpcConfig:
      subnets: [subnet-0123456789abcdef0]
    tags:
      - key: "{namespace}"
        value: from-namespace
      - key: team-a
        value: static
      - key: managed-by
      - key: "owner-{name}"
      - key: job
        value: "{trainingJobName}"
"""


def _requests(tmp_path: Path) -> list[Request]:
    base = [job for _, job in jobs()][:24]
    base.append(read_case_file(EXAMPLES / "training-job.yaml"))
    out: list[Request] = []
    for index, job in enumerate(base):
        for number, variant in enumerate(itertools.chain([job], mutants(job, 1, seed=index))):
            namespace = ("team-a", "managed-by", "sandbox")[(index + number) % 3]
            user = "ci-bot" if (index + number) % 5 == 4 else "alice"
            out.append(Request(variant, namespace, {}, username=user))
    return out


def _compare(config: Config, requests: list[Request], *, exact: bool) -> int:
    exported = export(config)
    assert not exported.errors
    plans = [p.defaults for p in config.policies.policies if p.defaults is not None]
    compared = 0
    for index, request in enumerate(requests):
        for job in itertools.chain([request.job], defaults_mutants(request.job, plans, 3, index)):
            results = run(Request(**{**request.__dict__, "job": job}), config, exported)
            if results is None:
                continue
            check(results, f"#{index}", exact=exact)
            compared += 1
    return compared


def test_placeholders_string_maps_and_colliding_tag_keys_fill_in_as_the_webhook(
    tmp_path: Path,
) -> None:
    config = Config(policies=load_policies([_policy(tmp_path, "rich", RICH)]))
    exported = export(config)
    assert exported.skipped == []
    (mutation,) = exported.mutations
    assert '("a/b~c" in object.spec.hyperParameters)' in mutation.expression
    assert '"/spec/hyperParameters/a~1b~0c"' in mutation.expression
    assert "size(object.metadata.name) <= 253" in mutation.expression
    assert "size(object.spec.tags) <= 50" in mutation.expression
    assert _compare(config, _requests(tmp_path), exact=True) >= 150


def test_a_new_key_collision_keeps_the_first_tag_as_the_webhook_does(tmp_path: Path) -> None:
    config = Config(policies=load_policies([_policy(tmp_path, "rich", RICH)]))
    job = read_case_file(EXAMPLES / "training-job.yaml")
    job["spec"].pop("tags", None)
    for namespace in ("team-a", "managed-by"):
        results = run(Request(job, namespace, {}), config, export(config))
        assert results is not None
        check(results, namespace)
        assert results.policy.object is not None
        tags = results.policy.object["spec"]["tags"]
        keys = [tag["key"] for tag in tags]
        assert len(keys) == len(set(keys)) == 4, tags  # "{namespace}" renders as a static key
        assert tags[0] == {"key": namespace, "value": "from-namespace"}


def test_what_cel_cannot_state_is_reported_and_the_webhook_fills_it_in_after(
    tmp_path: Path,
) -> None:
    first = _policy(
        tmp_path,
        "a-first",
        'defaults:\n  spec:\n    trainingJobName: "{name}-job"\n'
        "    stoppingCondition:\n      maxWaitTimeInSeconds: 600\n"
        '    tags:\n      - key: braces\n        value: "{{{namespace}}}"\n',
    )
    scoped = _policy(
        tmp_path,
        "b-scoped",
        'match:\n  namespaces: ["{name}-*", "team-*"]\n'
        "defaults:\n  spec:\n    enableNetworkIsolation: false\n",
    )
    rich = _policy(tmp_path, "c-rich", RICH)
    later = _policy(tmp_path, "d-later", "defaults:\n  spec:\n    enableNetworkIsolation: true\n")
    config = Config(policies=load_policies([first, scoped, rich, later]))
    exported = export(config)
    reasons = [f"{item.rule}: {item.why}" for _, item in exported.skipped]
    earlier = "an earlier policy (by id) sets it too and is left to the webhook"
    expected = [
        "a-first/defaults: spec.trainingJobName: policy c-rich (later by id) fills "
        "{trainingJobName} in with the job's own",
        'a-first/defaults: spec.tags[braces]: "{{{namespace}}}": a brace next to a placeholder',
        "b-scoped/defaults: its scope: {name} may hold characters a regex reads as syntax",
        f"c-rich/defaults: spec.enableNetworkIsolation: {earlier}",
        "c-rich/defaults: spec.tags: an earlier policy (by id) sets tags and is left to the "
        "webhook, which appends its tags first",
        f"d-later/defaults: spec.enableNetworkIsolation: {earlier}",
    ]
    assert len(reasons) == len(expected), reasons
    for reason, start in zip(reasons, expected, strict=True):
        assert reason.startswith(start), reason
    assert [m.policy for m in exported.mutations] == ["a-first", "c-rich"]
    assert _compare(config, _requests(tmp_path), exact=False) >= 150


def test_a_placeholder_reading_an_earlier_default_is_left_to_the_webhook(tmp_path: Path) -> None:
    first = _policy(tmp_path, "a-name", 'defaults:\n  spec:\n    trainingJobName: "{name}-x"\n')
    later = _policy(
        tmp_path,
        "b-tags",
        'defaults:\n  spec:\n    tags:\n      - key: job\n        value: "{trainingJobName}"\n',
    )
    config = Config(policies=load_policies([first, later]))
    exported = export(config)
    ((_, item),) = exported.skipped
    assert item.rule == "a-name/defaults"
    assert item.why.startswith(
        "spec.trainingJobName: policy b-tags (later by id) fills {trainingJobName} in with the "
        "job's own"
    )
    code, _, err = export_cli(
        "map", "--strict", "--no-baseline", "--policy", str(first), "--policy", str(later)
    )
    assert code == 1
    assert "--strict: 1 default(s) cannot be exported" in err
    assert _compare(config, _requests(tmp_path), exact=False) >= 150


def test_a_field_of_the_wrong_type_under_a_default_fails_closed(tmp_path: Path) -> None:
    config = Config(policies=load_policies([_policy(tmp_path, "rich", RICH)]))
    job = read_case_file(EXAMPLES / "training-job.yaml")
    job["spec"]["stoppingCondition"] = "one day"
    results = run(Request(job, "team-a", {}), config, export(config))
    assert results is not None
    assert "mutations[0]" in results.policy.error
    assert not results.stored  # the API server refuses the webhook's result too
