"""Self-managed certificates against a fake API server (no kube-apiserver runs here).

The real ``kubernetes`` client talks HTTP to tests/kube/fake_apiserver.py, which
answers like the API server for the calls made: Secrets with resourceVersion
conflicts, webhook configurations with JSON patches.
"""

from __future__ import annotations

import base64
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from kubernetes.client import AdmissionregistrationV1Api, CoreV1Api

from tests.kube.fake_apiserver import FakeApiServer
from webhook.certs import load_server_context
from webhook.kube.certificates import SelfManagedCertificates

NAMESPACE = "trainingjob-guard"
SECRET = "trainingjob-guard-tls"
NAMES = (
    "trainingjob-guard.trainingjob-guard.svc",
    "trainingjob-guard.trainingjob-guard.svc.cluster.local",
)


def _webhooks(kind: str) -> dict[str, Any]:
    prefix = "validate" if kind == "Validating" else "mutate"
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": f"{kind}WebhookConfiguration",
        "metadata": {"name": "trainingjob-guard"},
        "webhooks": [
            {
                "name": f"{prefix}.trainingjob-guard.trainingjob-guard.svc",
                "clientConfig": {
                    "service": {
                        "name": "trainingjob-guard",
                        "namespace": NAMESPACE,
                        "path": f"/{prefix}",
                    }
                },
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
            }
        ],
    }


@pytest.fixture
def server() -> Iterator[FakeApiServer]:
    with FakeApiServer() as fake:
        fake.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}})
        fake.create(_webhooks("Validating"))
        fake.create(_webhooks("Mutating"))
        yield fake


def _manager(
    server: FakeApiServer, folder: Path, *, serving_days: int = 365, ca_days: int = 3650
) -> SelfManagedCertificates:
    api = server.api_client()
    return SelfManagedCertificates(
        CoreV1Api(api),
        AdmissionregistrationV1Api(api),
        NAMESPACE,
        SECRET,
        dns_names=NAMES,
        cert_dir=folder,
        validating="trainingjob-guard",
        mutating="trainingjob-guard",
        serving_days=serving_days,
        ca_days=ca_days,
    )


def _ca_bundles(server: FakeApiServer) -> list[str]:
    bundles: list[str] = []
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        stored = server.get("admissionregistration.k8s.io/v1", kind, "trainingjob-guard")
        assert stored is not None
        bundles.extend(hook["clientConfig"].get("caBundle", "") for hook in stored["webhooks"])
    return bundles


def _secret(server: FakeApiServer) -> dict[str, Any]:
    stored = server.get("v1", "Secret", SECRET, NAMESPACE)
    assert stored is not None
    return stored


def test_first_start_creates_the_secret_and_injects_the_ca_bundle(
    server: FakeApiServer, tmp_path: Path
) -> None:
    files = _manager(server, tmp_path / "a").ensure()
    secret = _secret(server)
    assert secret["type"] == "kubernetes.io/tls"
    assert set(secret["data"]) == {"tls.crt", "tls.key", "ca.crt", "ca.key"}
    ca = base64.b64decode(secret["data"]["ca.crt"])
    assert files.ca is not None
    assert files.ca.read_bytes() == ca
    assert files.cert.read_bytes() == base64.b64decode(secret["data"]["tls.crt"])
    assert oct(files.key.stat().st_mode & 0o777) == "0o600"
    assert _ca_bundles(server) == [base64.b64encode(ca).decode()] * 2
    # The served certificate verifies against the injected CA for the Service's name.
    load_server_context(files.cert, files.key)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(NAMES) <= set(sans.get_values_for_type(x509.DNSName))
    client = ssl.create_default_context(cadata=ca.decode())
    assert client is not None


def test_a_second_replica_reuses_the_secret_and_writes_nothing(
    server: FakeApiServer, tmp_path: Path
) -> None:
    first = _manager(server, tmp_path / "a").ensure()
    server.clear_requests()
    second = _manager(server, tmp_path / "b").ensure()
    assert second.cert.read_bytes() == first.cert.read_bytes()
    assert second.key.read_bytes() == first.key.read_bytes()
    assert server.writes() == []  # no Secret update, no caBundle patch: all in step


def test_replicas_racing_to_create_end_with_one_certificate(
    server: FakeApiServer, tmp_path: Path
) -> None:
    """The loser of the create gets 409 AlreadyExists and adopts the winner's Secret."""
    _manager(server, tmp_path / "winner").ensure()
    # The late replica read before the winner's create landed: its first GET says 404.
    server.fail(f"/api/v1/namespaces/{NAMESPACE}/secrets/{SECRET}", method="GET", status=404)
    files = _manager(server, tmp_path / "late").ensure()
    assert files.cert.read_bytes() == (tmp_path / "winner" / "tls.crt").read_bytes()
    posts = [r for r in server.requests if r.method == "POST"]
    assert len(posts) == 2  # both created; the second got AlreadyExists and read the Secret


def test_an_expiring_certificate_is_renewed_with_the_same_ca(
    server: FakeApiServer, tmp_path: Path
) -> None:
    files = _manager(server, tmp_path / "a", serving_days=10).ensure()  # expires within 30 days
    old_cert = files.cert.read_bytes()
    old_ca = files.ca.read_bytes() if files.ca else b""
    renewed = _manager(server, tmp_path / "a").ensure()
    assert renewed.cert.read_bytes() != old_cert
    assert renewed.ca is not None
    assert renewed.ca.read_bytes() == old_ca  # same CA: the caBundle needs no change
    assert base64.b64decode(_secret(server)["data"]["tls.crt"]) == renewed.cert.read_bytes()
    new = x509.load_pem_x509_certificate(renewed.cert.read_bytes())
    assert new.not_valid_after_utc > datetime.now(UTC) + timedelta(days=300)
    patches = [r for r in server.requests if r.method == "PATCH"]
    assert len(patches) == 2  # the first injection only


def test_a_renewal_race_is_settled_by_the_resource_version(
    server: FakeApiServer, tmp_path: Path
) -> None:
    """Two replicas renew from the same old Secret: the second write is a 409 Conflict,
    after which it reads and serves the first one's certificate."""
    _manager(server, tmp_path / "a", serving_days=10).ensure()
    one = _manager(server, tmp_path / "one")
    two = _manager(server, tmp_path / "two")
    stale = two.core.read_namespaced_secret(SECRET, NAMESPACE)  # what `two` saw first
    reads = iter([stale])
    real_read = two.core.read_namespaced_secret
    two.core.read_namespaced_secret = lambda name, ns: next(reads, None) or real_read(name, ns)
    one.ensure()
    files = two.ensure()
    assert files.cert.read_bytes() == (tmp_path / "one" / "tls.crt").read_bytes()
    conflicts = [r for r in server.requests if r.method == "PUT"]
    assert len(conflicts) == 2  # one's renewal, then two's stale write (409)


def test_a_ca_near_its_end_is_replaced_and_both_cas_are_trusted(
    server: FakeApiServer, tmp_path: Path
) -> None:
    files = _manager(server, tmp_path / "a", ca_days=200).ensure()  # CA within a year of its end
    old_ca = files.ca.read_bytes() if files.ca else b""
    renewed = _manager(server, tmp_path / "a").ensure()
    assert renewed.ca is not None
    bundle = renewed.ca.read_bytes()
    cas = x509.load_pem_x509_certificates(bundle)
    assert len(cas) == 2
    assert old_ca.strip() in bundle
    assert _ca_bundles(server) == [base64.b64encode(bundle).decode()] * 2
