"""Continuous audit: the webhook keeps every namespace's PolicyReport current.

``serve --audit-interval SECONDS`` (the chart's ``audit.continuous``) re-audits the
TrainingJobs of the cluster, as ``trainingjob-guard audit -o policyreport --apply``
would, every that many seconds and soon after the policies in force change, so
``kubectl get policyreports`` and dashboards such as Policy Reporter show where
each job stands under today's policies. Between those full rounds, a watch of the
TrainingJobs (:mod:`webhook.kube.job_changes`) marks the namespaces whose jobs were
added, deleted or changed in their spec, labels or annotations, and only those
namespaces are audited again, a few seconds later: a new job shows in its
namespace's report without waiting for the interval.

* **One writer.** Every replica serves admission; only the holder of a
  ``coordination.k8s.io`` Lease audits and writes (:mod:`webhook.kube.lease`). A
  replica that loses the lease stops writing before its next write: the reports
  are written one request at a time, and leadership is checked before each. The
  lease is renewed during a long round too (listing and writing check it).
* **Bounded API load.** One paginated list of TrainingJobs per round (``limit``
  :data:`PAGE_SIZE`), namespace labels looked up once per namespace per round,
  and one write per namespace whose report changed (unchanged reports are not
  written). A policy change waits :data:`SETTLE_SECONDS` so that a burst of
  changes (a GitOps sync) makes one round, and a round is never started less than
  :data:`MIN_GAP_SECONDS` (or the interval, if shorter) after the previous one. A
  failed round is retried at the next tick after that gap, not in a tight loop.
* **Changed namespaces only, between rounds.** Only the leader watches the
  TrainingJobs (one list, then one watch, for as long as it leads; the watch stops
  when leadership is lost). Status-only updates, which the ACK controller makes all
  the time, mark nothing. Marked namespaces are audited again at most every
  :data:`RECHECK_SECONDS`, changes that arrive meanwhile waiting for the next
  time: a namespaced paginated list of its jobs and the write of its report (or
  its deletion, when no job is left). A full round clears the marks. When more
  than :data:`RECHECK_LIMIT` namespaces are marked, one full round is cheaper and
  is done instead. When the watch had to list again (410 Gone, an error), events
  may have been missed: a full round is scheduled instead of guessing, as it is
  when a replica starts to lead (it does not know what the previous leader left
  undone). A new leader waits up to :data:`SYNC_WAIT_SECONDS` for its watch's list
  before its first round, so no change falls between the two lists. The watch
  failing (e.g. ``watch`` not granted) costs only the latency: full rounds go on.
* **Observable.** :class:`AuditStatus` holds the progress and counts that
  ``/metrics`` exposes (:mod:`webhook.server.metrics`); each round, and each
  re-audit of changed namespaces, logs one line with its counts (never a value of
  a job).

Everything here blocks (the ``kubernetes`` client does): :meth:`ContinuousAudit.run`
is a thread's body, and the server's event loop never waits on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from kubernetes import client

from webhook.audit.examine import NamespaceLabelLookup
from webhook.audit.policyreport import build_reports
from webhook.engine import Config
from webhook.kube.audit import AuditReport, list_training_jobs, namespace_lookup
from webhook.kube.client import error_message
from webhook.kube.job_changes import JobChanges
from webhook.kube.lease import LeaderElector
from webhook.kube.policyreports import WriteResult, write_reports

#: TrainingJobs per page of the list.
PAGE_SIZE: Final = 250
#: Seconds to wait after a policy change before auditing (more changes may follow).
SETTLE_SECONDS: Final = 5.0
#: Seconds between the start of one round and the next, at least.
MIN_GAP_SECONDS: Final = 30.0
#: Seconds between two re-audits of changed namespaces (or a round and one), at least.
RECHECK_SECONDS: Final = 5.0
#: Changed namespaces beyond which one full round is done instead of a list per namespace.
RECHECK_LIMIT: Final = 20
#: Seconds a new leader waits for its TrainingJob watch's list (less than a lease renewal).
SYNC_WAIT_SECONDS: Final = 2.0

Log = Callable[..., None]


class LostLeadershipError(Exception):
    """The lease went to another replica during a round: stop writing."""


@dataclass(slots=True)
class AuditStatus:
    """What ``/metrics`` shows of the continuous audit (written by its thread only)."""

    leader: bool = False
    running: bool = False
    jobs_seen: int = 0
    """TrainingJobs examined so far in the running round (progress)."""
    jobs_total: int | None = None
    """The running round's expected total, when the API server says."""
    rounds: dict[str, int] = field(default_factory=lambda: {"success": 0, "failure": 0})
    last_jobs: int = 0
    last_non_compliant: int = 0
    last_denied: int = 0
    last_writes: int = 0
    last_seconds: float = 0.0
    last_success: float | None = None
    """Unix time of the last round that wrote every report."""
    rechecks: dict[str, int] = field(default_factory=lambda: {"success": 0, "failure": 0})
    """Namespaces audited again after their jobs changed, by result."""


