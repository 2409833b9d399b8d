"""Certificates of the webhook server: generation, the cert directory, loading, rotation.

Rotation is tested with a real TLS server (``asyncio.start_server``, as uvicorn
uses, on 127.0.0.1 in a thread) and real TLS clients; nothing of ``ssl`` is mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import os
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from webhook.certs import (
    BACKDATE,
    CertFiles,
    CertificateError,
    RotatingContext,
    certificate_expiry,
    ensure_cert_dir,
    generate_ca,
    generate_serving,
    load_server_context,
    seconds_to_expiry,
)

TIMEOUT = 2.0
DAY = 24 * 3600.0


# --------------------------------------------------------------------------- helpers


class Pki:
    """A CA and a serving certificate for localhost/127.0.0.1, written to *directory*."""

    def __init__(self, directory: Path, cert_name: str = "tls.crt", key_name: str = "tls.key"):
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_pem, self.ca_key_pem = generate_ca()
        self.cert_pem, self.key_pem = generate_serving(
            self.ca_pem, self.ca_key_pem, ["localhost"], ["127.0.0.1"]
        )
        self.ca_file = directory / "ca.crt"
        self.cert_file = directory / cert_name
        self.key_file = directory / key_name
        self.ca_file.write_bytes(self.ca_pem)
        self.write_to(self.cert_file, self.key_file)

    def write_to(self, cert_file: Path, key_file: Path) -> None:
        cert_file.write_bytes(self.cert_pem)
        key_file.write_bytes(self.key_pem)

    @property
    def serial(self) -> int:
        return x509.load_pem_x509_certificate(self.cert_pem).serial_number


class EchoServer:
    """A loopback asyncio TLS line-echo server running in a thread."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            while line := await reader.readline():
                writer.write(line)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._context)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()
        for writer in list(self._writers):
            writer.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())
        self._loop.close()

    def __enter__(self) -> EchoServer:
        self._thread.start()
        assert self._ready.wait(TIMEOUT), "server did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "server did not stop"


def client_context(cafile: Path | None) -> ssl.SSLContext:
    if cafile is None:  # unverified: only reads the peer certificate
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=str(cafile))


@contextlib.contextmanager
def connect(port: int, cafile: Path | None, server_hostname: str | None) -> Iterator[ssl.SSLSocket]:
    ctx = client_context(cafile)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
        ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
    ):
        yield tls


def echo(tls: ssl.SSLSocket, data: bytes = b"ping\n") -> bytes:
    tls.sendall(data)
    received = b""
    while not received.endswith(b"\n"):
        chunk = tls.recv(1024)
        if not chunk:
            break
        received += chunk
    return received


def peer_serial(tls: ssl.SSLSocket) -> int:
    der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def serial_seen(port: int, cafile: Path | None, server_hostname: str | None) -> int:
    with connect(port, cafile, server_hostname) as tls:
        assert echo(tls) == b"ping\n"
        return peer_serial(tls)


def ext(
    cert: x509.Certificate, kind: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(kind)


# --------------------------------------------------------------------------- generation


def test_ca_is_a_p256_ca_with_critical_constraints_and_usage() -> None:
    cert_pem, key_pem = generate_ca("test CA", days=10)
    ca = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)

    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert isinstance(key.curve, ec.SECP256R1)
    assert ca.subject == ca.issuer
    assert ca.subject.rfc4514_string() == "CN=test CA"
    ca.verify_directly_issued_by(ca)  # self-signed

    constraints = ext(ca, x509.BasicConstraints)
    assert constraints.critical
    assert isinstance(constraints.value, x509.BasicConstraints)
    assert constraints.value.ca

    usage = ext(ca, x509.KeyUsage)
    assert usage.critical
    assert isinstance(usage.value, x509.KeyUsage)
    assert usage.value.key_cert_sign
    assert usage.value.crl_sign
    assert not usage.value.digital_signature

    ski = ext(ca, x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    assert (
        9.9 * DAY < (ca.not_valid_after_utc - dt.datetime.now(dt.UTC)).total_seconds() <= 10 * DAY
    )


def test_serving_cert_has_sans_server_auth_and_is_signed_by_the_ca() -> None:
    ca_pem, ca_key_pem = generate_ca()
    cert_pem, key_pem = generate_serving(
        ca_pem,
        ca_key_pem,
        ["guard.guard-system.svc", "guard.guard-system.svc.cluster.local", "10.0.0.7"],
        ["127.0.0.1", "::1"],
    )
    ca = x509.load_pem_x509_certificate(ca_pem)
    cert = x509.load_pem_x509_certificate(cert_pem)
    key = serialization.load_pem_private_key(key_pem, password=None)

    cert.verify_directly_issued_by(ca)
    assert cert.issuer == ca.subject
    assert cert.public_key() == key.public_key()

    sans = ext(cert, x509.SubjectAlternativeName).value
    assert isinstance(sans, x509.SubjectAlternativeName)
    assert sans.get_values_for_type(x509.DNSName) == [
        "guard.guard-system.svc",
        "guard.guard-system.svc.cluster.local",
    ]
    # An IP given among the DNS names becomes an IP SAN.
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.0.0.7"),
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]

    eku = ext(cert, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]

    constraints = ext(cert, x509.BasicConstraints)
    assert constraints.critical
    assert isinstance(constraints.value, x509.BasicConstraints)
    assert not constraints.value.ca

    aki = ext(cert, x509.AuthorityKeyIdentifier).value
    ski = ext(ca, x509.SubjectKeyIdentifier).value
    assert isinstance(aki, x509.AuthorityKeyIdentifier)
    assert isinstance(ski, x509.SubjectKeyIdentifier)
    assert aki.key_identifier == ski.digest

    now = dt.datetime.now(dt.UTC)
    assert cert.not_valid_before_utc <= now - BACKDATE + dt.timedelta(seconds=5)
    assert 364.9 * DAY < (cert.not_valid_after_utc - now).total_seconds() <= 365 * DAY


