"""End-to-end tests of ``trainingjob-guard serve``: the real server, called as kube-apiserver calls it.

The server runs as a subprocess (``python -m webhook serve --port 0``), exactly
as a container would run it; the tests read its banner on stdout for the port
and the CA bundle, and its JSON log lines (stderr) from a file.

The client side emulates kube-apiserver faithfully:

* HTTPS only, the server verified against the CA bundle of the webhook
  configuration (``ca.crt``) with the server name ``localhost``, and a request
  timeout (the API server's default webhook timeout, 10 s);
* ``admission.k8s.io/v1`` AdmissionReview bodies with a fresh ``uid`` for every
  call, the fields the API server fills in (kind, resource, requestKind,
  userInfo, options, dryRun), ``oldObject`` on UPDATE and DELETE;
* for CREATE, the API server's admission chain: ``POST /mutate``, the returned
  base64 JSON Patch applied (RFC 6902, ``jsonpatch``), the result checked
  against the CRD's ``openAPIV3Schema`` (the API server's schema validation,
  which runs after mutating and before validating admission; a rejection here
  is the user's 422 and ``/validate`` is never called), then ``POST /validate``
  with the patched object.

One difference on purpose: the API server would drop fields the CRD does not
know (or reject them under ``kubectl apply --validate=strict``) before any
webhook sees them; this client leaves them in, so that the webhook's own
unknown-field finding is visible end to end.

Tests assert what a user sees: ``allowed``, the status message with the path
of every violation, the warnings, the patch. Everything is bounded: process
waits, reads, requests and load loops all have timeouts, and every server is
stopped with SIGTERM (then killed if it does not stop) in teardown.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import queue
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jsonpatch
import pytest
import yaml
from cryptography import x509
from jsonschema import Draft7Validator
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import EXAMPLES, PROJECT
from webhook.certs import CA_FILE, CERT_FILE, KEY_FILE, generate_ca, generate_serving

BASELINE_DIR = PROJECT / "policies" / "baseline"
START_TIMEOUT = 30.0
"""Seconds for the server to print its banner (imports and certificate generation)."""
REQUEST_TIMEOUT = 10.0
"""The API server's default webhook timeout."""
STOP_TIMEOUT = 10.0
RELOAD_INTERVAL = 0.2
CHANGE_TIMEOUT = 5.0
"""Seconds for a change on disk (policy, certificate) to show in answers."""
LOAD_LIMIT = 20.0
"""A load thread never runs longer than this."""

BANNER = re.compile(r"trainingjob-guard is serving https://localhost:(\d+)")
CA_LINE = re.compile(r"CA bundle:\s+(\S+)")

SECRET = "AKIAIOSFODNN7EXAMPLE"
"""The environment value of the invalid example: must never leave the request."""

TRAINING_JOB = {"group": "sagemaker.services.k8s.aws", "version": "v1alpha1", "kind": "TrainingJob"}
TRAINING_JOBS = {
    "group": "sagemaker.services.k8s.aws",
    "version": "v1alpha1",
    "resource": "trainingjobs",
}
OPTIONS_KIND = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}


def load_example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / name).read_text())
    return data


VALID = load_example("training-job.yaml")
INVALID = load_example("training-job-invalid.yaml")


# --------------------------------------------------------------------------- the server


@dataclass
class Server:
    """A running ``trainingjob-guard serve`` subprocess."""

    process: subprocess.Popen[str]
    port: int
    ca_file: Path
    log_file: Path
    reader: threading.Thread

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"

    def ssl_context(self) -> ssl.SSLContext:
        """What the API server trusts: the caBundle, nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self) -> httpx.Client:
        """A keep-alive HTTPS client verifying the server against the CA bundle."""
        return httpx.Client(base_url=self.url, verify=self.ssl_context(), timeout=REQUEST_TIMEOUT)

    def log_text(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        """The complete JSON lines of the log so far."""
        records = []
        for line in self.log_text().splitlines(keepends=True):
            if not line.endswith("\n"):
                break  # being written
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict):
                    records.append(record)
        return records

    def wait_for_log(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = CHANGE_TIMEOUT
    ) -> dict[str, Any]:
        """The first log record matching *predicate*, waiting up to *timeout* seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for record in self.log_records():
                if predicate(record):
                    return record
            if time.monotonic() > deadline:
                pytest.fail(f"no matching log line within {timeout}s:\n{self.log_text()}")
            time.sleep(0.05)

    def stop(self, timeout: float = STOP_TIMEOUT) -> int | None:
        """SIGTERM, wait; kill if it does not stop. Return the exit code (None: killed)."""
        code: int | None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
            code = None
        self.reader.join(timeout)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code


