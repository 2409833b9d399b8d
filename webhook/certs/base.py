"""Shared names of the certificate modules: file names, limits, the error type."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final, TypeAlias

from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

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

CN_MAX: Final = 64  # upper bound of a commonName (RFC 5280)
PEM_BEGIN: Final = b"-----BEGIN "
SIGNING_KEYS: Final = (
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
