"""A private CA and serving certificates signed by it (``cryptography``; ECDSA P-256)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from webhook.certs.base import BACKDATE, CN_MAX, SIGNING_KEYS, CertificateError


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
    if not 0 < len(common_name) <= CN_MAX:
        raise ValueError(f"common_name must be 1 to {CN_MAX} characters, got {len(common_name)}")
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
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
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
    ca_cert, ca_key = _load_ca(ca_cert_pem, ca_key_pem)
    key = ec.generate_private_key(ec.SECP256R1())
    cn = next((n for n in names if len(n) <= CN_MAX), "trainingjob-guard")
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
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(_authority_key_id(ca_cert), critical=False)
        .sign(ca_key, _hash_for(ca_key))
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _key_usage(
    *, digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    """A KeyUsage extension that allows only the uses given (a CA's, or a server's)."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _load_ca(
    cert_pem: bytes, key_pem: bytes
) -> tuple[x509.Certificate, CertificateIssuerPrivateKeyTypes]:
    """The CA's certificate and private key, each usable, and a pair."""
    ca_cert = _parse_ca_cert(cert_pem)
    ca_key = _parse_ca_key(key_pem)
    if public_der(ca_key) != spki(ca_cert):
        raise CertificateError("the CA private key does not match the CA certificate")
    return ca_cert, ca_key


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
    if not isinstance(key, SIGNING_KEYS):
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


def public_der(key: PrivateKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of a private key's public half."""
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def spki(cert: x509.Certificate) -> bytes:
    """The DER SubjectPublicKeyInfo of a certificate."""
    return cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# --------------------------------------------------------------------------- directory
