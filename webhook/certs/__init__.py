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

from webhook.certs.base import (
    BACKDATE,
    CA_FILE,
    CERT_FILE,
    KEY_FILE,
    CertificateError,
    FileStamp,
    Signature,
)
from webhook.certs.context import certificate_expiry, load_server_context, seconds_to_expiry
from webhook.certs.files import CertFiles, ensure_cert_dir
from webhook.certs.generate import generate_ca, generate_serving
from webhook.certs.rotation import RotatingContext

__all__ = [
    "BACKDATE",
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