def test_serving_cert_never_outlives_its_ca() -> None:
    ca_pem, ca_key_pem = generate_ca(days=30)
    cert_pem, _ = generate_serving(ca_pem, ca_key_pem, ["localhost"], days=365)
    ca = x509.load_pem_x509_certificate(ca_pem)
    assert x509.load_pem_x509_certificate(cert_pem).not_valid_after_utc == ca.not_valid_after_utc


def test_serving_cert_long_dns_name_does_not_break_the_common_name() -> None:
    long_name = "a" * 60 + ".guard-system.svc.cluster.local"
    ca_pem, ca_key_pem = generate_ca()
    cert_pem, _ = generate_serving(ca_pem, ca_key_pem, [long_name], [])
    sans = ext(x509.load_pem_x509_certificate(cert_pem), x509.SubjectAlternativeName).value
    assert isinstance(sans, x509.SubjectAlternativeName)
    assert sans.get_values_for_type(x509.DNSName) == [long_name]


def test_serving_cert_rejects_bad_input() -> None:
    ca_pem, ca_key_pem = generate_ca()
    other_ca_pem, other_key_pem = generate_ca()
    leaf_pem, leaf_key_pem = generate_serving(ca_pem, ca_key_pem, ["localhost"])

    with pytest.raises(ValueError, match="at least one DNS name or IP address"):
        generate_serving(ca_pem, ca_key_pem, [], [])
    with pytest.raises(ValueError, match="'nope' is not an IP address"):
        generate_serving(ca_pem, ca_key_pem, ["localhost"], ["nope"])
    with pytest.raises(CertificateError, match="CA private key does not match the CA certificate"):
        generate_serving(ca_pem, other_key_pem, ["localhost"])
    with pytest.raises(CertificateError, match="is not a CA"):
        generate_serving(leaf_pem, leaf_key_pem, ["localhost"])
    with pytest.raises(CertificateError, match="CA certificate is not a PEM certificate"):
        generate_serving(b"garbage", ca_key_pem, ["localhost"])
    with pytest.raises(CertificateError, match="CA private key cannot be loaded"):
        generate_serving(other_ca_pem, b"garbage", ["localhost"])


# --------------------------------------------------------------------------- directory


def test_ensure_cert_dir_generates_once_then_reuses(tmp_path: Path) -> None:
    cert_dir = tmp_path / "a" / "certs"
    files, generated = ensure_cert_dir(cert_dir, ["guard.guard-system.svc"])

    assert generated
    assert files == CertFiles(cert_dir / "tls.crt", cert_dir / "tls.key", cert_dir / "ca.crt")
    assert sorted(p.name for p in cert_dir.iterdir()) == ["ca.crt", "tls.crt", "tls.key"]
    assert stat.S_IMODE(cert_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.cert.stat().st_mode) == 0o644

    assert files.ca is not None
    ca = x509.load_pem_x509_certificate(files.ca.read_bytes())
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    sans = ext(cert, x509.SubjectAlternativeName).value
    assert isinstance(sans, x509.SubjectAlternativeName)
    assert sans.get_values_for_type(x509.DNSName) == ["localhost", "guard.guard-system.svc"]
    assert sans.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    ]
    load_server_context(files.cert, files.key)  # a usable pair

    before = {p.name: p.read_bytes() for p in cert_dir.iterdir()}
    again, generated = ensure_cert_dir(cert_dir, ["other.name"])
    assert not generated
    assert again == files
    assert {p.name: p.read_bytes() for p in cert_dir.iterdir()} == before


