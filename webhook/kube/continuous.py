"""Continuous audit: the webhook keeps every namespace's PolicyReport current.

``serve --audit-interval SECONDS`` (the chart's ``audit.continuous``) re-audits the
TrainingJobs of the cluster, as ``trainingjob-guard audit -o policyreport --apply``
would, every that many seconds and soon after the policies in force change, so
``kubectl get policyreports`` and dashboards such as Policy Reporter show where
each job stands under today's policies.

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
* **Observable.** :class:`AuditStatus` holds the progress and counts that
  ``/metrics`` exposes (:mod:`webhook.server.metrics`); each round logs one line
  with its counts (never a value of a job).

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
from webhook.kube.audit import list_training_jobs, namespace_lookup
from webhook.kube.client import error_message
from webhook.kube.lease import LeaderElector
from webhook.kube.policyreports import write_reports

#: TrainingJobs per page of the list.
PAGE_SIZE: Final = 250
#: Seconds to wait after a policy change before auditing (more changes may follow).
SETTLE_SECONDS: Final = 5.0
#: Seconds between the start of one round and the next, at least.
MIN_GAP_SECONDS: Final = 30.0

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
        """No more rounds; give the lease up, so another replica takes over at once."""
        self._stop.set()
        if self._elector is not None:
            self._elector.release()
        self.status.leader = False

    def step(self) -> bool:
        """One tick; True when a round ran."""
        leading = self._leading(renew=True)
        if leading != self.status.leader:
            self.status.leader = leading
            self._log("audit-leadership", leader=leading)
        if not leading or not self._due():
            return False
        self.audit_round()
        return True

    # -- one round ------------------------------------------------------------------------

    def audit_round(self) -> bool:
        """List, examine, build and write every namespace's report; True when all written."""
        config = self._config()
        self._started_at = self._clock()
        self._changed_at = None
        status = self.status
        status.running, status.jobs_seen, status.jobs_total = True, 0, None
        begun = time.monotonic()
        try:
            jobs = self._jobs()
            audit, reports = build_reports(jobs, config, self._labels())
            self._hold_lease()
            result = write_reports(self._api, reports, None, before_write=self._hold_lease)
        except LostLeadershipError:
            self._log("audit-stopped", "warning", reason="the lease went to another replica")
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
