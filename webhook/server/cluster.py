"""The cluster's TrainingJobPolicy objects in the running server (``serve --cluster-policies``).

A source (:class:`webhook.kube.policies.PolicyWatch`: a list and watch of the
objects in a thread of its own) hands over the objects it holds; on each reload
tick :meth:`ClusterPolicies.reconcile` takes up what changed, through
:class:`webhook.policy.objects.ObjectPolicies` (loading, the last good version,
unique ids), and hands each object's verdict back to the source, which writes
the status and events (off the event loop and off this tick). The server then
puts the policy files' and the objects' policies in force together, in one swap
(:meth:`webhook.server.state.ServerState.reload`).

Until the source has listed the objects once, nothing of the cluster is known:
:attr:`ClusterPolicies.loaded` is False and ``/readyz`` says the webhook is not
ready (a guard that decided without the cluster's policies would fail open).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from webhook.policy.compiled import CompiledPolicy, PolicySet
from webhook.policy.load import describe_source
from webhook.policy.objects import LOADED, ObjectPolicies, PolicyObject, Verdict
from webhook.server.metrics import Metrics


class Log(Protocol):
    """The server's JSON log (``log(event, level, **fields)``)."""

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        """Record one event."""


class PolicySource(Protocol):
    """Where the objects come from, and where verdicts go (the Kubernetes adapter)."""

    def snapshot(self) -> tuple[int, Sequence[PolicyObject]] | None:
        """(revision, the objects) once they were listed; the revision changes with them."""

    def report(self, verdicts: Sequence[Verdict]) -> None:
        """Write what the verdicts say into the objects' status (and events); never blocks."""


class ClusterPolicies:
    """The TrainingJobPolicy objects' policies in force, and what the server knows of them."""

    def __init__(self, source: PolicySource, log: Log, metrics: Metrics) -> None:
        self.source = source
        self._log = log
        self._metrics = metrics
        self._objects = ObjectPolicies()
        self._revision = -1
        self._logged: dict[str, tuple[str, int, str, str]] = {}
        self.loaded = False
        """Whether the objects of a complete list have been taken up."""
        self.in_force: tuple[CompiledPolicy, ...] = ()
        """The objects' policies in force, in name order."""

    def reconcile(self, files: PolicySet, *, force: bool = False) -> bool:
        """Take up changed objects (all of them with *force*: the files changed).

        Return True when the policies in force changed. *files* are the policy
        files' policies; an object's id that one of them has is refused.
        """
        snapshot = self.source.snapshot()
        if snapshot is None:
            return False
        revision, objects = snapshot
        if revision == self._revision and not force:
            return False
        self._revision = revision
        taken = {policy.id: describe_source(policy.source) for policy in files.policies}
        verdicts = self._objects.update(objects, taken)
        in_force = tuple(v.policy for v in verdicts if v.policy is not None)
        changed = not self.loaded or [id(p) for p in in_force] != [id(p) for p in self.in_force]
        self.in_force = in_force
        self.loaded = True
        self._note(verdicts)
        self.source.report(verdicts)
        return changed

    def _note(self, verdicts: Sequence[Verdict]) -> None:
        """Log and count each object's verdict when it changes (not on every tick)."""
        seen: dict[str, tuple[str, int, str, str]] = {}
        for verdict in verdicts:
            item = verdict.object
            key = (item.uid, item.generation, verdict.reason, verdict.message)
            seen[item.name] = key
            if self._logged.get(item.name) == key:
                continue
            if verdict.reason == LOADED:
                self._metrics.reloads.labels("success").inc()
                self._log("cluster-policy-loaded", policy=item.name, generation=item.generation)
            else:
                self._metrics.reloads.labels("failure").inc()
                self._log(
                    "cluster-policy-refused",
                    "error",
                    policy=item.name,
                    generation=item.generation,
                    reason=verdict.reason,
                    error=verdict.message,
                    kept=verdict.policy is not None,
                )
        for name in set(self._logged) - set(seen):
            self._log("cluster-policy-deleted", policy=name)
        self._logged = seen
        self._metrics.cluster_policies_not_ready.set(sum(not v.ready for v in verdicts))
