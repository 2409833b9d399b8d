"""Talking to the Kubernetes API server (the ``kubernetes`` client library).

* :mod:`webhook.kube.client`: cluster configuration (``--kubeconfig``, in-cluster, the
  default kubeconfig), :func:`~webhook.kube.client.api_client`, error messages.
* :mod:`webhook.kube.watch`: :class:`~webhook.kube.watch.ListWatch`, the one list-then-watch
  loop (relist on 410 Gone, backoff on errors) behind every watch-backed view below;
  :mod:`webhook.kube.logs`, the shape of the log those threads write to.
* :mod:`webhook.kube.namespaces`: :class:`~webhook.kube.namespaces.NamespaceLabels`, the
  webhook's watch-backed cache of namespace labels for ``namespaceSelector``.
* :mod:`webhook.kube.audit`: ``trainingjob-guard audit``, the TrainingJobs already in a
  cluster, listed for :mod:`webhook.audit` to judge (read-only).
* :mod:`webhook.kube.policyreports`: our PolicyReports written to the cluster (``audit -o
  policyreport --apply``): created, updated or deleted, idempotently.
* :mod:`webhook.kube.lease` and :mod:`webhook.kube.continuous`: leader election on a Lease
  and the continuous audit (``serve --audit-interval``) that keeps the reports current;
  :mod:`webhook.kube.job_changes`, its watch of the TrainingJobs, which marks the
  namespaces to audit again between rounds.
* :mod:`webhook.kube.policies`: :class:`~webhook.kube.policies.PolicyWatch`, the list and
  watch of the TrainingJobPolicy objects for ``serve --cluster-policies``, and
  :mod:`webhook.kube.policy_status`, which writes their status and events.

Nothing is imported here, so ``import webhook.kube`` does not load the client library;
import the module you need.
"""
