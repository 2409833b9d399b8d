"""The server's mutable state: the engine configuration in force, and how it is replaced.

Requests read :attr:`ServerState.config` once and keep that object for the
whole request, so a reload (a new object assigned in one step) never changes
the rules in the middle of a decision and never fails a request in flight.
A policy change that does not load keeps the last good policies, says why in
the log and counts a failure. With ``--cluster-policies`` the policies in force
are the policy files' and the cluster's TrainingJobPolicy objects' together
(:mod:`webhook.server.cluster`), swapped in as one configuration.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from webhook.certs import CertificateError, seconds_to_expiry
from webhook.constraints.update import DEFAULT_CONTROLLER_USERS
from webhook.engine import Config, builtin_proof
from webhook.findings import Action, Finding
from webhook.policy.compiled import EMPTY, PolicySet
from webhook.policy.load import (
    PolicyLoadError,
    load_policies,
    policy_files,
    unknown_rule_actions,
)
from webhook.server.fast import FastPath
from webhook.server.metrics import Metrics

if TYPE_CHECKING:
    from webhook.server.cluster import ClusterPolicies

_clock: list[Any] = [0, ""]


def _now() -> str:
    """The time, RFC 3339 in UTC to the millisecond; formatted at most once per millisecond."""
    tick = time.time_ns() // 1_000_000
    if tick != _clock[0]:
        moment = datetime.fromtimestamp(tick / 1000, UTC)
        _clock[0], _clock[1] = tick, moment.isoformat(timespec="milliseconds")
    text: str = _clock[1]
    return text


class JsonLog:
    """One JSON object per line: what log collectors in a cluster parse best.

    Callers pass only ids, names, rule ids and numbers: never a hyperparameter
    or environment value (decision lines carry rule ids, not messages).
    Lines go as bytes to the binary buffer under ``sys.stderr`` (the same one
    the process's other messages go through, so the order holds).

    Decision lines, one per request, are kept as tuples and written in bulk:
    when :data:`PENDING_LINES` are waiting, on :meth:`flush` (every reload
    tick and at shutdown) and before any other event's line. Written one by
    one on the request path, each line cost more than the decision. Their
    ``time`` is the decision's. Other events are written and flushed at once.
    """

    def __init__(self, stream: IO[bytes] | None = None) -> None:
        self._stream = stream
        # A deque: decisions are noted on the event loop, other events may be
        # logged from a worker thread, and its appends and pops are atomic.
        self._pending: deque[tuple[Any, ...]] = deque()

    def __call__(self, event: str, level: str = "info", **fields: Any) -> None:
        """Write one line (after the decisions waiting), and flush."""
        self._write_pending()
        record = {"time": _now(), "level": level, "event": event, **fields}
        self._write(orjson.dumps(record, default=str, option=_NEWLINE))
        self.flush()

    def decision(
        self,
        *,
        endpoint: str,
        uid: str,
        kind: str,
        namespace: str,
        name: str,
        operation: str,
        decision: str,
        findings: tuple[Finding, ...],
        patched: int,
        dry_run: bool,
        seconds: float,
    ) -> None:
        """Note one decision; its line is written with the next batch of them."""
        pending = self._pending
        pending.append(
            (_now(), endpoint, uid, kind, namespace, name, operation, decision, findings,
             patched, dry_run, seconds)
        )  # fmt: skip
        if len(pending) >= PENDING_LINES:
            self._write_pending()

    def _write_pending(self) -> None:
        """Write the decisions waiting, :data:`LINES_PER_WRITE` lines per write.

        Standard error is unbuffered: a write per line was a system call per
        request. Not all joined at once either: a few hundred lines held, then
        freed together, make the C allocator hand memory back to the system
        and fault it in again on the next batch, which cost more than the lines.
        """
        pending = self._pending
        dumps = orjson.dumps
        lines: list[bytes] = []
        while pending:
            moment, endpoint, uid, kind, namespace, name, operation, decision, findings, \
                patched, dry_run, seconds = pending.popleft()  # fmt: skip
            rules, audit = _rule_ids(findings) if findings else ([], [])
            record = {
                "time": moment,
                "level": "info",
                "event": "decision",
                "endpoint": endpoint,
                "uid": uid,
                "kind": kind,
                "namespace": namespace,
                "name": name,
                "operation": operation,
                "decision": decision,
                "rules": rules,
                "audit": audit,
                "patched": patched,
                "dryRun": dry_run,
                "latencyMs": round(seconds * 1000, 3),
            }
            lines.append(dumps(record, default=str, option=_NEWLINE))
            if len(lines) == LINES_PER_WRITE:
                self._write(b"".join(lines))
                lines.clear()
        if lines:
            self._write(b"".join(lines))

    def _write(self, data: bytes) -> None:
        stream = self._stream or getattr(sys.stderr, "buffer", None)
        if stream is None:  # stderr replaced by a text-only stream
            sys.stderr.write(data.decode())
        else:
            stream.write(data)

    def flush(self) -> None:
        """Write the decisions waiting, then flush the stream."""
        self._write_pending()
        (self._stream or sys.stderr).flush()


#: Decision lines kept before they are written in one go (a few hundred KB at most).
PENDING_LINES = 256
_NEWLINE = orjson.OPT_APPEND_NEWLINE
#: Decision lines per write to the stream (about 10 KB).
LINES_PER_WRITE = 32


def _rule_ids(findings: tuple[Finding, ...]) -> tuple[list[str], list[str]]:
    """The rule ids of *findings*: those that decided or warned, and the audit-only ones."""
    rules = sorted({f.rule for f in findings if f.action is not Action.AUDIT})
    audit = sorted({f.rule for f in findings if f.action is Action.AUDIT})
    return rules, audit


def files_signature(paths: Sequence[str | Path]) -> tuple[tuple[str, int, int, int], ...]:
    """What changes when a policy file changes, appears or goes.

    Real paths are part of it, so the swap of the ``..data`` symlink through
    which Kubernetes updates a mounted ConfigMap shows too.
    """
    signature = []
    for file in policy_files(paths):
        try:
            real = os.path.realpath(file)
            status = os.stat(real)
        except OSError:
            signature.append((str(file), -1, -1, -1))
            continue
        signature.append((real, status.st_mtime_ns, status.st_size, status.st_ino))
    return tuple(signature)


@dataclass(slots=True)
class ServerState:
    """What the running server shares between requests and the reload loop."""

    config: Config
    policy_paths: tuple[str, ...] = ()
    """Policy files or folders to load (empty: no policy at all)."""
    actions: Mapping[str, Action] = field(default_factory=dict)
    controller_users: frozenset[str] = DEFAULT_CONTROLLER_USERS
    """The ACK controller's user names (``--controller-user``), kept across reloads."""
    metrics: Metrics = field(default_factory=Metrics)
    log: JsonLog = field(default_factory=JsonLog)
    policy_signature: tuple[tuple[str, int, int, int], ...] = ()
    last_reload_error: str | None = None
    started: float = field(default_factory=time.monotonic)
    certificate_file: Path | None = None
    """The serving certificate, for readiness and the expiry metric."""
    namespace_labels: Callable[[str], Mapping[str, str] | None] | None = None
    """Looks up a namespace's labels (the API server's, cached); None: not known."""
    fast_path: FastPath | None = None
    """The one-check proof of a clean review for ``/validate``; used only while its
    configuration is :attr:`config` (so a reload never mixes the two)."""
    files: PolicySet = EMPTY
    """The policy files' policies (the last good ones)."""
    cluster: ClusterPolicies | None = None
    """The cluster's TrainingJobPolicy objects (``--cluster-policies``); None without."""

    def certificate_seconds(self) -> float | None:
        """Seconds until the serving certificate expires (None without one)."""
        if self.certificate_file is None:
            return None
        try:
            return seconds_to_expiry(self.certificate_file)
        except CertificateError:
            return 0.0

    @classmethod
    def load(
        cls,
        policy_paths: Sequence[str | Path],
        actions: Mapping[str, Action] | None = None,
        log: JsonLog | None = None,
        *,
        controller_users: Iterable[str] = DEFAULT_CONTROLLER_USERS,
        cluster_policies: bool = False,
    ) -> ServerState:
        """Load the policies once (raises PolicyLoadError: the server must not start without).

        With *cluster_policies*, an action for a rule of a policy (``<policy>/<rule>``)
        that no policy file has may be for a TrainingJobPolicy object, not listed
        yet: it is not an error here, and is logged as unused on each reload while
        no policy has that rule.
        """
        paths = tuple(str(p) for p in policy_paths)
        policies = load_policies(paths) if paths else EMPTY
        checked = {
            rule: action
            for rule, action in (actions or {}).items()
            if not (cluster_policies and "/" in rule)
        }
        unknown = unknown_rule_actions(checked, policies)
        if unknown:
            raise PolicyLoadError(unknown)
        users = frozenset(controller_users)
        state = cls(
            Config(mutate=False, controller_users=users),
            paths,
            dict(actions or {}),
            controller_users=users,
            log=log or JsonLog(),
        )
        state.policy_signature = files_signature(paths) if paths else ()
        state.files = policies
        state.use(policies)
        builtin_proof(state.config.checker)  # compiled now, not on the first request
        return state

    def use(self, policies: PolicySet) -> None:
        """Put *policies* in force, with the fast path of the new configuration.

        Both are built before either is swapped in; a request that reads the new
        configuration with the old fast path (or the reverse) takes the usual path.
        """
        config = Config(
            actions=self.actions,
            policies=policies,
            mutate=False,
            controller_users=self.controller_users,
        )
        fast_path = FastPath.of(config)
        self.config = config
        self.fast_path = fast_path
        self.metrics.policies.set(len(policies))

    def reload(self) -> None:
        """The reload tick: changed policy files, then changed cluster objects; one swap."""
        files = self.reload_policies_if_changed()
        if self.cluster is None:
            return
        objects = self.cluster.reconcile(self.files, force=files is True)
        if files or objects:
            self._put_in_force()
            self.log("policies-in-force", policies=[p.id for p in self.config.policies.policies])
            for problem in unknown_rule_actions(self.actions, self.config.policies):
                self.log("rule-action-unused", "warning", error=problem.message)

    def _put_in_force(self) -> None:
        """The policy files' and the cluster objects' policies, in force together."""
        objects = self.cluster.in_force if self.cluster is not None else ()
        self.use(PolicySet.of([*self.files.policies, *objects]) if objects else self.files)

    def reload_policies_if_changed(self) -> bool | None:
        """Reload when the policy files changed: True loaded, False kept the old, None unchanged."""
        if not self.policy_paths:
            return None
        signature = files_signature(self.policy_paths)
        if signature == self.policy_signature:
            return None
        self.policy_signature = signature
        try:
            policies = load_policies(self.policy_paths)
        except PolicyLoadError as error:
            self.last_reload_error = str(error)
            self.metrics.reloads.labels("failure").inc()
            self.log(
                "policy-reload-failed",
                "error",
                errors=[str(e) for e in error.errors],
                kept=len(self.config.policies),
            )
            return False
        self.files = policies
        self.last_reload_error = None
        self.metrics.reloads.labels("success").inc()
        self.log("policy-reloaded", policies=[p.id for p in policies.policies])
        if self.cluster is None:  # else reload() swaps, once the objects are taken up too
            self.use(policies)
            for problem in unknown_rule_actions(self.actions, policies):  # a rule went away
                self.log("rule-action-unused", "warning", error=problem.message)
        return True
