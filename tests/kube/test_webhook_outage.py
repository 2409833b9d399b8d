"""A webhook outage never blocks deletion nor the ACK controller, and still stops unchecked jobs.

No kube-apiserver runs here; its side is emulated. The chart is rendered by
Helm's own engine (with the rendering helper of tests/chart/test_chart.py) and
its ValidatingWebhookConfiguration and MutatingWebhookConfiguration are stored
in the fake API server of tests/kube/fake_apiserver.py. Every write the tests
send with the real Kubernetes client then goes through admission the way
kube-apiserver runs it (tests/kube/fake_admission.py): the webhooks' rules and
namespaceSelector, their matchConditions evaluated in CEL (cel-expr-python, the
CEL project's C++ core, where kube-apiserver embeds cel-go), mutating before
validating, then an AdmissionReview POSTed to the webhook's Service, verified
against the caBundle. "The webhook is down" is a Service without endpoints, so
the configuration's failurePolicy decides, with the real server's messages. The
fake also handles finalizers as the API server's generic registry does: a
DELETE of a job that has one only sets ``deletionTimestamp``, and the UPDATE that
removes the last finalizer is admitted first and then deletes the object.

Who asks is the ``Impersonate-User`` header: the ACK controller is
``system:serviceaccount:ack-system:ack-sagemaker-controller`` (the chart's
default ``controllerUsers``); anyone else is a user.

Not emulated: the CRD's schema validation and pruning, authentication and RBAC,
and the API server's retry of a write that raced with another.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import helm_python
import pytest
import uvicorn
import yaml
from kubernetes.client import AdmissionregistrationV1Api, CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from tests.chart.test_chart import CHART, FULLNAME, NAMESPACE, RELEASE, Rendered
from tests.conftest import EXAMPLES, PROJECT
from tests.kube.fake_admission import Attributes, Operation, UserInfo, evaluate_match_conditions
from tests.kube.fake_apiserver import DEFAULT_USER, FakeApiServer
from webhook.server.app import build_app
from webhook.server.state import ServerState

pytestmark = pytest.mark.slow

GROUP, VERSION, PLURAL = "sagemaker.services.k8s.aws", "v1alpha1", "trainingjobs"
TEAM = "team-a"
ACK_CONTROLLER = "system:serviceaccount:ack-system:ack-sagemaker-controller"
USER = DEFAULT_USER.username
FINALIZER = "finalizers.sagemaker.services.k8s.aws/TrainingJob"
VALIDATE = f"validate.{FULLNAME}.{NAMESPACE}.svc"
MUTATE = f"mutate.{FULLNAME}.{NAMESPACE}.svc"
NO_ENDPOINTS = f'no endpoints available for service "{FULLNAME}"'

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def chart() -> Iterator[helm_python.Chart]:
    with helm_python.Chart.load(CHART) as loaded:
        yield loaded


def _render(chart: helm_python.Chart, values: Obj) -> Rendered:
    chart.validate_schema(values)
    return Rendered(chart.render(values, name=RELEASE, namespace=NAMESPACE))


@contextlib.contextmanager
def _cluster(rendered: Rendered) -> Iterator[FakeApiServer]:
    """The fake API server with team-a and the chart's two webhook configurations."""
    with FakeApiServer() as server:
        for name in (NAMESPACE, TEAM):
            server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            server.create(rendered.one(kind, FULLNAME))
        yield server


def _job(name: str = "churn") -> Obj:
    job: Obj = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
    job["metadata"] = {"name": name, "namespace": TEAM}
    job["spec"]["trainingJobName"] = name
    return job


def _managed_job(server: FakeApiServer, name: str = "churn") -> Obj:
    """A job created before the outage: the controller already added its finalizer."""
    job = _job(name)
    job["metadata"]["finalizers"] = [FINALIZER]
    return server.create(job)


@contextlib.contextmanager
def _as(server: FakeApiServer, user: str) -> Iterator[CustomObjectsApi]:
    with server.api_client(user) as api:
        yield CustomObjectsApi(api)


