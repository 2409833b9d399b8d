"""The errors of the Kubernetes adapters, importable without the ``kubernetes`` client.

Importing the client (its hundreds of models) takes a few hundred milliseconds and
tens of MB; ``serve`` on a laptop, without ``--namespace-labels`` or
``--self-managed-certs``, never needs it, yet handles these errors.
"""

from __future__ import annotations


class KubeError(Exception):
    """A Kubernetes API call or the cluster configuration failed; the message says why."""


class KubeConfigError(KubeError):
    """No usable cluster configuration was found."""