def start_server(
    workdir: Path,
    *,
    policy_dir: Path,
    cert_dir: Path,
    reload_interval: float = RELOAD_INTERVAL,
    flags: Sequence[str] = (),
    program: Sequence[str] = ("-m", "webhook"),
) -> Server:
    """Start ``serve`` on a free port (with more *flags*) and wait for its banner.

    *program*: Python's arguments that run the command line (another script can stand in).
    """
    log_file = workdir / "server.log"
    command = [
        sys.executable,
        *program,
        "serve",
        "--port",
        "0",
        "--cert-dir",
        str(cert_dir),
        "--policy",
        str(policy_dir),
        "--no-baseline",  # the folder holds every policy in force, a copy of the baseline too
        "--reload-interval",
        str(reload_interval),
        *flags,
    ]
    with log_file.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            encoding="utf-8",
            cwd=workdir,
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def read_stdout() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=read_stdout, name="serve-stdout", daemon=True)
    reader.start()
    port: int | None = None
    ca_file: Path | None = None
    deadline = time.monotonic() + START_TIMEOUT
    seen: list[str] = []
    while port is None or ca_file is None:
        left = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(left, 0.01)) if left > 0 else None
        except queue.Empty:
            line = None
        if line is None:
            server = Server(process, 0, Path(), log_file, reader)
            server.stop()
            pytest.fail(
                f"no banner within {START_TIMEOUT}s (exit {process.returncode})\n"
                f"stdout: {''.join(seen)}\nstderr: {log_file.read_text()}"
            )
        seen.append(line)
        if (match := BANNER.search(line)) is not None:
            port = int(match.group(1))
        elif (match := CA_LINE.search(line)) is not None:
            ca_file = Path(match.group(1))
    if not ca_file.is_absolute():
        ca_file = workdir / ca_file
    return Server(process, port, ca_file, log_file, reader)


@contextlib.contextmanager
def running(workdir: Path, *, policy_dir: Path, cert_dir: Path) -> Iterator[Server]:
    server = start_server(workdir, policy_dir=policy_dir, cert_dir=cert_dir)
    try:
        yield server
    finally:
        server.stop()


def copy_baseline(target: Path) -> Path:
    shutil.copytree(BASELINE_DIR, target)
    return target


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The shared server: the baseline policy, generated certificates."""
    workdir = tmp_path_factory.mktemp("serve")
    policy_dir = copy_baseline(workdir / "policies")
    with running(workdir, policy_dir=policy_dir, cert_dir=workdir / "certs") as started:
        yield started


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with server.client() as http:
        yield http


@pytest.fixture(scope="module")
def schema(crd_schema: dict[str, Any]) -> Draft7Validator:
    """The API server's structural schema check of a TrainingJob."""
    return Draft7Validator(crd_schema)


# --------------------------------------------------------------------------- the API server side


def review(
    operation: str,
    obj: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    dry_run: bool = False,
    kind: dict[str, str] = TRAINING_JOB,
    resource: dict[str, str] = TRAINING_JOBS,
) -> dict[str, Any]:
    """An AdmissionReview v1 as kube-apiserver sends it, with a fresh uid."""
    source = obj if obj is not None else old or {}
    metadata = source.get("metadata") or {}
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": str(uuid.uuid4()),
            "kind": kind,
            "resource": resource,
            "requestKind": kind,
            "requestResource": resource,
            "name": metadata.get("name", ""),
            "namespace": metadata.get("namespace", "default"),
            "operation": operation,
            "userInfo": {
                "username": "alice@example.com",
                "uid": "4a5b6c7d",
                "groups": ["ml-engineers", "system:authenticated"],
            },
            "object": obj,
            "oldObject": old,
            "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": OPTIONS_KIND.get(operation, "")},
        },
    }