def _patch(server: FakeApiServer, user: str, name: str, patch: Obj) -> Obj:
    with _as(server, user) as api:
        return cast(
            Obj, api.patch_namespaced_custom_object(GROUP, VERSION, TEAM, PLURAL, name, patch)
        )


def _create(server: FakeApiServer, user: str, job: Obj) -> Obj:
    with _as(server, user) as api:
        return cast(Obj, api.create_namespaced_custom_object(GROUP, VERSION, TEAM, PLURAL, job))


def _delete(server: FakeApiServer, user: str, name: str) -> Obj:
    with _as(server, user) as api:
        return cast(Obj, api.delete_namespaced_custom_object(GROUP, VERSION, TEAM, PLURAL, name))


def _refused(call: Callable[[], object]) -> tuple[int, str]:
    """The HTTP status and Status message of a write the API server refuses."""
    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body or "{}")["message"]


def _stored(server: FakeApiServer, name: str = "churn") -> Obj | None:
    return server.get(f"{GROUP}/{VERSION}", "TrainingJob", name, TEAM)


def _calls(server: FakeApiServer) -> list[tuple[str, str, str, str]]:
    """(webhook, username, outcome, the skipping matchCondition) of each webhook a write matched."""
    return [
        (c.webhook, c.username, c.outcome, c.detail if c.outcome == "skipped" else "")
        for c in server.webhook_calls
    ]


REMOVE_FINALIZER: Obj = {"metadata": {"finalizers": None}}
"""The merge patch controller-runtime sends when the finalizer list becomes empty."""
LATE_INITIALIZED: Obj = {
    "spec": {"enableManagedSpotTraining": False, "enableNetworkIsolation": False}
}
"""Two of the spec fields the controller fills in from DescribeTrainingJob."""
RESIZE: Obj = {"spec": {"resourceConfig": {"instanceType": "ml.p4d.24xlarge"}}}
RELABEL: Obj = {"metadata": {"labels": {"cost-center": "ml-42"}}}


# --- the webhook is down -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remover", "skipped_by"),
    [
        (ACK_CONTROLLER, "exclude-ack-controller-updates"),
        # An administrator letting go of a stuck job by hand: not the controller, but a
        # spec-preserving update of a job being deleted.
        (USER, "exclude-metadata-updates-during-deletion"),
    ],
)
def test_deletion_completes_while_the_webhook_is_down(
    chart: helm_python.Chart, remover: str, skipped_by: str
) -> None:
    with _cluster(_render(chart, {})) as server:
        _managed_job(server)

        # DELETE is not registered: it only marks the job, which the finalizer holds.
        marked = _delete(server, USER, "churn")
        assert marked["metadata"]["deletionTimestamp"]
        stored = _stored(server)
        assert stored is not None
        assert stored["metadata"]["finalizers"] == [FINALIZER]
        assert server.webhook_calls == []

        # Removing the finalizer is an UPDATE: it is not sent to the webhook, and the job goes.
        _patch(server, remover, "churn", REMOVE_FINALIZER)
        assert _stored(server) is None
        assert _calls(server) == [(VALIDATE, remover, "skipped", skipped_by)]


def test_late_initialization_goes_through_while_the_webhook_is_down(
    chart: helm_python.Chart,
) -> None:
    with _cluster(_render(chart, {})) as server:
        created = server.create(_job())  # created before the outage, not yet reconciled
        _patch(server, ACK_CONTROLLER, "churn", {"metadata": {"finalizers": [FINALIZER]}})
        _patch(server, ACK_CONTROLLER, "churn", LATE_INITIALIZED)

        stored = _stored(server)
        assert stored is not None
        assert stored["metadata"]["finalizers"] == [FINALIZER]
        assert stored["spec"] == {**created["spec"], **LATE_INITIALIZED["spec"]}
        skipped = (VALIDATE, ACK_CONTROLLER, "skipped", "exclude-ack-controller-updates")
        assert _calls(server) == [skipped, skipped]


