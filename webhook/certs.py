"""TLS certificates of the admission webhook server (``trainingjob-guard serve``).

The kube-apiserver only calls admission webhooks over HTTPS and verifies the
server against the ``caBundle`` of the webhook configuration. This module:

* generates a private CA and a serving certificate signed by it
  (:func:`generate_ca`, :func:`generate_serving`), for development and for
  clusters without cert-manager;
* manages a certificate directory with the file names of a Kubernetes TLS
  Secret and of cert-manager: ``tls.crt``, ``tls.key``, ``ca.crt``
  (:func:`ensure_cert_dir`): files that exist are used as they are, missing
  ones are generated;
* loads a server :class:`ssl.SSLContext` with errors that name the file and
  say what is wrong (:func:`load_server_context`);
* rotates the served certificate of a running server without a restart
  (:class:`RotatingContext`).

Rotation, and what was verified about SNI: uvicorn (like any
``asyncio`` server) takes one ``SSLContext`` when it starts. :class:`RotatingContext`
gives it a *front* context whose ``sni_callback`` switches every new handshake
to the current context (``ssl_object.context = current``), so reloading swaps
a reference and never mutates a context in use. With OpenSSL 1.1.1+ (the only
versions CPython 3.10+ supports), the servername callback runs for *every*
ClientHello, also when the client sends no SNI (Python clients never send SNI
for an IP address such as ``127.0.0.1``; the callback then gets
``server_name=None``). The tests check this for SNI and non-SNI clients, so a
change of that behaviour would fail them. Calling ``front.load_cert_chain()``
on a live context also changes the certificate of later handshakes (tested
too), but it mutates a context that other threads may be handshaking with,
which OpenSSL does not make safe; so the front context is loaded once, at
construction, as a fallback, and is never mutated afterwards. As a result
:meth:`RotatingContext.reload` may be called from any thread.

Decision: the generated CA's private key is never written to disk. It is
needed only to sign the serving certificate; once discarded, nobody can mint
another certificate that the apiserver would trust. Regenerating (an empty
directory) therefore creates a new CA, and the webhook configuration's
``caBundle`` must be updated with the new ``ca.crt``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import ssl
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CA_FILE",
    "CERT_FILE",
    "KEY_FILE",
    "CertFiles",
    "CertificateError",
    "FileStamp",
    "RotatingContext",
    "Signature",
    "certificate_expiry",
    "ensure_cert_dir",
    "generate_ca",
    "generate_serving",
    "load_server_context",
    "seconds_to_expiry",
]

CERT_FILE: Final = "tls.crt"
"""Serving certificate (chain) file name, as in a Kubernetes TLS Secret."""
KEY_FILE: Final = "tls.key"
"""Serving private key file name, as in a Kubernetes TLS Secret."""
CA_FILE: Final = "ca.crt"
"""CA certificate file name, as written by cert-manager."""

BACKDATE: Final = dt.timedelta(minutes=5)
"""How far in the past certificates start to be valid (clock skew between nodes)."""

LOCAL_DNS_NAMES: Final = ("localhost",)
LOCAL_IP_ADDRESSES: Final = ("127.0.0.1", "::1")

_CN_MAX: Final = 64  # upper bound of a commonName (RFC 5280)
_PEM_BEGIN: Final = b"-----BEGIN "
_SIGNING_KEYS: Final = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    dsa.DSAPrivateKey,
)

FileStamp: TypeAlias = tuple[str, int, int, int]
"""(resolved real path, mtime_ns, size, inode) of a file; -1s when it is missing."""
Signature: TypeAlias = tuple[FileStamp, FileStamp]
"""The stamps of the certificate file and of the key file."""


class CertificateError(Exception):
    """A certificate or key is missing, unreadable, malformed or does not match.

    Attributes:
        path: The file concerned, when there is one.
    """

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


# --------------------------------------------------------------------------- generation


def generate_ca(common_name: str = "trainingjob-guard CA", days: int = 3650) -> tuple[bytes, bytes]:
    """Generate a self-signed CA; return its PEM certificate and PEM (PKCS#8) private key.

    The key is ECDSA P-256: a small key and certificate, fast to generate and
    fast in handshakes (an ECDSA signature costs a fraction of an RSA-2048
    one), and accepted by the kube-apiserver and Go's ``crypto/tls``, which
    verify the webhook's certificate.

    Args:
        common_name: The CA's subject common name (at most 64 characters).
        days: Validity, counted from now.

    Raises:
        ValueError: ``days`` is not positive or ``common_name`` is too long.
    """
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    if not 0 < len(common_name) <= _CN_MAX:
        raise ValueError(f"common_name must be 1 to {_CN_MAX} characters, got {len(common_name)}")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def generate_serving(
    ca_cert_pem: bytes,
    ca_key_pem: bytes,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str] = ("127.0.0.1",),
    days: int = 365,
) -> tuple[bytes, bytes]:
    """Generate a serving certificate signed by the CA; return PEM certificate and PEM key.

    The kube-apiserver (Go) checks only the subjectAltName, never the common
    name, so every DNS name and IP address becomes a SAN. An IP literal given
    in ``dns_names`` becomes an IP SAN (a DNS SAN holding an IP never
    matches). Validity starts :data:`BACKDATE` in the past (clock skew) and
    never outlives the CA.

    Args:
        ca_cert_pem: The CA certificate (PEM).
        ca_key_pem: The CA's unencrypted private key (PEM).
        dns_names: DNS names of the service, e.g. ``guard.guard-system.svc``.
        ip_addresses: IP addresses the server is reached at.
        days: Validity, counted from now.

    Raises:
        CertificateError: The CA certificate or key is unusable, or do not match.
        ValueError: No name at all, an invalid IP address, or ``days`` not positive.
    """
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    names, ips = _split_names(dns_names, ip_addresses)
    if not names and not ips:
        raise ValueError("a serving certificate needs at least one DNS name or IP address")
    ca_cert = _parse_ca_cert(ca_cert_pem)
    ca_key = _parse_ca_key(ca_key_pem)
    if _public_der(ca_key) != _spki(ca_cert):
        raise CertificateError("the CA private key does not match the CA certificate")

    key = ec.generate_private_key(ec.SECP256R1())
    cn = next((n for n in names if len(n) <= _CN_MAX), "trainingjob-guard")
    now = dt.datetime.now(dt.UTC)
    not_after = min(now + dt.timedelta(days=days), ca_cert.not_valid_after_utc)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    sans += [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_id(ca_cert), critical=False)
        .sign(ca_key, _hash_for(ca_key))
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _key_pem(key: PrivateKeyTypes) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _split_names(
    dns_names: Sequence[str], ip_addresses: Sequence[str]
) -> tuple[list[str], list[ipaddress.IPv4Address | ipaddress.IPv6Address]]:
    """Deduplicate, keep order, and move IP literals found among the DNS names to the IPs."""
    names: list[str] = []
    ips: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for raw in dns_names:
        name = raw.strip()
        try:
            ip = ipaddress.ip_address(name)
        except ValueError:
            if name and name not in names:
                names.append(name)
        else:
            if ip not in ips:
                ips.append(ip)
    for raw in ip_addresses:
        try:
            ip = ipaddress.ip_address(raw.strip())
        except ValueError:
            raise ValueError(f"{raw!r} is not an IP address") from None
        if ip not in ips:
            ips.append(ip)
    return names, ips


def _parse_ca_cert(pem: bytes) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise CertificateError(f"the CA certificate is not a PEM certificate: {exc}") from None
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertificateError("the CA certificate is not a CA (BasicConstraints ca=True missing)")
    return cert


def _parse_ca_key(pem: bytes) -> CertificateIssuerPrivateKeyTypes:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CertificateError(f"the CA private key cannot be loaded: {exc}") from None
    if not isinstance(key, _SIGNING_KEYS):
        raise CertificateError(f"the CA private key ({type(key).__name__}) cannot sign")
    return key


def _hash_for(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256 | None:
    # Ed25519/Ed448 sign without a separate digest.
    return (
        None
        if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey)
        else hashes.SHA256()
    )


def _authority_key_id(ca_cert: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    try:
        ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key())  # type: ignore[arg-type]
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski)


def _public_der(key: PrivateKeyTypes) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --------------------------------------------------------------------------- directory


@dataclass(frozen=True)
class CertFiles:
    """The files of a certificate directory.

    Attributes:
        cert: The serving certificate (chain), ``tls.crt``.
        key: The serving private key, ``tls.key``.
        ca: The CA certificate, ``ca.crt``, when present (the webhook's ``caBundle``).
    """

    cert: Path
    key: Path
    ca: Path | None


def ensure_cert_dir(cert_dir: Path, dns_names: Sequence[str]) -> tuple[CertFiles, bool]:
    """Return the certificate files of *cert_dir*, generating them if absent, and whether they were.

    If ``tls.crt`` and ``tls.key`` both exist they are used as they are (not
    even read: :func:`load_server_context` validates them). If neither
    exists, a new CA and a serving certificate for ``localhost``,
    ``127.0.0.1``, ``::1`` and every name of *dns_names* are written: the
    directory is created with mode 0700, ``tls.key`` gets mode 0600, the
    certificates 0644, and every file is written atomically (temporary file
    then ``os.replace``). The CA key is not kept (see the module docstring).

    Raises:
        CertificateError: Only one of ``tls.crt`` and ``tls.key`` exists (nothing is
            overwritten), or the files cannot be written.
    """
    cert_dir = Path(cert_dir)
    files = CertFiles(cert_dir / CERT_FILE, cert_dir / KEY_FILE, cert_dir / CA_FILE)
    # lexists: a dangling symlink (a broken Secret mount) counts as present, not as absent.
    has_cert, has_key = os.path.lexists(files.cert), os.path.lexists(files.key)
    if has_cert and has_key:
        ca = files.ca if files.ca is not None and files.ca.exists() else None
        return CertFiles(files.cert, files.key, ca), False
    if has_cert != has_key:
        present, missing = (files.cert, files.key) if has_cert else (files.key, files.cert)
        raise CertificateError(
            f"{missing} is missing but {present} exists; refusing to overwrite half of a "
            f"certificate/key pair: provide both files, or remove {present} to generate new ones",
            path=missing,
        )

    ca_cert, ca_key = generate_ca()
    cert, key = generate_serving(
        ca_cert, ca_key, [*LOCAL_DNS_NAMES, *dns_names], ip_addresses=LOCAL_IP_ADDRESSES
    )
    del ca_key
    try:
        if not cert_dir.is_dir():
            cert_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            cert_dir.chmod(0o700)  # mkdir's mode is masked by the umask
        # Every temporary file is complete before the first rename, so a failure
        # leaves the directory as it was and a crash at worst between two renames.
        staged = [
            (_stage(cert_dir, CA_FILE, ca_cert, 0o644), cert_dir / CA_FILE),
            (_stage(cert_dir, KEY_FILE, key, 0o600), files.key),
            (_stage(cert_dir, CERT_FILE, cert, 0o644), files.cert),
        ]
        try:
            for tmp, final in staged:
                os.replace(tmp, final)
        finally:
            for tmp, _ in staged:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        _fsync_dir(cert_dir)
    except OSError as exc:
        raise CertificateError(f"cannot write certificates to {cert_dir}: {exc}", cert_dir) from exc
    return CertFiles(files.cert, files.key, cert_dir / CA_FILE), True


def _stage(directory: Path, name: str, data: bytes, mode: int) -> Path:
    """Write *data* to a new temporary file in *directory* with *mode*; return its path."""
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- loading


@dataclass(frozen=True)
class _Loaded:
    context: ssl.SSLContext
    expiry: dt.datetime
    fingerprint: bytes


def load_server_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """Return a server SSLContext (TLS 1.2 minimum) serving the certificate and key files.

    The files are checked first, so that a problem is reported with the file
    and what is wrong (missing, unreadable, empty, not PEM, encrypted key,
    key does not match the certificate) rather than ssl's bare errors. An
    expired certificate is loaded all the same: check :func:`seconds_to_expiry`.

    Raises:
        CertificateError: The files cannot be used; the message names the file.
    """
    return _load(Path(cert_file), Path(key_file)).context


def _server_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _load(cert_file: Path, key_file: Path) -> _Loaded:
    certs = _read_certs(cert_file)
    key = _read_key(key_file)
    if _public_der(key) != _spki(certs[0]):
        raise CertificateError(
            f"private key {key_file} does not match the certificate in {cert_file}", key_file
        )
    ctx = _server_context()
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as exc:  # e.g. the files changed since they were read
        raise CertificateError(
            f"cannot load certificate {cert_file} with key {key_file}: {exc}", cert_file
        ) from exc
    leaf = certs[0]
    return _Loaded(ctx, leaf.not_valid_after_utc, leaf.fingerprint(hashes.SHA256()))


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CertificateError(f"{what} file {path} does not exist", path) from None
    except OSError as exc:
        raise CertificateError(f"cannot read {what} file {path}: {exc.strerror}", path) from None
    if not data.strip():
        raise CertificateError(f"{what} file {path} is empty", path)
    return data


def _read_certs(path: Path) -> list[x509.Certificate]:
    data = _read(path, "certificate")
    if b"-----BEGIN CERTIFICATE-----" not in data:
        if b"PRIVATE KEY-----" in data:
            hint = "it holds a private key (are the certificate and key files swapped?)"
        elif _PEM_BEGIN in data:
            hint = 'it has no "-----BEGIN CERTIFICATE-----" block'
        else:
            hint = "it is not PEM (a certificate starts with -----BEGIN CERTIFICATE-----)"
        raise CertificateError(f"certificate file {path} holds no certificate: {hint}", path)
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateError(
            f"certificate file {path} is not a valid PEM certificate: {exc}", path
        ) from None


def _read_key(path: Path) -> PrivateKeyTypes:
    data = _read(path, "private key")
    if b"PRIVATE KEY-----" not in data:
        if b"-----BEGIN CERTIFICATE-----" in data:
            hint = "it holds a certificate (are the certificate and key files swapped?)"
        else:
            hint = "it is not a PEM private key (-----BEGIN PRIVATE KEY-----)"
        raise CertificateError(f"private key file {path} holds no private key: {hint}", path)
    try:
        return serialization.load_pem_private_key(data, password=None)
    except TypeError:  # cryptography's way to say the key is encrypted
        raise CertificateError(
            f"private key file {path} is encrypted; an unencrypted key is required", path
        ) from None
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise CertificateError(
            f"private key file {path} is not a valid private key: {exc}", path
        ) from None


# --------------------------------------------------------------------------- expiry


def certificate_expiry(cert_file: Path) -> dt.datetime:
    """Return the end of validity (aware, UTC) of the first certificate in *cert_file*.

    Raises:
        CertificateError: The file is missing or holds no certificate.
    """
    return _read_certs(Path(cert_file))[0].not_valid_after_utc


def seconds_to_expiry(cert_file: Path, now: dt.datetime | None = None) -> float:
    """Return the seconds until the certificate in *cert_file* expires (negative once expired).

    Raises:
        CertificateError: The file is missing or holds no certificate.
        ValueError: *now* is a naive datetime.
    """
    if now is None:
        now = dt.datetime.now(dt.UTC)
    elif now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return (certificate_expiry(cert_file) - now).total_seconds()


# --------------------------------------------------------------------------- rotation


def _stamp(path: Path) -> FileStamp:
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return (real, -1, -1, -1)
    return (real, st.st_mtime_ns, st.st_size, st.st_ino)


class RotatingContext:
    """A server SSLContext whose certificate can be replaced while the server runs.

    Give :attr:`context` (the *front* context) to the server once, e.g. uvicorn's
    ``Config(ssl_context_factory=lambda config, default: rotating.context)``.
    Its ``sni_callback`` moves each new handshake to the current context, so
    after :meth:`reload` new connections get the new certificate, with or
    without SNI, while established connections keep theirs and are not
    affected. Watch for changes by polling :meth:`reload_if_changed` (or
    comparing :meth:`signature`): a Kubernetes Secret update, which swaps
    the ``..data`` symlink, changes the resolved paths and inodes.

    Reload failures raise :class:`CertificateError` and keep the previous
    certificate in service. Reloading is thread-safe: it replaces a
    reference and never mutates a context in use.
    """

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        """Load the files.

        Raises:
            CertificateError: The files cannot be used.
        """
        self._cert_file = Path(cert_file)
        self._key_file = Path(key_file)
        self._lock = threading.Lock()
        self._signature = self.signature()
        self._current = _load(self._cert_file, self._key_file)
        front = _server_context()
        # The front context also holds the first certificate, so it is complete on
        # its own; it is never reloaded (see the module docstring).
        front.load_cert_chain(self._cert_file, self._key_file)
        front.sni_callback = self._on_handshake
        self._front = front

    def _on_handshake(
        self,
        ssl_object: ssl.SSLObject | ssl.SSLSocket,
        server_name: str | None,
        front: ssl.SSLContext,
    ) -> None:
        # Called by OpenSSL for every ClientHello, server_name None without SNI.
        ssl_object.context = self._current.context

    @property
    def context(self) -> ssl.SSLContext:
        """The front context to give the server, once."""
        return self._front

    @property
    def cert_file(self) -> Path:
        """The certificate file."""
        return self._cert_file

    @property
    def key_file(self) -> Path:
        """The private key file."""
        return self._key_file

    @property
    def expiry(self) -> dt.datetime:
        """End of validity (aware, UTC) of the certificate being served."""
        return self._current.expiry

    def signature(self) -> Signature:
        """Return a cheap stamp of both files that changes when either file changes."""
        return (_stamp(self._cert_file), _stamp(self._key_file))

    def reload(self) -> bool:
        """Load the files again and serve them to new connections.

        Returns:
            Whether the served certificate changed (False: the files hold the same one).

        Raises:
            CertificateError: The files cannot be used; the previous certificate is kept.
        """
        with self._lock:
            signature = self.signature()
            # Recorded before loading, even when it fails: reload_if_changed then
            # waits for the next change instead of failing at every poll.
            self._signature = signature
            loaded = _load(self._cert_file, self._key_file)
            changed = loaded.fingerprint != self._current.fingerprint
            self._current = loaded
            return changed

    def reload_if_changed(self) -> bool:
        """Reload if :meth:`signature` changed since the last load (or attempt).

        Returns:
            Whether the files changed and were reloaded.

        Raises:
            CertificateError: The changed files cannot be used; the previous
                certificate is kept, and the same files are not retried.
        """
        if self.signature() == self._signature:
            return False
        self.reload()
        return True
