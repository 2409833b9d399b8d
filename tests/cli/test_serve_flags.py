"""`trainingjob-guard serve --controller-user`: from the flag to the decision on an UPDATE."""

from __future__ import annotations

import copy
import io
import json
from typing import Any
from unittest import mock

import pytest
import yaml

from tests.conftest import EXAMPLES, PROJECT
from webhook.cli import main
from webhook.constraints.update import ACK_CONTROLLER_USER
from webhook.policy.compiled import EMPTY
from webhook.server import admission
from webhook.server.serve import ServeOptions
from webhook.server.state import JsonLog, ServerState
from webhook.server.wire import AdmissionRequest, parse_request

OURS = "system:serviceaccount:ml-platform:sagemaker-controller"
REVIEW: dict[str, Any] = json.loads((EXAMPLES / "admission-review.json").read_text())
VALID: dict[str, Any] = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
BASELINE = PROJECT / "policies" / "baseline"


def serve_options(*flags: str) -> ServeOptions:
    """What ``serve`` would run with (nothing is served)."""
    with mock.patch("webhook.server.serve.serve_forever", return_value=0) as serve_forever:
        assert main(["serve", *flags]) == 0
    [(options,), _] = serve_forever.call_args
    assert isinstance(options, ServeOptions)
    return options


def test_the_default_is_the_ack_controller_chart_identity() -> None:
    assert serve_options().controller_users == frozenset({ACK_CONTROLLER_USER})
    assert ACK_CONTROLLER_USER == "system:serviceaccount:ack-system:ack-sagemaker-controller"


def test_controller_users_replace_the_default() -> None:
    options = serve_options("--controller-user", OURS, "--controller-user", "ack-bot")
    assert options.controller_users == frozenset({OURS, "ack-bot"})


@pytest.mark.parametrize("name", ["", "  "])
def test_an_empty_controller_user_is_a_usage_error(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--controller-user", name])
    assert exit_info.value.code == 2
    assert "expected a Kubernetes user name, got an empty one" in capsys.readouterr().err


def update_request(username: str) -> AdmissionRequest:
    """*username*'s UPDATE filling in another account's output key and a million instances."""
    old = copy.deepcopy(VALID)
    del old["spec"]["outputDataConfig"]["kmsKeyID"]
    del old["spec"]["resourceConfig"]["instanceCount"]
    new = copy.deepcopy(old)
    new["spec"]["outputDataConfig"]["kmsKeyID"] = "arn:aws:kms:us-east-1:999999999999:alias/x"
    new["spec"]["resourceConfig"]["instanceCount"] = 1000000
    data = copy.deepcopy(REVIEW)
    data["request"].update(
        operation="UPDATE", object=new, oldObject=old, userInfo={"username": username}
    )
    return parse_request(data)


def test_the_server_decides_with_the_configured_controller_users_across_reloads() -> None:
    options = serve_options("--policy", str(BASELINE), "--controller-user", OURS)
    state = ServerState.load(
        options.policy_paths,
        options.actions,
        JsonLog(io.BytesIO()),
        controller_users=options.controller_users,
    )
    for reloaded in (False, True):
        if reloaded:
            state.use(state.config.policies)  # what a policy reload does
        assert state.config.controller_users == frozenset({OURS})
        ours = admission.validate(update_request(OURS), state.config)
        assert (ours.allowed, ours.findings) == (True, ())
        default = admission.validate(update_request(ACK_CONTROLLER_USER), state.config)
        assert not default.allowed
        assert "- spec.resourceConfig.instanceCount: 1000000 instances" in default.message
        assert "[update.immutable]" in default.message


def test_a_server_without_policies_keeps_the_default() -> None:
    state = ServerState.load([], log=JsonLog(io.BytesIO()))
    state.use(EMPTY)
    assert state.config.controller_users == frozenset({ACK_CONTROLLER_USER})
    allowed = admission.validate(update_request(ACK_CONTROLLER_USER), state.config)
    assert (allowed.allowed, allowed.findings) == (True, ())
    denied = admission.validate(update_request("alice"), state.config)
    assert not denied.allowed
    assert [f.rule for f in denied.findings] == ["update.immutable", "update.immutable"]