def _write_and_expect(server: FakeApiServer, write: str) -> tuple[Callable[[], object], str]:
    """A write of a user (or the controller's CREATE) and the webhook it must wait for."""
    if write == "user CREATE":
        return lambda: _create(server, USER, _job("fresh")), MUTATE
    if write == "controller CREATE (adoption)":
        return lambda: _create(server, ACK_CONTROLLER, _job("fresh")), MUTATE
    if write == "user spec change":
        return lambda: _patch(server, USER, "churn", RESIZE), VALIDATE
    if write == "user label change":  # the webhook would allow it, but it is not skipped
        return lambda: _patch(server, USER, "churn", RELABEL), VALIDATE
    if write == "user late-initialized field":
        return lambda: _patch(server, USER, "churn", LATE_INITIALIZED), VALIDATE
    if write == "user spec change during deletion":
        _delete(server, USER, "churn")
        return lambda: _patch(server, USER, "churn", RESIZE), VALIDATE
    if write == "user spec change while removing the finalizer":
        _delete(server, USER, "churn")
        both = {**RESIZE, **REMOVE_FINALIZER}
        return lambda: _patch(server, USER, "churn", both), VALIDATE
    raise AssertionError(write)


@pytest.mark.parametrize(
    "write",
    [
        "user CREATE",
        "controller CREATE (adoption)",
        "user spec change",
        "user label change",
        "user late-initialized field",
        "user spec change during deletion",
        "user spec change while removing the finalizer",
    ],
)
def test_unchecked_writes_are_refused_while_the_webhook_is_down(
    chart: helm_python.Chart, write: str
) -> None:
    with _cluster(_render(chart, {})) as server:
        _managed_job(server)
        call, webhook = _write_and_expect(server, write)
        before = _stored(server)
        server.clear_webhook_calls()

        status, message = _refused(call)

        # failurePolicy Fail: the API server's own answer to a webhook it cannot call.
        assert status == 500
        assert message.startswith(f'Internal error occurred: failed calling webhook "{webhook}"')
        assert message.endswith(NO_ENDPOINTS)
        assert _stored(server) == before  # nothing written
        assert _stored(server, "fresh") is None
        assert [(c.webhook, c.outcome) for c in server.webhook_calls] == [
            (webhook, "failed-closed")
        ]


def test_without_the_match_conditions_the_controller_waits_for_the_webhook(
    chart: helm_python.Chart,
) -> None:
    """webhook.defaultMatchConditions false: the chart's registration before the setting."""
    with _cluster(_render(chart, {"webhook": {"defaultMatchConditions": False}})) as server:
        _managed_job(server)

        status, message = _refused(
            lambda: _patch(server, ACK_CONTROLLER, "churn", LATE_INITIALIZED)
        )
        assert (status, message.endswith(NO_ENDPOINTS)) == (500, True)

        # Deletion hangs: the controller cannot remove its finalizer.
        _delete(server, USER, "churn")
        status, message = _refused(
            lambda: _patch(server, ACK_CONTROLLER, "churn", REMOVE_FINALIZER)
        )
        assert (status, message.endswith(NO_ENDPOINTS)) == (500, True)
        stored = _stored(server)
        assert stored is not None
        assert stored["metadata"]["deletionTimestamp"]
        assert stored["metadata"]["finalizers"] == [FINALIZER]
        assert [(c.username, c.outcome) for c in server.webhook_calls] == [
            (ACK_CONTROLLER, "failed-closed"),
            (ACK_CONTROLLER, "failed-closed"),
        ]


