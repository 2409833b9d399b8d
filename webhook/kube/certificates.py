"""Self-managed certificates: the webhook keeps its own CA, serving certificate and caBundle.

The chart's ``certificates.mode: self-managed`` starts every replica with
``--self-managed-certs <namespace>/<secret>``. Each replica then:

1. reads the TLS Secret; when it is missing, generates a CA and a serving
   certificate and creates it. Several replicas may race: the API server
   accepts one create, the others get 409 AlreadyExists and read the winner's
   Secret, so all replicas serve the same certificate;
2. renews the serving certificate when it expires within ``renew_before``
   (or no longer covers the Service's DNS names), signing it with the CA kept
   in the Secret, and writes it back with the Secret's resourceVersion: a
   replica that lost the race gets 409 Conflict, reads the new Secret and uses
   it. A CA near its end is replaced too, and the caBundle then holds the new
   and the old CA until the old one expires, so no client is ever left
   without a CA it trusts;
3. writes ``tls.crt``, ``tls.key`` and ``ca.crt`` into the cert dir, where the
   server's reload loop picks up a change;
4. patches ``caBundle`` into every webhook of the named Validating and
   Mutating webhook configurations, when it differs.

``ensure()`` does all of this once; the server calls it at start and then on a
timer. It needs: get/create/update on the one Secret, get/patch on the two
webhook configurations (the chart's Role and ClusterRole grant exactly that).
"""

from __future__ import annotations

import base64
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from kubernetes.client.exceptions import ApiException

from webhook.certs import CA_FILE, CERT_FILE, KEY_FILE, CertFiles, generate_ca, generate_serving

CA_KEY: Final = "ca.key"
RENEW_BEFORE: Final = timedelta(days=30)
CA_RENEW_BEFORE: Final = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Material:
    """What the Secret holds (PEM bytes)."""

    cert: bytes
    key: bytes
    ca: bytes
    ca_key: bytes

    def data(self) -> dict[str, str]:
        """The Secret's ``data`` (base64)."""
        return {
            CERT_FILE: _b64(self.cert),
            KEY_FILE: _b64(self.key),
            CA_FILE: _b64(self.ca),
            CA_KEY: _b64(self.ca_key),
        }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _first_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificates(pem)[0]


def _expires_within(pem: bytes, window: timedelta, now: datetime) -> bool:
    return _first_cert(pem).not_valid_after_utc - now < window


def _covers(pem: bytes, names: Sequence[str]) -> bool:
    try:
        sans = _first_cert(pem).extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return False
    dns = set(sans.value.get_values_for_type(x509.DNSName))
    return set(names) <= dns


