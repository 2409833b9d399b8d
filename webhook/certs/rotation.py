"""The served certificate of a running server, swapped without a restart."""

from __future__ import annotations

import datetime as dt
import os
import ssl
import threading
from pathlib import Path

from webhook.certs.base import FileStamp, Signature
from webhook.certs.context import load_pair, server_context


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
        self._current = load_pair(self._cert_file, self._key_file)
        front = server_context()
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
            loaded = load_pair(self._cert_file, self._key_file)
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
