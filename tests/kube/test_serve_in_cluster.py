"""The webhook as the chart deploys it, against a fake API server.

No kube-apiserver runs here. The chart is rendered with Helm's own engine; its
webhook configurations are created in tests/kube/fake_apiserver.py, which answers
the Kubernetes API over HTTP; ``trainingjob-guard serve`` runs as a real process
with the chart's flags and a kubeconfig pointing at the fake server. The test then
calls the server as kube-apiserver would: at the Service path of the rendered
webhook configuration, over HTTPS verified with the caBundle the webhook injected.
"""

from __future__ import annotations

import base64
import json
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python
import httpx
import pytest
import yaml
from cryptography import x509

from tests.conftest import EXAMPLES, PROJECT
from tests.kube.fake_apiserver import FakeApiServer
from webhook.certs import generate_serving

CHART = PROJECT / "charts" / "trainingjob-guard"
RELEASE = "guard"
NAMESPACE = "guard-system"
SERVICE_HOST = f"{RELEASE}-trainingjob-guard.{NAMESPACE}.svc"
"""The name kube-apiserver connects to (and verifies), from the webhook's clientConfig.service."""

TIER_POLICY = """\
apiVersion: trainingjob-guard.io/v1alpha1
kind: TrainingJobPolicy
metadata: {name: prod-vpc}
id: prod-vpc
match:
  namespaceSelector: {matchLabels: {tier: prod}}
rules:
  - {id: vpc, kind: network, requireVpc: true}
"""

pytestmark = pytest.mark.slow
SNI = {"sni_hostname": SERVICE_HOST}


def _render(values: dict[str, Any]) -> list[dict[str, Any]]:
    with helm_python.Chart.load(CHART) as chart:
        manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE)
    return [
        doc
        for path, text in sorted(manifests.items())
        if not path.endswith("NOTES.txt")
        for doc in yaml.safe_load_all(text)
        if doc
    ]


def _one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    [found] = [
        o
        for o in objects
        if o["kind"] == kind and not (o["metadata"].get("annotations") or {}).get("helm.sh/hook")
    ]
    return found


def _kubeconfig(folder: Path, server: FakeApiServer) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "fake", "cluster": {"server": server.url}}],
                "users": [{"name": "guard", "user": {"token": "t"}}],
                "contexts": [
                    {
                        "name": "fake",
                        "context": {"cluster": "fake", "user": "guard", "namespace": NAMESPACE},
                    }
                ],
                "current-context": "fake",
            }
        )
    )
    return path


class Replica:
    """One `trainingjob-guard serve` process started with the chart's arguments."""

    def __init__(self, args: list[str], folder: Path) -> None:
        self.stderr = (folder / "stderr.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webhook", *args],
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        self.port = 0
        while time.monotonic() < deadline and not self.port:
            line = self.process.stdout.readline()
            if not line:
                break
            match = re.search(r"serving https://\S+:(\d+)", line)
            if match:
                self.port = int(match.group(1))
        assert self.port, (folder / "stderr.log").read_text()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:
                self.process.kill()
            assert self.process.stdout is not None
            self.process.stdout.close()
            self.stderr.close()


def _chart_args(
    deployment: dict[str, Any], folder: Path, kubeconfig: Path, policy: Path
) -> list[str]:
    """The rendered container args, with the pod's paths and port moved to this machine."""
    args = [str(a) for a in deployment["spec"]["template"]["spec"]["containers"][0]["args"]]
    replace = {"/certs": str(folder / "certs"), "/policies": str(policy.parent)}
    out: list[str] = []
    for arg in args:
        if arg in replace:
            out.append(replace[arg])
        elif arg.startswith("/app/policies/"):
            out.append(str(PROJECT / "policies" / arg.removeprefix("/app/policies/")))
        else:
            out.append(arg)
    port = out.index("--port")
    out[port + 1] = "0"
    host = out.index("--host")
    out[host + 1] = "127.0.0.1"
    return [
        *out,
        "--kubeconfig",
        str(kubeconfig),
        "--reload-interval",
        "0.2",
        "--certificate-check-interval",
        "0.5",
    ]


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[FakeApiServer, list[dict[str, Any]], Path]]:
    objects = _render({"certificates": {"mode": "self-managed"}})
    with FakeApiServer() as server:
        server.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        server.create(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": "team-a", "labels": {"tier": "prod"}},
            }
        )
        for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            server.create(_one(objects, kind))
        yield server, objects, _kubeconfig(tmp_path, server)


def _review(obj: dict[str, Any], namespace: str) -> bytes:
    return json.dumps(
        {
            "apiVersion": "admission.k8s.io/v1",
            "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "kind": {
                    "group": "sagemaker.services.k8s.aws",
                    "version": "v1alpha1",
                    "kind": "TrainingJob",
                },
                "name": obj["metadata"]["name"],
                "namespace": namespace,
                "operation": "CREATE",
                "userInfo": {"username": "alice", "groups": []},
                "object": obj,
            },
        }
    ).encode()