def test_ensure_cert_dir_uses_a_provided_pair_without_ca(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    pki.ca_file.unlink()
    files, generated = ensure_cert_dir(tmp_path, [])
    assert not generated
    assert files == CertFiles(pki.cert_file, pki.key_file, None)
    assert pki.cert_file.read_bytes() == pki.cert_pem


@pytest.mark.parametrize(("present", "missing"), [("tls.crt", "tls.key"), ("tls.key", "tls.crt")])
def test_ensure_cert_dir_refuses_half_a_pair(tmp_path: Path, present: str, missing: str) -> None:
    (tmp_path / present).write_bytes(b"kept as is")
    with pytest.raises(CertificateError) as info:
        ensure_cert_dir(tmp_path, [])
    message = str(info.value)
    assert f"{tmp_path / missing} is missing but {tmp_path / present} exists" in message
    assert "refusing to overwrite" in message
    assert info.value.path == tmp_path / missing
    assert sorted(p.name for p in tmp_path.iterdir()) == [present]
    assert (tmp_path / present).read_bytes() == b"kept as is"


# --------------------------------------------------------------------------- loading


def test_load_server_context_requires_tls12(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    ctx = load_server_context(pki.cert_file, pki.key_file)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    with EchoServer(ctx) as server:
        assert serial_seen(server.port, pki.ca_file, "localhost") == pki.serial


def test_load_errors_name_the_file_and_the_problem(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    other = Pki(tmp_path / "other")
    missing = tmp_path / "missing.crt"
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"\x00\x01 not a certificate")
    empty = tmp_path / "empty.pem"
    empty.write_bytes(b"\n")
    encrypted = tmp_path / "encrypted.key"
    key = serialization.load_pem_private_key(pki.key_pem, password=None)
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )

    cases: list[tuple[Path, Path, Path, str]] = [
        (missing, pki.key_file, missing, f"certificate file {missing} does not exist"),
        (pki.cert_file, missing, missing, f"private key file {missing} does not exist"),
        (garbage, pki.key_file, garbage, f"certificate file {garbage} holds no certificate: it is not PEM"),
        (pki.cert_file, garbage, garbage, f"private key file {garbage} holds no private key"),
        (empty, pki.key_file, empty, f"certificate file {empty} is empty"),
        (pki.cert_file, other.key_file, other.key_file,
         f"private key {other.key_file} does not match the certificate in {pki.cert_file}"),
        (pki.key_file, pki.cert_file, pki.key_file,
         f"certificate file {pki.key_file} holds no certificate: it holds a private key "
         "(are the certificate and key files swapped?)"),
        (pki.cert_file, encrypted, encrypted, f"private key file {encrypted} is encrypted"),
    ]  # fmt: skip
    for cert_file, key_file, culprit, message in cases:
        with pytest.raises(CertificateError) as info:
            load_server_context(cert_file, key_file)
        assert message in str(info.value)
        assert info.value.path == culprit
        with pytest.raises(CertificateError):
            RotatingContext(cert_file, key_file)


def test_expiry_of_a_fresh_serving_cert_is_a_year_ahead(tmp_path: Path) -> None:
    files, _ = ensure_cert_dir(tmp_path / "certs", [])
    expiry = certificate_expiry(files.cert)
    assert expiry.tzinfo is not None
    assert expiry.utcoffset() == dt.timedelta(0)
    assert 364.9 * DAY < seconds_to_expiry(files.cert) <= 365 * DAY

    later = expiry - dt.timedelta(seconds=10)
    assert seconds_to_expiry(files.cert, now=later) == pytest.approx(10)
    assert seconds_to_expiry(files.cert, now=expiry + dt.timedelta(days=1)) == pytest.approx(-DAY)
    with pytest.raises(ValueError, match="timezone-aware"):
        seconds_to_expiry(files.cert, now=dt.datetime(2030, 1, 1))
    with pytest.raises(CertificateError, match="does not exist"):
        certificate_expiry(tmp_path / "nope.crt")

    rotating = RotatingContext(files.cert, files.key)
    assert rotating.expiry == expiry


# --------------------------------------------------------------------------- rotation


def test_rotation_reaches_sni_and_non_sni_clients_and_spares_open_connections(
    tmp_path: Path,
) -> None:
    old = Pki(tmp_path / "old")
    rotating = RotatingContext(old.cert_file, old.key_file)

    # Observe (not replace) the callback: which server names reach it.
    seen: list[str | None] = []
    callback = rotating.context.sni_callback
    assert callback is not None

    def spy(obj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> int | None:
        seen.append(name)
        return callback(obj, name, ctx)  # type: ignore[arg-type]

    rotating.context.sni_callback = spy

    with EchoServer(rotating.context) as server:
        port = server.port
        assert serial_seen(port, old.ca_file, "localhost") == old.serial  # SNI
        # Python sends no SNI for an IP; the hostname check uses the IP SAN.
        assert serial_seen(port, old.ca_file, "127.0.0.1") == old.serial
        assert serial_seen(port, None, None) == old.serial
        # The callback runs for every handshake, with None when there is no SNI.
        assert seen == ["localhost", None, None]

        with connect(port, old.ca_file, "localhost") as open_before:
            assert echo(open_before) == b"ping\n"

            new = Pki(tmp_path / "new")  # a new CA, too
            new.write_to(old.cert_file, old.key_file)
            assert rotating.reload() is True

            assert serial_seen(port, new.ca_file, "localhost") == new.serial
            assert serial_seen(port, new.ca_file, "127.0.0.1") == new.serial
            assert serial_seen(port, None, None) == new.serial
            with pytest.raises(ssl.SSLCertVerificationError):
                serial_seen(port, old.ca_file, "localhost")

            # The connection opened before the rotation keeps working, on the old cert.
            assert echo(open_before, b"still here\n") == b"still here\n"
            assert peer_serial(open_before) == old.serial

        assert rotating.reload() is False  # same files, same certificate
        # open_before, then the four handshakes after the rotation.
        assert seen[3:] == ["localhost", "localhost", None, None, "localhost"]


def test_failed_reload_keeps_serving_the_previous_certificate(tmp_path: Path) -> None:
    pki = Pki(tmp_path)
    rotating = RotatingContext(pki.cert_file, pki.key_file)
    expiry = rotating.expiry
    with EchoServer(rotating.context) as server:
        pki.cert_file.write_bytes(b"half written")
        with pytest.raises(CertificateError, match=f"certificate file {pki.cert_file}"):
            rotating.reload()
        assert serial_seen(server.port, pki.ca_file, "localhost") == pki.serial
        assert rotating.expiry == expiry
        # The failed files are not retried at every poll, only once they change again.
        assert rotating.reload_if_changed() is False
        pki.cert_file.write_bytes(pki.cert_pem)
        assert rotating.reload_if_changed() is True
        assert serial_seen(server.port, pki.ca_file, "localhost") == pki.serial


def test_kubernetes_secret_update_changes_the_signature(tmp_path: Path) -> None:
    """A Secret volume swaps the ``..data`` symlink to a new timestamped directory."""
    mount = tmp_path / "mount"
    first = Pki(mount / "..2024_01_01")
    (mount / "..data").symlink_to("..2024_01_01")
    (mount / "tls.crt").symlink_to("..data/tls.crt")
    (mount / "tls.key").symlink_to("..data/tls.key")

    rotating = RotatingContext(mount / "tls.crt", mount / "tls.key")
    signature = rotating.signature()
    assert signature[0][0] == os.path.realpath(first.cert_file)
    assert rotating.signature() == signature
    assert rotating.reload_if_changed() is False

    with EchoServer(rotating.context) as server:
        assert serial_seen(server.port, first.ca_file, "localhost") == first.serial

        second = Pki(mount / "..2024_01_02")
        (mount / "..data_tmp").symlink_to("..2024_01_02")
        os.replace(mount / "..data_tmp", mount / "..data")  # the atomic swap

        assert rotating.signature() != signature
        assert rotating.reload_if_changed() is True
        assert rotating.reload_if_changed() is False
        assert serial_seen(server.port, second.ca_file, "localhost") == second.serial


def test_reloading_a_live_plain_context_also_reaches_new_handshakes(tmp_path: Path) -> None:
    """Documents the alternative: ``load_cert_chain`` on a context in use (not used: not thread-safe)."""
    old = Pki(tmp_path / "old")
    new = Pki(tmp_path / "new")
    ctx = load_server_context(old.cert_file, old.key_file)
    with (
        EchoServer(ctx) as server,
        connect(server.port, old.ca_file, "localhost") as open_before,
    ):
        ctx.load_cert_chain(new.cert_file, new.key_file)
        assert serial_seen(server.port, None, None) == new.serial
        assert serial_seen(server.port, new.ca_file, "localhost") == new.serial
        assert echo(open_before) == b"ping\n"
        assert peer_serial(open_before) == old.serial
