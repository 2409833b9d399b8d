"""Server ``SSLContext`` s from certificate files, with errors that name the file."""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
)

from webhook.certs.base import PEM_BEGIN, CertificateError
from webhook.certs.generate import public_der, spki


@dataclass(frozen=True)
class Loaded:
    """A context loaded from files, with what rotation compares."""

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
    return load_pair(Path(cert_file), Path(key_file)).context


def server_context() -> ssl.SSLContext:
    """An empty server context: TLS 1.2 at least."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def load_pair(cert_file: Path, key_file: Path) -> Loaded:
    """Load and check a certificate and its key (CertificateError names the file at fault)."""
    certs = _read_certs(cert_file)
    key = _read_key(key_file)
    if public_der(key) != spki(certs[0]):
        raise CertificateError(
            f"private key {key_file} does not match the certificate in {cert_file}", key_file
        )
    ctx = server_context()
    try:
        ctx.load_cert_chain(cert_file, key_file)
    except (ssl.SSLError, OSError) as exc:  # e.g. the files changed since they were read
        raise CertificateError(
            f"cannot load certificate {cert_file} with key {key_file}: {exc}", cert_file
        ) from exc
    leaf = certs[0]
    return Loaded(ctx, leaf.not_valid_after_utc, leaf.fingerprint(hashes.SHA256()))


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
        elif PEM_BEGIN in data:
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
