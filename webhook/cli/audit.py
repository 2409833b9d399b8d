"""``trainingjob-guard audit``: check existing TrainingJobs, report, preview a policy change.

Where the jobs come from:

- a cluster (kubeconfig or in-cluster config; ``-n NS``, the context's namespace, or
  ``-A``), listed page by page;
- manifest files and folders given as PATHs (``-`` for stdin), read as ``validate``
  reads them, with ``kind: List`` expanded (``kubectl get trainingjobs -A -o yaml``
  output works). They are judged as stored objects, as in a cluster: without
  applying defaults; a manifest without ``metadata.namespace`` is in ``-n``'s
  namespace, else ``default``. Namespace labels are not known offline, so a policy
  that selects on them is applied with a ``policy.namespace-labels-unknown`` warning.

What it says:

- ``-o text`` / ``-o json``: the non-compliant jobs and counts; exit 1 when some
  would be denied;
- ``-o policyreport``: PolicyReports (:mod:`webhook.audit.policyreport`), as a
  multi-document YAML stream on stdout, or written to the cluster with ``--apply``
  (:mod:`webhook.kube.policyreports`);
- ``--compare-to PATH`` (repeatable, like ``--policy``): the jobs whose answer changes
  from the policies of ``--compare-to`` (in force) to those of ``--policy`` (new), in
  text or JSON; exit 1 when some job would be newly denied (:mod:`webhook.audit.impact`).
  The bundled baseline is on both sides unless ``--no-baseline``; ``--rule-action``
  applies to both.

A progress display is drawn on stderr when it is a terminal (:mod:`webhook.cli.progress`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from webhook.cli.commands import USAGE, policy_paths
from webhook.cli.progress import progress, tracked
from webhook.cli.report import InputError
from webhook.cli.sources import iter_sources, parse_source
from webhook.cli.validate import ASSUMED_NAMESPACE, is_training_job, objects
from webhook.engine import Config
from webhook.policy.compiled import EMPTY, PolicySet
from webhook.policy.load import (
    PolicyLoadError,
    load_policies,
    policy_sources,
    unknown_rule_actions,
)

if TYPE_CHECKING:
    from webhook.audit.examine import NamespaceLabelLookup
    from webhook.audit.policyreport import PolicyReport
    from webhook.kube.policyreports import Written

__all__ = ["FORMATS", "add_parser", "manifests", "run"]

FORMATS: Final = ("text", "json", "policyreport")
PROGRESS: Final = "checking TrainingJobs"


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_policy_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``audit`` and its options to the subcommands."""
    audit = sub.add_parser(
        "audit",
        help="check the TrainingJobs already in a cluster (or in manifests); PolicyReports; "
        "preview a policy change",
        description=(
            "List the TrainingJobs of a namespace or of all namespaces (kubeconfig or "
            "in-cluster config), or read them from the given manifest files and folders, "
            "and check each as the webhook would judge it today, with counts per rule and "
            "per namespace. -o policyreport prints wgpolicyk8s.io/v1alpha2 PolicyReports "
            "(one per namespace), which --apply writes to the cluster instead. "
            "--compare-to lists the jobs whose answer a policy change flips. Exit 0: "
            "nothing denied (with --compare-to: nothing newly denied); 1: some job would be "
            "denied (newly denied); 2: usage error, unreadable input, a policy that does "
            "not load, or a failed API call."
        ),
    )
    audit.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="manifest files or folders to audit instead of a cluster (- for stdin)",
    )
    audit.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube)")
    audit.add_argument("--context", help="kubeconfig context")
    scope = audit.add_mutually_exclusive_group()
    scope.add_argument(
        "-n",
        "--namespace",
        help="one namespace (default: the context's); with PATHs, the namespace of "
        "manifests that name none (default: default)",
    )
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    audit.add_argument("-o", "--output", choices=FORMATS, default="text", help="output format")
    audit.add_argument(
        "--apply",
        action="store_true",
        help="with -o policyreport: create or update the PolicyReports in the cluster "
        "(and delete ours where no TrainingJob is left) instead of printing them",
    )
    audit.add_argument(
        "--compare-to",
        action="append",
        default=[],
        metavar="PATH",
        help="the policies in force (file or folder, or 'baseline'; repeatable): list the "
        "jobs whose answer changes from them to the --policy ones (the new version)",
    )
    add_policy_options(audit)


def usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with a combination of flags, or None."""
    if args.apply and args.output != "policyreport":
        return "--apply writes PolicyReports: give -o policyreport too"
    if args.compare_to and args.output == "policyreport":
        return "--compare-to lists the jobs a policy change flips (-o text or json), not reports"
    if args.paths:
        cluster = [
            flag
            for flag, given in (
                ("--kubeconfig", args.kubeconfig),
                ("--context", args.context),
                ("-A", args.all_namespaces),
                ("--apply", args.apply),
            )
            if given
        ]
        if cluster:
            return f"{', '.join(cluster)}: for a cluster, not for manifests given as PATHs"
    return None


def manifests(
    paths: list[str], errors: list[InputError], namespace: str
) -> Iterator[dict[str, Any]]:
    """The TrainingJobs of *paths*, each in its namespace, else in *namespace*.

    Documents of other kinds are skipped; files that cannot be read and documents
    that are not valid YAML are added to *errors* as they are met.
    """
    for source in iter_sources(paths, errors):
        for document in parse_source(source, errors):
            for data, _ in objects(document.data, document.node):
                if is_training_job(data):
                    yield _in_namespace(data, namespace)


def _in_namespace(job: dict[str, Any], namespace: str) -> dict[str, Any]:
    metadata = job.get("metadata")
    if metadata is None:
        return {**job, "metadata": {"namespace": namespace}}
    if isinstance(metadata, dict) and not metadata.get("namespace"):
        return {**job, "metadata": {**metadata, "namespace": namespace}}
    return job


def _load(paths: list[Any]) -> PolicySet:
    return load_policies(paths) if paths else EMPTY


def _configs(args: argparse.Namespace) -> tuple[Config, Config | None] | None:
    """The configuration to audit with, and the one in force for --compare-to.

    None (after printing why) when a policy does not load or a --rule-action names no rule.
    """
    actions = dict(args.rule_action)
    try:
        policies = _load(policy_paths(args))
        before = None
        if args.compare_to:
            before = _load(policy_sources(args.compare_to, baseline=not args.no_baseline))
        known = policies if before is None else PolicySet.of((*before.policies, *policies.policies))
        unknown = unknown_rule_actions(actions, known)
        if unknown:
            raise PolicyLoadError(unknown)
    except PolicyLoadError as error:
        for problem in error.errors:
            print(f"{problem}", file=sys.stderr)
        print(f"{len(error.errors)} policy error(s): nothing was checked", file=sys.stderr)
        return None
    config = Config(actions=actions, policies=policies, mutate=False)
    in_force = None if before is None else Config(actions=actions, policies=before, mutate=False)
    return config, in_force


@dataclass(slots=True)
class Judged:
    """What an audit printed and said, and the reports to write with --apply."""

    output: str
    exit_code: int
    reports: list[PolicyReport] = field(default_factory=list)
    summary: str = ""
    """The audit's summary line (for --apply, which prints no reports)."""


def judge(
    args: argparse.Namespace,
    jobs: Iterable[Mapping[str, Any]],
    config: Config,
    in_force: Config | None,
    labels: NamespaceLabelLookup,
) -> Judged:
    """Audit *jobs* as the flags ask: an impact preview, PolicyReports or a report."""
    if in_force is not None:
        from webhook.audit.impact import compare  # noqa: PLC0415
        from webhook.cli.output.audit import IMPACT_FORMATS  # noqa: PLC0415

        impact = compare(jobs, in_force, config, labels)
        return Judged(IMPACT_FORMATS[args.output](impact), impact.exit_code)
    if args.output == "policyreport":
        from webhook.audit.policyreport import build_reports  # noqa: PLC0415
        from webhook.cli.output.audit import render_policyreports, summary_line  # noqa: PLC0415

        report, reports = build_reports(jobs, config, labels)
        return Judged(
            render_policyreports(reports), report.exit_code, reports, summary_line(report)
        )
    from webhook.audit.report import audit  # noqa: PLC0415
    from webhook.cli.output.audit import AUDIT_FORMATS  # noqa: PLC0415

    report = audit(jobs, config, labels)
    return Judged(AUDIT_FORMATS[args.output](report), report.exit_code)


def run(args: argparse.Namespace) -> int:
    """``audit``: the exit code (see the module docstring)."""
    problem = usage_problem(args)
    if problem is not None:
        print(f"trainingjob-guard audit: error: {problem}", file=sys.stderr)
        return USAGE
    configs = _configs(args)
    if configs is None:
        return USAGE
    config, in_force = configs
    if args.paths:
        return _offline(args, config, in_force)
    return _cluster(args, config, in_force)


def _unknown_labels(namespace: str) -> Mapping[str, str] | None:
    return None


def _offline(args: argparse.Namespace, config: Config, in_force: Config | None) -> int:
    errors: list[InputError] = []
    jobs = manifests(list(args.paths), errors, args.namespace or ASSUMED_NAMESPACE)
    with progress(PROGRESS) as tracker:
        judged = judge(args, tracked(jobs, tracker), config, in_force, _unknown_labels)
    _print_output(args, judged)
    for error in errors:
        print(f"{error.file}:{error.line}:{error.column}: error: {error.message}", file=sys.stderr)
    return USAGE if errors else judged.exit_code


def _print_output(args: argparse.Namespace, judged: Judged) -> None:
    if args.output == "policyreport" and not judged.reports:
        print("no TrainingJobs found: no PolicyReport to print", file=sys.stderr)
    sys.stdout.write(judged.output)


def _cluster(args: argparse.Namespace, config: Config, in_force: Config | None) -> int:
    # The Kubernetes client loads slowly: only when a cluster is audited.
    from webhook.kube.audit import list_training_jobs, namespace_lookup  # noqa: PLC0415
    from webhook.kube.client import connect, load_config  # noqa: PLC0415
    from webhook.kube.errors import KubeError  # noqa: PLC0415
    from webhook.kube.policyreports import write_reports  # noqa: PLC0415

    try:
        cluster = load_config(args.kubeconfig, args.context)
        namespace = None if args.all_namespaces else args.namespace or cluster.namespace
        with connect(cluster) as api:
            with progress(PROGRESS) as tracker:
                jobs = list_training_jobs(api, namespace, on_total=tracker.total)
                judged = judge(
                    args, tracked(jobs, tracker), config, in_force, namespace_lookup(api)
                )
            if not args.apply:
                _print_output(args, judged)
                return judged.exit_code
            result = write_reports(api, judged.reports, namespace)
    except KubeError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    for written in result.written:
        sys.stdout.write(_written_line(written))
    sys.stdout.write(judged.summary + "\n")
    for problem in result.errors:
        print(f"error: {problem}", file=sys.stderr)
    return USAGE if result.errors else judged.exit_code


def _written_line(written: Written) -> str:
    where = f"policyreport.wgpolicyk8s.io/trainingjob-guard {written.outcome}"
    if written.summary is None:
        return f"{written.namespace}: {where} (no TrainingJobs left)\n"
    counts = ", ".join(f"{written.summary[kind]} {kind}" for kind in ("pass", "fail", "warn"))
    return f"{written.namespace}: {where} ({counts})\n"
