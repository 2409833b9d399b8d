"""Talking to the Kubernetes API server (the ``kubernetes`` client library).

* :mod:`webhook.kube.client`: cluster configuration (``--kubeconfig``, in-cluster, the
  default kubeconfig), :func:`~webhook.kube.client.api_client`, error messages.
* :mod:`webhook.kube.namespaces`: :class:`~webhook.kube.namespaces.NamespaceLabels`, the
  webhook's watch-backed cache of namespace labels for ``namespaceSelector``.
* :mod:`webhook.kube.audit`: ``trainingjob-guard audit``, the TrainingJobs already in a
  cluster, listed for :mod:`webhook.audit` to judge (read-only).
* :mod:`webhook.kube.policyreports`: our PolicyReports written to the cluster (``audit -o
  policyreport --apply``): created, updated or deleted, idempotently.

Nothing is imported here, so ``import webhook.kube`` does not load the client library;
import the module you need.
"""
