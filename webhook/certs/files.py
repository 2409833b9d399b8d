"""The certificate directory: ``tls.crt``, ``tls.key``, ``ca.crt``, generated when missing."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from webhook.certs.base import (
    CA_FILE,
    CERT_FILE,
    KEY_FILE,
    LOCAL_DNS_NAMES,
    LOCAL_IP_ADDRESSES,
    CertificateError,
)
from webhook.certs.generate import generate_ca, generate_serving


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