def call(http: httpx.Client, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    """POST an AdmissionReview; check the answer is one, for this uid; return ``response``."""
    reply = http.post(endpoint, json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    data = reply.json()
    assert data["apiVersion"] == "admission.k8s.io/v1"
    assert data["kind"] == "AdmissionReview"
    response: dict[str, Any] = data["response"]
    assert response["uid"] == body["request"]["uid"]
    return response


def decode_patch(response: dict[str, Any]) -> list[dict[str, Any]]:
    if "patch" not in response:
        return []
    assert response["patchType"] == "JSONPatch"
    patch: list[dict[str, Any]] = json.loads(base64.b64decode(response["patch"]))
    return patch


def schema_errors(validator: Draft7Validator, obj: dict[str, Any]) -> list[str]:
    return sorted(
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(obj)
    )


@dataclass
class Outcome:
    """What the user of ``kubectl apply`` gets, and what happened on the way."""

    mutated: dict[str, Any] | None
    """``/mutate``'s response (None: not called)."""
    patch: list[dict[str, Any]]
    errors_before: list[str]
    """The CRD schema's errors on the object as submitted."""
    errors: list[str]
    """The CRD schema's errors on the patched object (any: the API server says 422)."""
    object: dict[str, Any]
    """The object after mutation, as stored."""
    request: dict[str, Any] | None = None
    """The AdmissionReview sent to ``/validate``."""
    response: dict[str, Any] = field(default_factory=dict)
    """``/validate``'s response (empty: not called)."""

    @property
    def allowed(self) -> bool:
        return not self.errors and bool(self.response.get("allowed"))

    @property
    def message(self) -> str:
        message: str = self.response.get("status", {}).get("message", "")
        return message

    @property
    def warnings(self) -> list[str]:
        warnings: list[str] = self.response.get("warnings", [])
        return warnings


def admit(
    http: httpx.Client,
    validator: Draft7Validator,
    operation: str,
    obj: dict[str, Any] | None,
    old: dict[str, Any] | None = None,
    *,
    dry_run: bool = False,
) -> Outcome:
    """The API server's admission chain for one request (mutating webhooks on CREATE/UPDATE)."""
    mutated: dict[str, Any] | None = None
    patch: list[dict[str, Any]] = []
    current = copy.deepcopy(obj)
    errors_before: list[str] = []
    errors: list[str] = []
    if operation in ("CREATE", "UPDATE") and current is not None:
        errors_before = schema_errors(validator, current)
        mutated = call(http, "/mutate", review(operation, current, old, dry_run=dry_run))
        assert mutated["allowed"] is True, mutated  # the mutating webhook never denies
        patch = decode_patch(mutated)
        if patch:
            current = jsonpatch.apply_patch(current, patch)
        errors = schema_errors(validator, current)
    outcome = Outcome(mutated, patch, errors_before, errors, current or {})
    if errors:
        return outcome  # 422 from the API server: no validating webhook is called
    outcome.request = review(operation, current, old, dry_run=dry_run)
    outcome.response = call(http, "/validate", outcome.request)
    return outcome


def violation_paths(message: str) -> list[str]:
    """The paths of the ``- path: message [rule]`` lines of a denial."""
    return [line[2:].split(": ", 1)[0] for line in message.splitlines() if line.startswith("- ")]


# --------------------------------------------------------------------------- CREATE


Create = Callable[[dict[str, Any]], Outcome]


@pytest.fixture
def create(client: httpx.Client, schema: Draft7Validator) -> Create:
    """``kubectl apply`` of a new manifest: mutate, schema check, validate."""

    def create(manifest: dict[str, Any]) -> Outcome:
        return admit(client, schema, "CREATE", manifest)

    return create


def decision_line(server: Server, outcome: Outcome) -> dict[str, Any]:
    """The server's decision log line for the ``/validate`` call of *outcome*."""
    assert outcome.request is not None
    uid = outcome.request["request"]["uid"]
    return server.wait_for_log(lambda r: r.get("event") == "decision" and r.get("uid") == uid)


def test_create_of_a_valid_job_is_allowed(create: Create) -> None:
    outcome = create(VALID)
    assert outcome.errors_before == outcome.errors == []
    assert outcome.patch == []
    assert outcome.request is not None
    assert outcome.response == {"uid": outcome.request["request"]["uid"], "allowed": True}
    assert outcome.allowed
    assert outcome.warnings == []


def test_the_answer_names_no_server_software(client: httpx.Client) -> None:
    reply = client.post("/validate", json=review("CREATE", VALID))
    assert reply.status_code == 200
    assert "server" not in reply.headers
    assert "date" in reply.headers  # HTTP/1.1 wants it from a server with a clock


EXPECTED_DENIALS = [
    "spec.trainingJobName",
    "spec.inputDataConfig[0].dataSource.s3DataSource.s3DataDistributionType",
    "spec.outputDataConfig.kmsKeyId",
    "spec.resourceConfig.instanceType",
    "spec.stoppingCondition.maxWaitTimeInSeconds",
    "spec.environment[AWS_ACCESS_KEY_ID]",
]


def test_create_of_an_invalid_job_is_denied_with_every_violation(
    server: Server, create: Create
) -> None:
    outcome = create(INVALID)
    # The numeric hyperparameter fails the CRD schema until /mutate quotes it.
    assert outcome.errors_before == ["spec.hyperParameters.max_depth: 5 is not of type 'string'"]
    assert outcome.patch == [
        {"op": "replace", "path": "/spec/hyperParameters/max_depth", "value": "5"}
    ]
    assert outcome.errors == []
    assert not outcome.allowed
    assert outcome.response["status"]["code"] == 403
    assert outcome.response["status"]["reason"] == "Forbidden"
    lines = outcome.message.splitlines()
    count = len(lines) - 1
    assert lines[0] == f"TrainingJob team-a/churn-xgboost-broken has {count} violations:"
    paths = violation_paths(outcome.message)
    assert len(paths) == count
    for path in EXPECTED_DENIALS:
        assert path in paths, outcome.message
    assert "spec.hyperParameters[max_depth]" not in paths  # defaulted, so no longer a problem
    assert any(
        line.startswith("- spec.environment[AWS_ACCESS_KEY_ID]: ")
        and line.endswith("[baseline/no-secrets]")
        for line in lines
    )
    assert any(
        line.startswith('- spec.resourceConfig.instanceType: "ml.t2.medium" is not')
        for line in lines
    )
    # The secret never leaves the request: not in the answers, not in the log.
    assert outcome.mutated is not None
    assert SECRET not in json.dumps(outcome.mutated)
    assert SECRET not in json.dumps(outcome.patch)
    assert SECRET not in json.dumps(outcome.response)
    record = decision_line(server, outcome)
    assert record["decision"] == "denied"
    assert "baseline/no-secrets" in record["rules"]
    assert SECRET not in server.log_text()


def test_create_with_a_latest_image_is_allowed_with_a_warning(create: Create) -> None:
    job = copy.deepcopy(VALID)
    job["spec"]["algorithmSpecification"]["trainingImage"] = (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:latest"
    )
    outcome = create(job)
    assert outcome.allowed
    assert "status" not in outcome.response
    [warning] = outcome.warnings
    assert warning.startswith("spec.algorithmSpecification.trainingImage: ")
    assert "latest" in warning
    assert warning.endswith("[baseline/pinned-images]")


def test_create_is_defaulted_into_a_job_the_crd_schema_accepts(create: Create) -> None:
    job = copy.deepcopy(VALID)
    job["spec"]["hyperParameters"]["max_depth"] = 5
    del job["spec"]["stoppingCondition"]["maxRuntimeInSeconds"]
    outcome = create(job)
    assert outcome.errors_before == ["spec.hyperParameters.max_depth: 5 is not of type 'string'"]
    assert outcome.mutated is not None
    assert outcome.mutated["patchType"] == "JSONPatch"
    assert sorted(outcome.patch, key=lambda op: str(op["path"])) == [
        {"op": "replace", "path": "/spec/hyperParameters/max_depth", "value": "5"},
        {"op": "add", "path": "/spec/stoppingCondition/maxRuntimeInSeconds", "value": 86400},
    ]
    assert outcome.errors == []
    assert outcome.object["spec"]["hyperParameters"]["max_depth"] == "5"
    assert outcome.object["spec"]["stoppingCondition"] == {"maxRuntimeInSeconds": 86400}
    assert outcome.allowed
    assert outcome.warnings == []


# --------------------------------------------------------------------------- UPDATE, DELETE


def stored(job: dict[str, Any]) -> dict[str, Any]:
    """*job* as the API server stores it: with uid, resourceVersion and generation."""
    live = copy.deepcopy(job)
    live["metadata"].update(
        uid="6a4e2d1c-1f0b-4c55-9a39-0e7d4c1b2a10", resourceVersion="4711", generation=1
    )
    return live


def test_update_of_the_spec_is_denied_as_immutable(
    client: httpx.Client, schema: Draft7Validator
) -> None:
    old = stored(VALID)
    new = copy.deepcopy(old)
    new["spec"]["resourceConfig"]["instanceType"] = "ml.m5.2xlarge"
    outcome = admit(client, schema, "UPDATE", new, old)
    assert outcome.patch == []  # no defaults on UPDATE
    assert not outcome.allowed
    assert outcome.response["status"]["code"] == 403
    lines = outcome.message.splitlines()
    assert any(
        line.startswith("- spec.resourceConfig.instanceType: ")
        and line.endswith("[update.immutable]")
        for line in lines
    ), outcome.message


def test_update_of_metadata_only_is_allowed(client: httpx.Client, schema: Draft7Validator) -> None:
    old = stored(VALID)
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"owner": "alice"}
    new["metadata"]["annotations"] = {"note": "re-labelled"}
    new["metadata"]["resourceVersion"] = "4712"
    outcome = admit(client, schema, "UPDATE", new, old)
    assert outcome.patch == []
    assert outcome.allowed, outcome.message
    assert outcome.warnings == []


def test_delete_is_allowed(client: httpx.Client, schema: Draft7Validator) -> None:
    outcome = admit(client, schema, "DELETE", None, stored(INVALID))
    assert outcome.request is not None
    assert outcome.request["request"]["object"] is None
    assert outcome.response == {"uid": outcome.request["request"]["uid"], "allowed": True}


ACK_CONTROLLER = {
    "username": "system:serviceaccount:ack-system:ack-sagemaker-controller",
    "uid": "0d1c2b3a",
    "groups": [
        "system:serviceaccounts",
        "system:serviceaccounts:ack-system",
        "system:authenticated",
    ],
}
ANOTHER_ACCOUNTS_KEY = "arn:aws:kms:us-east-1:999999999999:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def before_late_initialization(job: dict[str, Any]) -> dict[str, Any]:
    """*job* as stored right after creation: no output key, no instance count yet."""
    live = stored(job)
    del live["spec"]["outputDataConfig"]["kmsKeyID"]
    del live["spec"]["resourceConfig"]["instanceCount"]
    return live


def with_late_values(old: dict[str, Any]) -> dict[str, Any]:
    """*old* with another account's output key and a million instances filled in."""
    new = copy.deepcopy(old)
    new["metadata"]["resourceVersion"] = "4712"
    new["spec"]["outputDataConfig"]["kmsKeyID"] = ANOTHER_ACCOUNTS_KEY
    new["spec"]["resourceConfig"]["instanceCount"] = 1_000_000
    return new


def denial_lines(message: str) -> list[str]:
    return sorted(line for line in message.splitlines() if line.startswith("- "))


def test_update_filling_in_late_initialized_fields_is_checked_like_a_create(
    server: Server, client: httpx.Client, schema: Draft7Validator, create: Create
) -> None:
    old = before_late_initialization(VALID)
    new = with_late_values(old)
    created = create(new)
    assert not created.allowed

    outcome = admit(client, schema, "UPDATE", new, old)  # from alice@example.com

    assert outcome.patch == []
    assert not outcome.allowed
    assert outcome.response["status"]["code"] == 403
    lines = denial_lines(outcome.message)
    immutable = [line for line in lines if line.endswith("[update.immutable]")]
    assert [line.split(": ", 1)[0] for line in immutable] == [
        "- spec.outputDataConfig.kmsKeyID",
        "- spec.resourceConfig.instanceCount",
    ]
    assert immutable[1].startswith(
        "- spec.resourceConfig.instanceCount: spec.resourceConfig.instanceCount cannot change "
        "after creation (unset -> 1000000): only the ACK controller fills it in"
    )
    # Every denial of the same object on CREATE, on the new values, and its warnings.
    assert sorted([*immutable, *denial_lines(created.message)]) == lines
    limit = "1000000 instances; the policy allows at most 64 [baseline/limits]"
    assert f"- spec.resourceConfig.instanceCount: {limit}" in lines
    assert outcome.warnings == created.warnings
    record = decision_line(server, outcome)
    assert (record["operation"], record["decision"]) == ("UPDATE", "denied")
    assert {"update.immutable", "baseline/limits"} <= set(record["rules"])


def test_the_ack_controller_filling_in_the_same_fields_is_allowed(
    server: Server, client: httpx.Client
) -> None:
    old = before_late_initialization(VALID)
    new = with_late_values(old)
    for endpoint in ("/mutate", "/validate"):
        body = review("UPDATE", new, old)
        body["request"]["userInfo"] = ACK_CONTROLLER
        response = call(client, endpoint, body)
        assert response == {"uid": body["request"]["uid"], "allowed": True}
    uid = body["request"]["uid"]  # the /validate call's
    record = server.wait_for_log(lambda r: r.get("event") == "decision" and r.get("uid") == uid)
    assert (record["endpoint"], record["decision"], record["rules"]) == ("validate", "allowed", [])


def test_metadata_only_update_of_a_non_compliant_job_is_allowed_for_anyone(
    client: httpx.Client,
) -> None:
    old = with_late_values(before_late_initialization(VALID))  # breaks baseline/limits
    new = copy.deepcopy(old)
    new["metadata"]["labels"] = {"owner": "alice"}
    new["metadata"]["finalizers"] = []  # the controller letting go before deletion
    for user in (None, ACK_CONTROLLER):
        for operation, obj in (("UPDATE", new), ("DELETE", None)):
            body = review(operation, obj, old)
            if user is not None:
                body["request"]["userInfo"] = user
            response = call(client, "/validate", body)
            assert response == {"uid": body["request"]["uid"], "allowed": True}, operation


def test_a_dry_run_gets_the_same_answer_and_is_logged_as_one(
    server: Server, client: httpx.Client, schema: Draft7Validator
) -> None:
    real = admit(client, schema, "CREATE", INVALID)
    dry = admit(client, schema, "CREATE", INVALID, dry_run=True)
    assert dry.patch == real.patch
    assert {k: v for k, v in dry.response.items() if k != "uid"} == {
        k: v for k, v in real.response.items() if k != "uid"
    }
    assert not dry.allowed
    for outcome, expected in ((dry, True), (real, False)):
        record = decision_line(server, outcome)
        assert record["dryRun"] is expected
        assert record["decision"] == "denied"


# --------------------------------------------------------------------------- deliberate answers


def body_of(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def pod_review() -> dict[str, Any]:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "namespace": "team-a"},
        "spec": {"containers": [{"name": "web", "image": "nginx:latest"}]},
    }
    return review(
        "CREATE",
        pod,
        kind={"group": "", "version": "v1", "kind": "Pod"},
        resource={"group": "", "version": "v1", "resource": "pods"},
    )