class SelfManagedCertificates:
    """Keeps one TLS Secret, the local cert files and the caBundles in step."""

    @classmethod
    def of(cls, api: Any, namespace: str, secret: str, **options: Any) -> SelfManagedCertificates:
        """The keeper of *namespace*/*secret* through the ApiClient *api* (options: __init__'s)."""
        from kubernetes.client import AdmissionregistrationV1Api, CoreV1Api  # noqa: PLC0415

        return cls(CoreV1Api(api), AdmissionregistrationV1Api(api), namespace, secret, **options)

    def __init__(
        self,
        core: Any,
        admission: Any,
        namespace: str,
        secret: str,
        *,
        dns_names: Sequence[str],
        cert_dir: Path,
        validating: str | None = None,
        mutating: str | None = None,
        renew_before: timedelta = RENEW_BEFORE,
        serving_days: int = 365,
        ca_days: int = 3650,
        log: Callable[..., None] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.core = core
        """A ``kubernetes.client.CoreV1Api``."""
        self.admission = admission
        """A ``kubernetes.client.AdmissionregistrationV1Api``."""
        self.namespace = namespace
        self.secret = secret
        self.dns_names = tuple(dns_names)
        self.cert_dir = cert_dir
        self.validating = validating
        self.mutating = mutating
        self.renew_before = renew_before
        self.serving_days = serving_days
        self.ca_days = ca_days
        self.log = log or (lambda *_args, **_fields: None)
        self.now = now

    @property
    def files(self) -> CertFiles:
        """Where the certificate files are written."""
        return CertFiles(
            self.cert_dir / CERT_FILE, self.cert_dir / KEY_FILE, self.cert_dir / CA_FILE
        )

    def ensure(self) -> CertFiles:
        """Create, reuse or renew the Secret; write the files; patch the caBundles."""
        material = self._secret_material()
        self._write(material)
        self._inject(material.ca)
        return self.files

    # -- the Secret --------------------------------------------------------------

    def _secret_material(self) -> Material:
        for _ in range(5):  # bounded: each round either succeeds or sees a newer Secret
            try:
                secret = self.core.read_namespaced_secret(self.secret, self.namespace)
            except ApiException as error:
                if error.status != 404:
                    raise
                material = self._new_material(None)
                try:
                    self.core.create_namespaced_secret(self.namespace, self._body(material))
                except ApiException as race:
                    if race.status == 409:
                        continue  # another replica created it: use theirs
                    raise
                self.log("certificate-secret-created", secret=f"{self.namespace}/{self.secret}")
                return material
            current = _material_of(secret)
            if current is not None and not self._needs_renewal(current):
                return current
            renewed = self._new_material(current)
            body = self._body(renewed)
            body["metadata"]["resourceVersion"] = secret.metadata.resource_version
            try:
                self.core.replace_namespaced_secret(self.secret, self.namespace, body)
            except ApiException as race:
                if race.status == 409:
                    continue  # another replica renewed first: read its Secret
                raise
            self.log("certificate-renewed", secret=f"{self.namespace}/{self.secret}")
            return renewed
        raise RuntimeError(f"Secret {self.namespace}/{self.secret} keeps changing; giving up")

    def _needs_renewal(self, material: Material) -> bool:
        now = self.now()
        return (
            _expires_within(material.cert, self.renew_before, now)
            or _expires_within(material.ca, CA_RENEW_BEFORE, now)
            or not _covers(material.cert, self.dns_names)
        )

    def _new_material(self, old: Material | None) -> Material:
        now = self.now()
        if old is None or _expires_within(old.ca, CA_RENEW_BEFORE, now):
            ca, ca_key = generate_ca(days=self.ca_days)
            # Trust the new CA and, while it lives, the old one: no client loses trust.
            bundle = ca + old.ca if old is not None else ca
        else:
            ca_key, bundle = old.ca_key, old.ca
            ca = _pem_of(_first_cert(old.ca))
        cert, key = generate_serving(ca, ca_key, self.dns_names, days=self.serving_days)
        return Material(cert, key, _current_bundle(bundle, now), ca_key)

    def _body(self, material: Material) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": self.secret,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/managed-by": "trainingjob-guard"},
            },
            "data": material.data(),
        }

    # -- files and caBundles ------------------------------------------------------

    def _write(self, material: Material) -> None:
        self.cert_dir.mkdir(parents=True, exist_ok=True)
        for name, content, mode in (
            (KEY_FILE, material.key, 0o600),
            (CERT_FILE, material.cert, 0o644),
            (CA_FILE, material.ca, 0o644),
        ):
            target = self.cert_dir / name
            if target.exists() and target.read_bytes() == content:
                continue
            handle, temporary = tempfile.mkstemp(dir=self.cert_dir, prefix=f".{name}.")
            with os.fdopen(handle, "wb") as stream:
                stream.write(content)
            os.chmod(temporary, mode)
            os.replace(temporary, target)

    def _inject(self, ca: bytes) -> None:
        bundle = _b64(ca)
        for kind, name in (("validating", self.validating), ("mutating", self.mutating)):
            if not name:
                continue
            if kind == "validating":
                current = self.admission.read_validating_webhook_configuration(name)
            else:
                current = self.admission.read_mutating_webhook_configuration(name)
            patch = [
                {"op": "add", "path": f"/webhooks/{index}/clientConfig/caBundle", "value": bundle}
                for index, hook in enumerate(current.webhooks or [])
                if hook.client_config.ca_bundle != bundle
            ]
            if not patch:
                continue
            if kind == "validating":
                self.admission.patch_validating_webhook_configuration(name, patch)
            else:
                self.admission.patch_mutating_webhook_configuration(name, patch)
            self.log("ca-bundle-injected", webhook=f"{kind}/{name}", webhooks=len(patch))


def _material_of(secret: Any) -> Material | None:
    data = secret.data or {}
    try:
        values = [base64.b64decode(data[name]) for name in (CERT_FILE, KEY_FILE, CA_FILE, CA_KEY)]
    except (KeyError, ValueError):
        return None
    return Material(*values)


def _pem_of(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.PEM)


def _current_bundle(bundle: bytes, now: datetime) -> bytes:
    """The CAs of *bundle* still valid at *now*, newest first."""
    kept = [c for c in x509.load_pem_x509_certificates(bundle) if c.not_valid_after_utc > now]
    return b"".join(_pem_of(c) for c in kept)
