"""Talking to the Kubernetes API server (the ``kubernetes`` client library).

* :mod:`webhook.kube.client`: cluster configuration (``--kubeconfig``, in-cluster, the
  default kubeconfig), :func:`~webhook.kube.client.api_client`, error messages.
* :mod:`webhook.kube.namespaces`: :class:`~webhook.kube.namespaces.NamespaceLabels`, the
  webhook's watch-backed cache of namespace labels for ``namespaceSelector``.
* :mod:`webhook.kube.audit`: ``trainingjob-guard audit``, the policies applied to the
  TrainingJobs already in a cluster (read-only).
* :mod:`webhook.kube.policies`: :class:`~webhook.kube.policies.PolicyWatch`, the list and
  watch of the TrainingJobPolicy objects for ``serve --cluster-policies``, and
  :mod:`webhook.kube.policy_status`, which writes their status and events.

Nothing is imported here, so ``import webhook.kube`` does not load the client library;
import the module you need.
"""
