"""CI decides with the cluster's policies: the baseline, the namespace, the rule actions.

The chart's webhook loads the bundled baseline next to the team's policies
unless ``policies.includeBaseline: false``; ``validate`` follows the same rule,
says when a manifest without a namespace kept policies from applying, and
refuses a ``--rule-action`` that names no rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import EXAMPLES, write
from webhook.cli import main
from webhook.findings import Action
from webhook.policy.load import PolicyLoadError, baseline_policy, load_policies
from webhook.server.state import JsonLog, ServerState

VALID: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
TWO_INSTANCES = {**VALID["spec"]["resourceConfig"], "instanceCount": 2}

TEAM_POLICY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: team}
id: team
rules:
  - id: small
    kind: resources
    maxInstanceCount: 8
"""

TEAM_A_ONLY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: team-a-small}
id: team-a-small
match:
  namespaces: [team-a]
rules:
  - id: one-instance
    kind: resources
    maxInstanceCount: 1
"""


def _job(tmp_path: Path, name: str, **changes: Any) -> Path:
    job = json.loads(json.dumps(VALID))
    for key, value in changes.items():
        if key == "namespace":
            if value is None:
                del job["metadata"]["namespace"]
            else:
                job["metadata"]["namespace"] = value
        else:
            job["spec"][key] = value
    return write(tmp_path, f"jobs/{name}.yaml", yaml.safe_dump(job, sort_keys=False))


def _two_instances_without_namespace(tmp_path: Path) -> Path:
    """A job the team-a policy denies (two instances), with no metadata.namespace."""
    return _job(
        tmp_path,
        "big",
        namespace=None,
        resourceConfig=TWO_INSTANCES,
        enableInterContainerTrafficEncryption=True,  # what the baseline asks of two
    )


def _validate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main(["validate", "-o", "json", *args])
    captured = capsys.readouterr()
    report = json.loads(captured.out) if captured.out else {}
    return code, report, captured.err


def _rules(report: dict[str, Any]) -> list[tuple[str, str]]:
    return [(v["rule"], v["action"]) for result in report["results"] for v in result["violations"]]


# --- the baseline, as in the chart ---------------------------------------------------------------


def test_the_baseline_is_loaded_next_to_the_teams_policies(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The reproduced case: an access key passed CI with --policy my-policies/."""
    policies = write(tmp_path, "my-policies/team.yaml", TEAM_POLICY).parent
    job = _job(tmp_path, "leaky", environment={"AWS_ACCESS_KEY_ID": ACCESS_KEY})
    code, report, _ = _validate(capsys, str(job), "--policy", str(policies))
    assert code == 1
    assert ("baseline/no-secrets", "deny") in _rules(report)
    # Left out on purpose, as with the chart's policies.includeBaseline: false.
    code, report, _ = _validate(capsys, str(job), "--policy", str(policies), "--no-baseline")
    assert code == 0
    assert _rules(report) == []