def test_users_match_conditions_still_apply_with_the_defaults_off(
    chart: helm_python.Chart,
) -> None:
    """A user's own condition skips what it says (and nothing else) on both webhooks."""
    sandbox = {
        "name": "exclude-sandbox-jobs",
        "expression": '!has(object.metadata.labels) || !("sandbox" in object.metadata.labels)',
    }
    values = {"webhook": {"defaultMatchConditions": False, "matchConditions": [sandbox]}}
    with _cluster(_render(chart, values)) as server:
        job = _job("scratch")
        job["metadata"]["labels"] = {"sandbox": "yes"}
        assert _create(server, USER, job)["metadata"]["name"] == "scratch"
        status, _ = _refused(lambda: _create(server, USER, _job("fresh")))
        assert status == 500
        assert _calls(server) == [
            (MUTATE, USER, "skipped", "exclude-sandbox-jobs"),
            (VALIDATE, USER, "skipped", "exclude-sandbox-jobs"),
            (MUTATE, USER, "failed-closed", ""),
        ]


# --- every request the rules send: each condition evaluates without error ----------------------


def _attributes(operation: Operation, user: str, old: Obj | None, new: Obj | None) -> Attributes:
    return Attributes(
        operation,
        GROUP,
        VERSION,
        PLURAL,
        "TrainingJob",
        True,
        TEAM,
        "churn",
        new,
        old,
        UserInfo(user),
    )


_SPEC: Obj = _job()["spec"]
_RESIZED: Obj = {
    **_SPEC,
    "resourceConfig": {**_SPEC["resourceConfig"], "instanceType": "ml.p4d.24xlarge"},
}
_ABSENT: Obj = {}
"""No spec at all (the CRD does not require one)."""


def _state(
    spec: Obj = _SPEC,
    *,
    deleting: bool = False,
    finalizers: tuple[str, ...] = (FINALIZER,),
    labels: dict[str, str] | None = None,
) -> Obj:
    """The TrainingJob as admission sees it: stored (oldObject) or sent (object)."""
    metadata: Obj = {"name": "churn", "namespace": TEAM, "finalizers": list(finalizers)}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if labels:
        metadata["labels"] = labels
    obj: Obj = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "TrainingJob", "metadata": metadata}
    if spec is not _ABSENT:
        obj["spec"] = copy.deepcopy(spec)
    return obj