class ContinuousAudit:
    """The loop: lead or follow, and audit when due (see the module docstring)."""

    def __init__(
        self,
        api: client.ApiClient,
        config: Callable[[], Config],
        *,
        interval: float,
        log: Log,
        elector: LeaderElector | None = None,
        labels: Callable[[], NamespaceLabelLookup] | None = None,
        tick: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._config = config
        self.interval = interval
        self._log = log
        self._elector = elector
        self._labels = labels or (lambda: namespace_lookup(api))
        self._tick = elector.timing.retry_period if elector is not None else tick
        self._clock = clock
        self.status = AuditStatus()
        self._audited: Config | None = None
        """The configuration of the last round that finished (a new one is a change)."""
        self._retry = False
        """The last round failed: the next one is due after the gap, not the interval."""
        self._changed_at: float | None = None
        self._started_at: float | None = None
        self._checked_at: float | None = None
        """When the last round or re-audit of changed namespaces started."""
        self._changes: JobChanges | None = None
        """The watch of the TrainingJobs, while this replica leads."""
        self._renewed_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the thread ---------------------------------------------------------------------

    def start(self) -> None:
        """Run :meth:`run` in a daemon thread."""
        self._thread = threading.Thread(target=self.run, name="continuous-audit", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current request, give the lease up, wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self) -> None:
        """Tick until stopped: renew or seek the lease, audit when due; then :meth:`close`."""
        try:
            while not self._stop.is_set():
                self.step()
                self._stop.wait(self._tick)
        finally:
            self.close()

    def close(self) -> None:
        """No more rounds; stop watching, give the lease up, so another replica takes over."""
        self._stop.set()
        self._unwatch()
        if self._elector is not None:
            self._elector.release()
        self.status.leader = False

    def step(self) -> bool:
        """One tick; True when a round or a re-audit of changed namespaces ran."""
        leading = self._leading(renew=True)
        if leading != self.status.leader:
            self.status.leader = leading
            self._log("audit-leadership", leader=leading)
        if not leading:
            self._unwatch()  # only the leader watches: API load
            return False
        self._watch()
        if self._due():
            self.audit_round()
            return True
        return self.recheck()

    # -- one round ------------------------------------------------------------------------

    def audit_round(self) -> bool:
        """List, examine, build and write every namespace's report; True when all written."""
        config = self._config()
        self._started_at = self._checked_at = self._clock()
        self._changed_at = None
        if self._changes is not None:
            self._changes.clear()  # this round sees every change so far
        status = self.status
        status.running, status.jobs_seen, status.jobs_total = True, 0, None
        begun = time.monotonic()
        try:
            jobs = self._jobs()
            audit, reports = build_reports(jobs, config, self._labels())
            self._hold_lease()
            result = write_reports(self._api, reports, None, before_write=self._hold_lease)
        except LostLeadershipError:
            self._stopped()
            status.rounds["failure"] += 1
            self._retry = True
            return False
        except Exception as error:  # the API server may be away: the next round tries again
            self._log("audit-failed", "error", error=error_message(error))
            status.rounds["failure"] += 1
            self._retry = True
            return False
        finally:
            status.running = False
        seconds = time.monotonic() - begun
        status.last_jobs = audit.checked
        status.last_non_compliant = audit.non_compliant
        status.last_denied = audit.denied
        status.last_writes = result.writes
        status.last_seconds = seconds
        if result.errors:
            self._log("audit-failed", "error", errors=result.errors[:20], failed=len(result.errors))
            status.rounds["failure"] += 1
            self._retry = True
            return False
        self._audited, self._retry = config, False
        status.last_success = time.time()
        status.rounds["success"] += 1
        self._log(
            "audit-finished",
            jobs=audit.checked,
            nonCompliant=audit.non_compliant,
            denied=audit.denied,
            reports=len(reports),
            writes=result.writes,
            seconds=round(seconds, 3),
        )
        return True

    # -- changed namespaces ---------------------------------------------------------------

    def recheck(self) -> bool:
        """Audit the namespaces whose jobs changed, when due; True when some were audited.

        Each namespace's jobs are listed (paginated), judged and its report written
        (or deleted, with no job left), as a round does for all of them. A namespace
        that fails is marked again for the next time.
        """
        changes = self._changes
        now = self._clock()
        if changes is None or changes.pending() > RECHECK_LIMIT:  # a full round comes instead
            return False
        if self._checked_at is not None and now - self._checked_at < RECHECK_SECONDS:
            return False
        namespaces = sorted(changes.take())
        if not namespaces:
            return False
        self._checked_at = now
        config, labels = self._config(), self._labels()
        begun = time.monotonic()
        jobs = writes = 0
        failed: list[str] = []
        for namespace in namespaces:
            try:
                audit, result = self._audit_namespace(namespace, config, labels)
            except LostLeadershipError:
                self._stopped()
                return True
            except Exception as error:  # the API server may be away: the next time tries again
                self._log("audit-failed", "error", namespace=namespace, error=error_message(error))
                failed.append(namespace)
                continue
            if result.errors:
                self._log("audit-failed", "error", namespace=namespace, errors=result.errors[:20])
                failed.append(namespace)
            jobs, writes = jobs + audit.checked, writes + result.writes
        for namespace in failed:
            changes.mark(namespace)
        self.status.rechecks["success"] += len(namespaces) - len(failed)
        self.status.rechecks["failure"] += len(failed)
        self._log(
            "audit-namespaces-finished",
            namespaces=namespaces,
            jobs=jobs,
            writes=writes,
            failed=len(failed),
            seconds=round(time.monotonic() - begun, 3),
        )
        return True

    def _audit_namespace(
        self, namespace: str, config: Config, labels: NamespaceLabelLookup
    ) -> tuple[AuditReport, WriteResult]:
        listed = list_training_jobs(self._api, namespace, page_size=PAGE_SIZE)
        audit, reports = build_reports(self._held(listed), config, labels)
        self._hold_lease()
        return audit, write_reports(self._api, reports, namespace, before_write=self._hold_lease)

    def _watch(self) -> None:
        """Watch the TrainingJobs from now on (a new leader); wait a little for the list."""
        if self._changes is None:
            self._changes = JobChanges(self._api, page_size=PAGE_SIZE, log=self._log).start()
            self._changes.wait_synced(SYNC_WAIT_SECONDS)

    def _unwatch(self) -> None:
        changes, self._changes = self._changes, None
        if changes is not None:
            changes.stop()

    def _stopped(self) -> None:
        """The lease was lost mid-way: stop writing and watching."""
        self._log("audit-stopped", "warning", reason="the lease went to another replica")
        self._unwatch()

    # -- listing ----------------------------------------------------------------------------

    def _held(self, jobs: Iterator[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """*jobs*, holding the lease between them."""
        for job in jobs:
            self._hold_lease()
            yield job

    def _jobs(self) -> Iterator[Mapping[str, Any]]:
        """Every TrainingJob, page by page, counted as it goes; stops when the lease is lost."""
        status = self.status

        def total(count: int) -> None:
            status.jobs_total = count

        for job in list_training_jobs(self._api, None, page_size=PAGE_SIZE, on_total=total):
            self._hold_lease()
            status.jobs_seen += 1
            yield job

    # -- when ---------------------------------------------------------------------------------

    def _due(self) -> bool:
        now = self._clock()
        started = self._started_at
        if started is not None and now - started < min(MIN_GAP_SECONDS, self.interval):
            return False
        if self._audited is None or self._retry:  # none finished yet, or the last one failed
            return True
        changes = self._changes
        if changes is not None and (changes.full or changes.pending() > RECHECK_LIMIT):
            return True  # the watch listed (events may be missed), or too many to list one by one
        if self._config() is not self._audited:  # the policies in force changed
            if self._changed_at is None:
                self._changed_at = now
            return now - self._changed_at >= SETTLE_SECONDS
        return started is None or now - started >= self.interval

    def _leading(self, *, renew: bool) -> bool:
        elector = self._elector
        if elector is None:
            return True
        if renew:
            self._renewed_at = self._clock()
            return elector.tick()
        return elector.is_leader()

    def _hold_lease(self) -> None:
        """In a round: renew the lease when a tick is due; raise when it is not ours."""
        if self._stop.is_set():
            raise LostLeadershipError
        due = self._clock() - self._renewed_at >= self._tick
        if not self._leading(renew=due):
            raise LostLeadershipError