def test_baseline_names_the_bundled_policy(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = _job(tmp_path, "leaky", environment={"AWS_ACCESS_KEY_ID": ACCESS_KEY})
    for flags in (["--policy", "baseline"], ["--policy", "baseline", "--no-baseline"], []):
        code, report, _ = _validate(capsys, str(job), *flags)
        assert code == 1, flags
        assert _rules(report).count(("baseline/no-secrets", "deny")) == 1, flags
    code, report, _ = _validate(capsys, str(job), "--no-policy")
    assert code == 0


def test_a_folder_that_holds_the_baseline_loads_it_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--policy policies/`` of the project: the bundled file is not loaded twice."""
    job = _job(tmp_path, "leaky", environment={"AWS_ACCESS_KEY_ID": ACCESS_KEY})
    library = baseline_policy().parent.parent
    code, report, err = _validate(capsys, str(job), "--policy", str(library))
    assert code == 1, err
    assert _rules(report).count(("baseline/no-secrets", "deny")) == 1


def test_a_copy_of_the_baseline_says_how_to_use_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    copy = write(tmp_path, "mine/baseline.yaml", baseline_policy().read_text())
    job = _job(tmp_path, "ok")
    code, _, err = _validate(capsys, str(job), "--policy", str(copy))
    assert code == 2
    assert 'policy id "baseline" is also used in' in err
    assert "the bundled baseline (included unless --no-baseline)" in err
    code, _, _ = _validate(capsys, str(job), "--policy", str(copy), "--no-baseline")
    assert code == 0


# --- a manifest without a namespace ----------------------------------------------------------------


def test_policies_a_missing_namespace_kept_out_are_named(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = write(tmp_path, "team-a.yaml", TEAM_A_ONLY)
    job = _two_instances_without_namespace(tmp_path)
    code, report, _ = _validate(capsys, str(job), "--policy", str(policy))
    assert code == 0
    [violation] = report["results"][0]["violations"]
    assert (violation["rule"], violation["action"]) == ("cli.namespace-unset", "warn")
    assert violation["path"] == "metadata.namespace"
    assert violation["line"] == 3  # the metadata block, where namespace goes
    assert "team-a-small" in violation["message"]
    assert '"default"' in violation["message"]
    assert "--namespace" in violation["message"]
    # --strict: CI fails instead.
    code, report, _ = _validate(capsys, str(job), "--policy", str(policy), "--strict")
    assert code == 1
    assert _rules(report) == [("cli.namespace-unset", "deny")]
    # Told the namespace, the policy applies and nothing is assumed.
    code, report, _ = _validate(
        capsys, str(job), "--policy", str(policy), "--namespace", "team-a", "--strict"
    )
    assert code == 1
    assert _rules(report) == [("team-a-small/one-instance", "deny")]


def test_text_output_shows_the_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = write(tmp_path, "team-a.yaml", TEAM_A_ONLY)
    job = _two_instances_without_namespace(tmp_path)
    code = main(["validate", str(job), "--policy", str(policy)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{job}:3:" in out
    assert "warn cli.namespace-unset metadata.namespace" in out


def test_no_warning_when_the_namespace_changes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    team_a = write(tmp_path, "team-a.yaml", TEAM_A_ONLY)
    team = write(tmp_path, "team.yaml", TEAM_POLICY)
    # A namespace in the manifest: it is used.
    job = _job(tmp_path, "placed", namespace="team-b")
    code, report, _ = _validate(capsys, str(job), "--policy", str(team_a), "--strict")
    assert (code, _rules(report)) == (0, [])
    # No namespace, but no policy is scoped by namespace: nothing was kept out.
    job = _job(tmp_path, "unplaced", namespace=None)
    code, report, _ = _validate(capsys, str(job), "--policy", str(team), "--strict")
    assert (code, _rules(report)) == (0, [])


def test_mutate_warns_too(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    policy = write(tmp_path, "team-a.yaml", TEAM_A_ONLY)
    job = _two_instances_without_namespace(tmp_path)
    code = main(["mutate", str(job), "--policy", str(policy)])
    captured = capsys.readouterr()
    assert code == 0
    assert "team-a-small" in captured.err
    assert "metadata.namespace is not set" in captured.err


# --- rule actions -------------------------------------------------------------------------------------


def test_a_rule_action_for_no_rule_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    job = _job(tmp_path, "ok")
    code, report, err = _validate(capsys, str(job), "--rule-action", "baseline/no-secret=warn")
    assert code == 2
    assert report == {}
    assert "no rule 'baseline/no-secret'" in err
    assert 'did you mean "baseline/no-secrets"?' in err
    code, _, err = _validate(capsys, str(job), "--rule-action", "unknown-policy/typo=warn")
    assert code == 2
    assert "no rule 'unknown-policy/typo'" in err
    # A policy's rule is known once its policy is loaded.
    code, _, _ = _validate(capsys, str(job), "--rule-action", "baseline/no-secrets=warn")
    assert code == 0


def test_the_webhook_refuses_to_start_with_a_rule_action_for_no_rule() -> None:
    with pytest.raises(PolicyLoadError) as error:
        ServerState.load([baseline_policy()], {"baseline/no-secret": Action.WARN}, JsonLog())
    assert 'did you mean "baseline/no-secrets"?' in str(error.value)
    assert load_policies([baseline_policy()]).rule_ids  # the ids it is checked against