def _ca_bundle(server: FakeApiServer, kind: str) -> bytes:
    stored = server.get("admissionregistration.k8s.io/v1", kind, f"{RELEASE}-trainingjob-guard")
    assert stored is not None
    bundles = {hook["clientConfig"].get("caBundle") for hook in stored["webhooks"]}
    assert len(bundles) == 1
    bundle = bundles.pop()
    assert bundle, "the caBundle was not injected"
    return base64.b64decode(bundle)


def _serial(port: int, ca: bytes) -> int:
    context = ssl.create_default_context(cadata=ca.decode())
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=SERVICE_HOST) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def test_self_managed_certificates_and_namespace_labels(
    cluster: tuple[FakeApiServer, list[dict[str, Any]], Path], tmp_path: Path
) -> None:
    server, objects, kubeconfig = cluster
    policy = tmp_path / "policies" / "prod-vpc.yaml"
    policy.parent.mkdir()
    policy.write_text(TIER_POLICY)
    deployment = _one(objects, "Deployment")
    validating = _one(objects, "ValidatingWebhookConfiguration")
    path = validating["webhooks"][0]["clientConfig"]["service"]["path"]
    assert path == "/validate"

    first = Replica(_chart_args(deployment, tmp_path / "one", kubeconfig, policy), tmp_path)
    try:
        # First start: the Secret exists and both caBundles carry its CA.
        secret = server.get("v1", "Secret", f"{RELEASE}-trainingjob-guard-tls", NAMESPACE)
        assert secret is not None
        ca = _ca_bundle(server, "ValidatingWebhookConfiguration")
        assert ca == _ca_bundle(server, "MutatingWebhookConfiguration")
        assert ca == base64.b64decode(secret["data"]["ca.crt"])
        job = yaml.safe_load((EXAMPLES / "training-job.yaml").read_text())
        del job["spec"]["vpcConfig"]
        with httpx.Client(
            verify=ssl.create_default_context(cadata=ca.decode()), timeout=10
        ) as client:
            url = f"https://127.0.0.1:{first.port}{path}"
            answer = client.post(url, content=_review(job, "team-a"), extensions=SNI).json()[
                "response"
            ]
            # team-a is labelled tier=prod in the API server: the policy applies, no guessing.
            assert answer["allowed"] is False
            assert "[prod-vpc/vpc]" in answer["status"]["message"]
            assert "policy.namespace-labels-unknown" not in json.dumps(answer)
            other = client.post(url, content=_review(job, NAMESPACE), extensions=SNI).json()[
                "response"
            ]
            assert other["allowed"] is True

        # A second replica reuses the Secret: same certificate, no new Secret write.
        writes_before = [r for r in server.writes() if "/secrets" in r.path]
        second = Replica(_chart_args(deployment, tmp_path / "two", kubeconfig, policy), tmp_path)
        try:
            assert [r for r in server.writes() if "/secrets" in r.path] == writes_before
            assert _serial(second.port, ca) == _serial(first.port, ca)
        finally:
            second.stop()

        # An expiring certificate in the Secret is renewed while requests keep flowing.
        old_serial = _serial(first.port, ca)
        stored = server.get("v1", "Secret", f"{RELEASE}-trainingjob-guard-tls", NAMESPACE)
        assert stored is not None
        ca_key = base64.b64decode(stored["data"]["ca.key"])
        cert, key = generate_serving(
            ca, ca_key, [SERVICE_HOST, f"{SERVICE_HOST}.cluster.local"], days=5
        )
        stored["data"]["tls.crt"] = base64.b64encode(cert).decode()
        stored["data"]["tls.key"] = base64.b64encode(key).decode()
        server.put(stored)
        failures: list[str] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(
                verify=ssl.create_default_context(cadata=ca.decode()), timeout=10
            ) as client:
                while not stop.is_set():
                    response = client.post(
                        f"https://127.0.0.1:{first.port}{path}",
                        content=_review(job, NAMESPACE),
                        extensions=SNI,
                    )
                    if response.status_code != 200 or not response.json()["response"]["allowed"]:
                        failures.append(response.text)

        worker = threading.Thread(target=load)
        worker.start()
        try:
            deadline = time.monotonic() + 20
            renewed = False
            while time.monotonic() < deadline and not renewed:
                time.sleep(0.2)
                current = server.get("v1", "Secret", f"{RELEASE}-trainingjob-guard-tls", NAMESPACE)
                assert current is not None
                served = x509.load_pem_x509_certificate(
                    base64.b64decode(current["data"]["tls.crt"])
                )
                renewed = (
                    served.not_valid_after_utc.year
                    > x509.load_pem_x509_certificate(cert).not_valid_after_utc.year
                )
            assert renewed, "the expiring certificate was not renewed"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _serial(first.port, ca) in (
                old_serial,
                x509.load_pem_x509_certificate(cert).serial_number,
            ):
                time.sleep(0.2)
            assert _serial(first.port, ca) == served.serial_number  # served to new connections
        finally:
            stop.set()
            worker.join(timeout=15)
        assert failures == []
        assert (
            _ca_bundle(server, "ValidatingWebhookConfiguration") == ca
        )  # same CA: bundle unchanged
    finally:
        first.stop()