def v1beta1_review() -> dict[str, Any]:
    data = review("CREATE", copy.deepcopy(VALID))
    data["apiVersion"] = "admission.k8s.io/v1beta1"
    return data


def review_without_uid() -> dict[str, Any]:
    data = review("CREATE", copy.deepcopy(VALID))
    del data["request"]["uid"]
    return data


def review_with_a_malformed_request() -> dict[str, Any]:
    data = review("CREATE", copy.deepcopy(VALID))
    data["request"]["operation"] = "PATCH"
    data["request"]["kind"] = "TrainingJob"
    return data


@dataclass(frozen=True)
class Case:
    body: bytes
    status: int
    check: Callable[[dict[str, Any]], None]
    uid: str | None = None


def deliberate_cases() -> dict[str, Case]:
    def error_names(*words: str) -> Callable[[dict[str, Any]], None]:
        def check(data: dict[str, Any]) -> None:
            assert set(data) == {"error"}, data
            for word in words:
                assert word in data["error"], data

        return check

    def allowed(data: dict[str, Any]) -> None:
        assert data["response"]["allowed"] is True
        assert "patch" not in data["response"]

    def bad_request(field: str) -> Callable[[dict[str, Any]], None]:
        def check(data: dict[str, Any]) -> None:
            response = data["response"]
            assert response["allowed"] is False
            assert response["status"]["code"] == 400
            assert response["status"]["reason"] == "BadRequest"
            assert "invalid AdmissionReview" in response["status"]["message"]
            assert f"{field}: " in response["status"]["message"]

        return check

    def with_request(**fields: Any) -> dict[str, Any]:
        data = review("CREATE", copy.deepcopy(VALID))
        data["request"].update(fields)
        return data

    valid_text = body_of(review("CREATE", copy.deepcopy(VALID)))
    pod = pod_review()
    malformed = review_with_a_malformed_request()
    dry_run_text, dry_run_number = with_request(dryRun="true"), with_request(dryRun=1)
    return {
        "garbage bytes": Case(b"\x00\xff\xfe GET / \x80\x81", 400, error_names("not JSON")),
        "truncated JSON": Case(valid_text[: len(valid_text) // 2], 400, error_names("not JSON")),
        "JSON that is no AdmissionReview": Case(
            b'{"kind": "Status"}', 400, error_names("not an AdmissionReview")
        ),
        "a Pod": Case(body_of(pod), 200, allowed, pod["request"]["uid"]),
        "v1beta1": Case(
            body_of(v1beta1_review()),
            400,
            error_names("admission.k8s.io/v1beta1", "only admission.k8s.io/v1", "[v1]"),
        ),
        "no request.uid": Case(
            body_of(review_without_uid()), 400, error_names("invalid AdmissionReview", "uid")
        ),
        "a malformed request with a uid": Case(
            body_of(malformed), 200, bad_request("request.operation"), malformed["request"]["uid"]
        ),
        # Strict types: nothing is coerced, the field is named.
        'dryRun: "true"': Case(
            body_of(dry_run_text),
            200,
            bad_request("request.dryRun"),
            dry_run_text["request"]["uid"],
        ),
        "dryRun: 1": Case(
            body_of(dry_run_number),
            200,
            bad_request("request.dryRun"),
            dry_run_number["request"]["uid"],
        ),
        'uid: ""': Case(
            body_of(with_request(uid="")),
            400,
            error_names("invalid AdmissionReview", "request.uid: "),
        ),
    }


CASES = deliberate_cases()


@pytest.mark.parametrize("endpoint", ["/validate", "/mutate"])
@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_request_gets_a_deliberate_answer(
    client: httpx.Client, name: str, endpoint: str
) -> None:
    case = CASES[name]
    reply = client.post(endpoint, content=case.body, headers={"content-type": "application/json"})
    assert reply.status_code == case.status, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert "Traceback" not in reply.text
    data = reply.json()
    case.check(data)
    if case.uid is not None:
        assert data["apiVersion"] == "admission.k8s.io/v1"
        assert data["response"]["uid"] == case.uid
    if name != "a Pod":
        assert data.get("response", {}).get("allowed") is not True
    assert client.get("/healthz").status_code == 200


def raw_request(server: Server, head: bytes, body: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send *head* and *body* over TLS (not necessarily the whole body); read one answer."""
    context = server.ssl_context()
    deadline = time.monotonic() + REQUEST_TIMEOUT
    data = b""
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(head + body)

        def complete() -> bool:
            header_text, found, rest = data.partition(b"\r\n\r\n")
            if not found:
                return False
            if b"transfer-encoding: chunked" in header_text.lower():
                return rest.endswith(b"0\r\n\r\n")
            match = re.search(rb"content-length:\s*(\d+)", header_text, re.IGNORECASE)
            return len(rest) >= int(match.group(1)) if match else True

        while not complete() and time.monotonic() < deadline:
            chunk = tls.recv(65536)
            if not chunk:
                break
            data += chunk
    header_text, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = header_text.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in header_lines)
    }
    if headers.get("transfer-encoding") == "chunked":
        content = b""
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line, 16)
            content, rest = content + rest[:size], rest[size + 2 :]
            if size == 0:
                break
    else:
        content = rest[: int(headers.get("content-length", len(rest)))]
    return int(status_line.split()[1]), headers, content


def test_a_20_mb_body_is_refused_before_it_is_read(server: Server, client: httpx.Client) -> None:
    size = 20 * 1024 * 1024
    head = (
        b"POST /validate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(size).encode() + b"\r\n\r\n"
    )
    # Only the first 64 KiB are sent: an answer proves the server did not wait for the rest.
    status, headers, body = raw_request(server, head, b"{" + b" " * (64 * 1024 - 1))
    assert status == 413
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"  # the unread rest is not taken for a request
    assert json.loads(body) == {"error": f"body over {7 * 1024 * 1024} bytes"}
    assert client.get("/healthz").status_code == 200


# --------------------------------------------------------------------------- metrics


def metric(text: str, sample: str, **labels: str) -> float:
    """The value of one sample of the exposition *text* (0 when it is not there yet)."""
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == sample and all(item.labels.get(k) == v for k, v in labels.items()):
                return float(item.value)
    return 0.0


def samples(text: str, sample: str) -> list[dict[str, str]]:
    return [
        dict(item.labels)
        for family in text_string_to_metric_families(text)
        for item in family.samples
        if item.name == sample
    ]


def test_metrics_count_requests_and_expose_latency_and_certificate_expiry(
    client: httpx.Client, create: Create
) -> None:
    denied = {"decision": "denied", "endpoint": "validate", "operation": "CREATE"}
    before = client.get("/metrics")
    assert before.status_code == 200
    assert before.headers["content-type"].startswith("text/plain")
    count = metric(before.text, "trainingjob_guard_requests_total", **denied)
    for _ in range(3):
        assert not create(INVALID).allowed
    assert create(VALID).allowed
    after = client.get("/metrics").text
    assert metric(after, "trainingjob_guard_requests_total", **denied) == count + 3
    buckets = samples(after, "trainingjob_guard_request_duration_seconds_bucket")
    assert {"endpoint": "validate", "le": "10.0"} in buckets
    assert {"endpoint": "mutate", "le": "10.0"} in buckets
    assert (
        metric(after, "trainingjob_guard_request_duration_seconds_count", endpoint="validate") >= 4
    )
    assert metric(after, "trainingjob_guard_findings_total", rule="baseline/no-secrets") >= 3
    expiry = metric(after, "trainingjob_guard_certificate_expiry_seconds")
    assert 300 * 24 * 3600 < expiry <= 366 * 24 * 3600
    assert metric(after, "trainingjob_guard_policies_loaded") == 1


def test_readyz_reports_the_policies_and_the_certificate(client: httpx.Client) -> None:
    reply = client.get("/readyz")
    assert reply.status_code == 200
    data = reply.json()
    assert data["status"] == "ok"
    assert data["policies"] == ["baseline"]
    assert data["lastReloadError"] is None
    assert data["certificateExpiresInSeconds"] > 0


# --------------------------------------------------------------------------- under load


class Load(threading.Thread):
    """Sends ``/validate`` requests until stopped (or LOAD_LIMIT seconds), recording each answer.

    With ``fresh_connections`` every request opens a new TLS connection (a new
    handshake), as the API server does after an idle connection closed;
    otherwise one keep-alive connection carries them all.
    """

    def __init__(
        self, server: Server, job: dict[str, Any], *, fresh_connections: bool = False
    ) -> None:
        super().__init__(name="load", daemon=True)
        self.server = server
        self.job = job
        self.fresh_connections = fresh_connections
        self.halt = threading.Event()
        self.responses: list[dict[str, Any]] = []
        self.failures: list[str] = []

    def one(self, http: httpx.Client) -> None:
        body = review("CREATE", self.job)
        try:
            reply = http.post("/validate", json=body)
            data = reply.json()
            if (
                reply.status_code != 200
                or data.get("kind") != "AdmissionReview"
                or data["response"]["uid"] != body["request"]["uid"]
            ):
                self.failures.append(f"{reply.status_code}: {reply.text}")
            else:
                self.responses.append(data["response"])
        except Exception as error:  # recorded, asserted by the test
            self.failures.append(repr(error))

    def run(self) -> None:
        deadline = time.monotonic() + LOAD_LIMIT
        context = self.server.ssl_context()
        with httpx.Client(
            base_url=self.server.url, verify=context, timeout=REQUEST_TIMEOUT
        ) as keep_alive:
            while not self.halt.is_set() and time.monotonic() < deadline:
                if self.fresh_connections:
                    with httpx.Client(
                        base_url=self.server.url, verify=context, timeout=REQUEST_TIMEOUT
                    ) as fresh:
                        self.one(fresh)
                else:
                    self.one(keep_alive)
                time.sleep(0.005)

    def finish(self) -> None:
        self.halt.set()
        self.join(REQUEST_TIMEOUT + 5)
        assert not self.is_alive(), "the load thread did not stop"


@contextlib.contextmanager
def load(server: Server, job: dict[str, Any], **options: bool) -> Iterator[Load]:
    thread = Load(server, job, **options)
    thread.start()
    try:
        yield thread
    finally:
        thread.finish()


def wait_until(what: str, condition: Callable[[], bool], timeout: float = CHANGE_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout}s")
        time.sleep(0.05)


def policy_with(rule_id: str) -> str:
    """The baseline policy plus a deny rule *rule_id* that the valid example breaks."""
    policy = yaml.safe_load((BASELINE_DIR / "policy.yaml").read_text())
    policy["rules"].append({"id": rule_id, "kind": "resources", "instanceTypes": ["ml.c5.*"]})
    return yaml.safe_dump(policy, sort_keys=False)


BROKEN_POLICY = "apiVersion: trainingjob-guard.io/v1alpha1\nkind: TrainingJobPolicy\nrules: [\n"


def replace_file(path: Path, text: str) -> None:
    """Write *text* to a temporary file next to *path*, then rename it over *path*."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def configmap_update(directory: Path, version: int, files: dict[str, str]) -> None:
    """Update *directory* as the kubelet updates a mounted ConfigMap.

    The files go to a new timestamped folder; the ``..data`` symlink is swapped
    to it in one rename; the visible files are symlinks through ``..data``.
    """
    folder = directory / f"..2026_11_27_00_00_0{version}.{version:09d}"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    tmp_link = directory / "..data_tmp"
    tmp_link.symlink_to(folder.name)
    os.replace(tmp_link, directory / "..data")
    for name in files:
        visible = directory / name
        if not visible.is_symlink():
            tmp = directory / f".{name}.link"
            tmp.symlink_to(f"..data/{name}")
            os.replace(tmp, visible)


def rule_marker(response: dict[str, Any]) -> int:
    """Which policy generation answered: 0 baseline, n the one with rule e2e-n."""
    message = response.get("status", {}).get("message", "")
    found = [n for n in (1, 2, 3) if f"[baseline/e2e-{n}]" in message]
    assert len(found) <= 1, message
    return found[0] if found else 0


@pytest.mark.slow
def test_policy_reload_under_load_keeps_answering(tmp_path: Path) -> None:
    policy_dir = copy_baseline(tmp_path / "policies")
    shutil.rmtree(policy_dir / "tests")
    with running(tmp_path, policy_dir=policy_dir, cert_dir=tmp_path / "certs") as server:
        with server.client() as http, load(server, VALID) as traffic:

            def answered_by(generation: int) -> bool:
                return rule_marker(call(http, "/validate", review("CREATE", VALID))) == generation

            wait_until("the load starts", lambda: len(traffic.responses) >= 3)
            assert answered_by(0)
            # (a) a plain file replaced by rename
            replace_file(policy_dir / "policy.yaml", policy_with("e2e-1"))
            wait_until("rule e2e-1 answers", lambda: answered_by(1))
            # the same folder turned into a ConfigMap mount, then updated as the kubelet does
            configmap_update(policy_dir, 2, {"policy.yaml": policy_with("e2e-2")})
            assert (policy_dir / "policy.yaml").is_symlink()
            wait_until("rule e2e-2 answers", lambda: answered_by(2))
            configmap_update(policy_dir, 3, {"policy.yaml": policy_with("e2e-3")})
            wait_until("rule e2e-3 answers", lambda: answered_by(3))
            reloads = http.get("/metrics").text
            assert metric(reloads, "trainingjob_guard_policy_reloads_total", result="success") == 3
            failures = metric(reloads, "trainingjob_guard_policy_reloads_total", result="failure")
            # (b) a broken policy: the last good one stays in force
            configmap_update(policy_dir, 4, {"policy.yaml": BROKEN_POLICY})
            record = server.wait_for_log(lambda r: r.get("event") == "policy-reload-failed")
            assert record["level"] == "error"
            assert record["kept"] == 1
            assert record["errors"]
            served = len(traffic.responses)
            wait_until("the load goes on", lambda: len(traffic.responses) >= served + 5)
            assert answered_by(3)
            after = http.get("/metrics").text
            assert (
                metric(after, "trainingjob_guard_policy_reloads_total", result="failure")
                == failures + 1
            )
            ready = http.get("/readyz").json()
            assert ready["policies"] == ["baseline"]
            assert ready["lastReloadError"]
        assert traffic.failures == []
        generations = [rule_marker(r) for r in traffic.responses]
        assert generations == sorted(generations), "an answer came from an older policy"
        assert generations[0] == 0
        assert generations[-1] == 3
        assert all(not r["allowed"] for r in traffic.responses if rule_marker(r))


# --------------------------------------------------------------------------- certificate rotation


def write_serving(cert_dir: Path, ca_cert: bytes, ca_key: bytes) -> int:
    """A new serving certificate for localhost from the CA, swapped in by rename; its serial."""
    cert, key = generate_serving(ca_cert, ca_key, ["localhost"], ip_addresses=["127.0.0.1"])
    staged = []
    for name, data in ((KEY_FILE, key), (CERT_FILE, cert)):
        tmp = cert_dir / f".{name}.tmp"
        tmp.write_bytes(data)
        staged.append((tmp, cert_dir / name))
    for tmp, final in staged:
        os.replace(tmp, final)
    return x509.load_pem_x509_certificate(cert).serial_number


def served_serial(server: Server) -> int:
    """The serial number of the certificate a new TLS connection gets."""
    context = server.ssl_context()
    with (
        socket.create_connection(("127.0.0.1", server.port), timeout=REQUEST_TIMEOUT) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


@pytest.mark.slow
def test_certificate_rotation_under_load(tmp_path: Path) -> None:
    cert_dir = tmp_path / "certs"
    cert_dir.mkdir()
    ca_cert, ca_key = generate_ca()
    (cert_dir / CA_FILE).write_bytes(ca_cert)
    first = write_serving(cert_dir, ca_cert, ca_key)
    policy_dir = copy_baseline(tmp_path / "policies")
    with running(tmp_path, policy_dir=policy_dir, cert_dir=cert_dir) as server:
        assert server.ca_file == cert_dir / CA_FILE
        assert served_serial(server) == first
        with (
            load(server, VALID) as kept,
            load(server, VALID, fresh_connections=True) as fresh,
        ):
            wait_until(
                "the load starts", lambda: min(len(kept.responses), len(fresh.responses)) >= 3
            )
            second = write_serving(cert_dir, ca_cert, ca_key)
            assert second != first
            wait_until("the new certificate is served", lambda: served_serial(server) == second)
            counts = len(kept.responses), len(fresh.responses)
            wait_until(
                "the load goes on",
                lambda: (
                    len(kept.responses) > counts[0] + 3 and len(fresh.responses) > counts[1] + 3
                ),
            )
        assert kept.failures == []
        assert fresh.failures == []
        assert all(r["allowed"] for r in kept.responses + fresh.responses)
        server.wait_for_log(lambda r: r.get("event") == "certificate-reloaded")
        with server.client() as http:
            text = http.get("/metrics").text
        assert metric(text, "trainingjob_guard_certificate_reloads_total", result="success") >= 1


# --------------------------------------------------------------------------- SIGTERM


@pytest.mark.slow
def test_sigterm_stops_the_server_with_exit_0_and_a_stopped_line(tmp_path: Path) -> None:
    policy_dir = copy_baseline(tmp_path / "policies")
    server = start_server(tmp_path, policy_dir=policy_dir, cert_dir=tmp_path / "certs")
    try:
        with server.client() as http:
            assert http.get("/healthz").status_code == 200
        started = time.monotonic()
        code = server.stop(timeout=5)
        assert code is not None, "still running 5 s after SIGTERM"
        assert time.monotonic() - started < 5
        assert code == 0, f"exit code {code} ({server.log_text()})"
        events = [r.get("event") for r in server.log_records()]
        assert events[-1] == "stopped", events
        assert "Traceback" not in server.log_text()
    finally:
        server.stop()