_DELETING = _state(deleting=True)
CASES: dict[str, tuple[Attributes, str | None]] = {
    "user CREATE": (_attributes("CREATE", USER, None, _state(finalizers=())), None),
    "controller CREATE": (_attributes("CREATE", ACK_CONTROLLER, None, _state(finalizers=())), None),
    "controller late initialization": (
        _attributes(
            "UPDATE", ACK_CONTROLLER, _state(), _state({**_SPEC, **LATE_INITIALIZED["spec"]})
        ),
        "exclude-ack-controller-updates",
    ),
    "controller finalizer removal": (
        _attributes("UPDATE", ACK_CONTROLLER, _DELETING, _state(deleting=True, finalizers=())),
        "exclude-ack-controller-updates",
    ),
    "user label change": (_attributes("UPDATE", USER, _state(), _state(labels={"a": "b"})), None),
    "user spec change": (_attributes("UPDATE", USER, _state(), _state(_RESIZED)), None),
    "user finalizer removal during deletion": (
        _attributes("UPDATE", USER, _DELETING, _state(deleting=True, finalizers=())),
        "exclude-metadata-updates-during-deletion",
    ),
    "user spec change during deletion": (
        _attributes("UPDATE", USER, _DELETING, _state(_RESIZED, deleting=True, finalizers=())),
        None,
    ),
    "user spec removal during deletion": (
        _attributes("UPDATE", USER, _DELETING, _state(_ABSENT, deleting=True, finalizers=())),
        None,
    ),
    "user update during deletion, no spec before or after": (
        _attributes(
            "UPDATE",
            USER,
            _state(_ABSENT, deleting=True),
            _state(_ABSENT, deleting=True, finalizers=()),
        ),
        None,
    ),
    "user update of a live job without a spec": (
        _attributes("UPDATE", USER, _state(_ABSENT), _state(_ABSENT, labels={"a": "b"})),
        None,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_charts_conditions_never_fail_to_evaluate(chart: helm_python.Chart, case: str) -> None:
    """An error would follow failurePolicy (a rejection): each condition must yield a bool."""
    attributes, skipped_by = CASES[case]
    webhook = _render(chart, {}).one("ValidatingWebhookConfiguration", FULLNAME)["webhooks"][0]
    conditions = webhook["matchConditions"]
    assert [c["name"] for c in conditions] == [
        "exclude-ack-controller-updates",
        "exclude-metadata-updates-during-deletion",
    ]
    for condition in conditions:
        assert evaluate_match_conditions([condition], attributes)[1] is None, condition["name"]
    assert evaluate_match_conditions(conditions, attributes) == (skipped_by, None)


# --- the webhook is up -------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(rendered: Rendered, folder: Path) -> Iterator[int]:
    """The webhook's ASGI app with the baseline policy, on the chart's serving certificate."""
    secret = rendered.one("Secret", f"{FULLNAME}-tls")
    for key in ("tls.crt", "tls.key"):
        (folder / key).write_bytes(base64.b64decode(secret["data"][key]))
    state = ServerState.load([PROJECT / "policies" / "baseline"])
    config = uvicorn.Config(
        build_app(state),
        host="127.0.0.1",
        port=0,
        ssl_certfile=str(folder / "tls.crt"),
        ssl_keyfile=str(folder / "tls.key"),
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="webhook", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "the webhook did not start"
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_with_the_webhook_up_only_the_skipped_updates_bypass_it(
    chart: helm_python.Chart, tmp_path: Path
) -> None:
    rendered = _render(chart, {"certificates": {"mode": "helm-generated"}})
    with _cluster(rendered) as server, _serving(rendered, tmp_path) as port:
        # The API server calls the Service's host name, verified with the chart's caBundle.
        server.route_service(NAMESPACE, FULLNAME, f"https://127.0.0.1:{port}")

        _create(server, USER, _job())
        _patch(server, USER, "churn", RELABEL)
        bad = _job("bad")
        bad["spec"]["resourceConfig"]["instanceType"] = "ml.bogus"
        status, message = _refused(lambda: _create(server, USER, bad))
        assert status == 403
        assert message.startswith(f'admission webhook "{VALIDATE}" denied the request: ')
        assert "spec.resourceConfig.instanceType" in message

        _patch(server, ACK_CONTROLLER, "churn", {"metadata": {"finalizers": [FINALIZER]}})
        _patch(server, ACK_CONTROLLER, "churn", LATE_INITIALIZED)
        _delete(server, USER, "churn")
        status, message = _refused(lambda: _patch(server, USER, "churn", RESIZE))
        assert status == 403
        assert "update.immutable" in message
        _patch(server, ACK_CONTROLLER, "churn", REMOVE_FINALIZER)
        assert _stored(server) is None

        assert _calls(server) == [
            (MUTATE, USER, "allowed", ""),
            (VALIDATE, USER, "allowed", ""),
            (VALIDATE, USER, "allowed", ""),
            (MUTATE, USER, "allowed", ""),
            (VALIDATE, USER, "denied", ""),
            (VALIDATE, ACK_CONTROLLER, "skipped", "exclude-ack-controller-updates"),
            (VALIDATE, ACK_CONTROLLER, "skipped", "exclude-ack-controller-updates"),
            (VALIDATE, USER, "denied", ""),
            (VALIDATE, ACK_CONTROLLER, "skipped", "exclude-ack-controller-updates"),
        ]


def test_a_webhook_configuration_with_broken_cel_is_refused(chart: helm_python.Chart) -> None:
    """The fake validates matchConditions as the API server does, so the chart's must compile."""
    rendered = _render(chart, {})
    broken = copy.deepcopy(rendered.one("ValidatingWebhookConfiguration", FULLNAME))
    broken["webhooks"][0]["matchConditions"].append({"name": "typo", "expression": "object.("})
    with FakeApiServer() as server, server.api_client() as api:
        status, message = _refused(
            lambda: AdmissionregistrationV1Api(api).create_validating_webhook_configuration(
                cast(Any, broken)
            )
        )
        assert status == 422
        assert "matchConditions[2].expression" in message
