"""What each subcommand does, between parsed arguments and the exit code."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonpatch
import orjson
import yaml

from webhook import testing
from webhook.cli.output import FORMATS, TEST_FORMATS
from webhook.cli.report import InputError
from webhook.cli.sources import iter_sources, parse_source
from webhook.cli.validate import NAMESPACE_UNSET, Requester, is_training_job, objects
from webhook.cli.validate import validate as run_validate
from webhook.constraints.update import DEFAULT_CONTROLLER_USERS
from webhook.engine import Config
from webhook.findings import Action
from webhook.policy import crd, lint
from webhook.policy.compiled import EMPTY, PolicySet
from webhook.policy.load import (
    PolicyLoadError,
    load_policies,
    policy_sources,
    unknown_rule_actions,
)
from webhook.policy.model import PolicyDocument
from webhook.policy.subject import Subject

OK, DENIED, USAGE = 0, 1, 2


def policy_paths(args: argparse.Namespace) -> list[str | Path]:
    """The policy files and folders the flags name (:func:`policy_sources`: the chart's rule)."""
    if args.no_policy:
        return []
    return policy_sources(args.policy, baseline=not args.no_baseline)


def load_requested_policies(args: argparse.Namespace) -> PolicySet | None:
    """The policies the flags ask for; None (after printing why) when they do not load.

    A ``--rule-action`` for a rule that none of them has is an error too.
    """
    paths = policy_paths(args)
    try:
        policies = load_policies(paths) if paths else EMPTY
        unknown = unknown_rule_actions(dict(args.rule_action), policies)
        if unknown:
            raise PolicyLoadError(unknown)
    except PolicyLoadError as error:
        for problem in error.errors:
            print(f"{problem}", file=sys.stderr)
        print(f"{len(error.errors)} policy error(s): nothing was checked", file=sys.stderr)
        return None
    return policies


def requester(args: argparse.Namespace) -> Requester:
    """The request context the flags describe."""
    labels = dict(args.namespace_label) if args.namespace_label is not None else None
    return Requester(args.namespace, labels, args.user, tuple(args.group))


def validate(args: argparse.Namespace, paths: list[str]) -> int:
    """``validate``: defaults, then every check, on every TrainingJob."""
    policies = load_requested_policies(args)
    if policies is None:
        return USAGE
    actions = dict(args.rule_action)
    if args.strict:
        actions[NAMESPACE_UNSET] = Action.DENY
    config = Config(actions=actions, policies=policies, mutate=not args.no_mutate)
    report = run_validate(paths, config, requester(args))
    report.show_patch = args.show_patch
    sys.stdout.write(FORMATS[args.output](report))
    return report.exit_code


def mutate(args: argparse.Namespace) -> int:
    """``mutate``: print the documents with the defaults applied."""
    policies = load_requested_policies(args)
    if policies is None:
        return USAGE
    who = requester(args)
    errors: list[InputError] = []
    out: list[str] = []
    config = Config(policies=policies)
    for source in iter_sources(list(args.paths), errors):
        for document in parse_source(source, errors):
            out.append(_dump(_defaulted(document.data, policies, who)))
            for data, _ in objects(document.data, None):
                unset = who.namespace_unset(data, config) if is_training_job(data) else None
                if unset is not None:
                    print(f"{document.file}: warning: {unset.message}", file=sys.stderr)
    sys.stdout.write("---\n".join(out))
    for error in errors:
        print(f"{error.file}:{error.line}:{error.column}: error: {error.message}", file=sys.stderr)
    return USAGE if errors else OK


def _defaulted(data: Any, policies: PolicySet, who: Requester) -> Any:
    if isinstance(data, dict) and isinstance(data.get("items"), list) and not is_training_job(data):
        items = [_defaulted(item, policies, who) for item, _ in objects(data, None)]
        return {**data, "items": items}
    if not is_training_job(data):
        return data
    patch = policies.patch(data, Subject.of(data, who.context(data)))
    return jsonpatch.apply_patch(data, patch) if patch else data


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def export_vap(args: argparse.Namespace, command: list[str]) -> int:
    """``export vap``: the checks as ValidatingAdmissionPolicies, on stdout."""
    from webhook.export import render  # noqa: PLC0415 (only when exporting)
    from webhook.export.vap import ExportError, export  # noqa: PLC0415

    policies = load_requested_policies(args)
    if policies is None:
        return USAGE
    users = frozenset(args.controller_user) if args.controller_user else DEFAULT_CONTROLLER_USERS
    config = Config(actions=dict(args.rule_action), policies=policies, controller_users=users)
    try:
        exported = export(config)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return USAGE
    return _exported(
        args,
        render.report(exported),
        exported.errors,
        lambda: render.stream(exported, command),
        skipped=f"{len(exported.skipped)} rule(s)" if exported.skipped else "",
    )


def export_map(args: argparse.Namespace, command: list[str]) -> int:
    """``export map``: the policies' defaults as a MutatingAdmissionPolicy (beta), on stdout."""
    from webhook.export import render  # noqa: PLC0415 (only when exporting)
    from webhook.export.mutating import export  # noqa: PLC0415

    policies = load_requested_policies(args)
    if policies is None:
        return USAGE
    exported = export(Config(policies=policies))
    return _exported(
        args,
        render.map_report(exported),
        exported.errors,
        lambda: render.map_stream(exported, command),
        skipped=f"{len(exported.skipped)} default(s)" if exported.skipped else "",
    )


def _exported(
    args: argparse.Namespace,
    report: Iterable[str],
    errors: Sequence[str],
    stream: Callable[[], str],
    *,
    skipped: str,
) -> int:
    """An export's report on stderr, then its objects on stdout unless over the cost limits.

    Exit 2 (nothing printed) when an expression is over the API server's limits; 1 with
    ``--strict`` when something was *skipped* (what, for the message); else 0.
    """
    for line in report:
        print(line, file=sys.stderr)
    if errors:
        for problem in errors:
            print(f"error: {problem}", file=sys.stderr)
        print(
            f"{len(errors)} expression(s) over the API server's cost limits: nothing was exported",
            file=sys.stderr,
        )
        return USAGE
    sys.stdout.write(stream())
    if args.strict and skipped:
        print(f"--strict: {skipped} cannot be exported", file=sys.stderr)
        return DENIED
    return OK


def serve(args: argparse.Namespace) -> int:
    """``serve``: the admission webhook over TLS until SIGTERM."""
    from webhook.server.limits import Limits  # noqa: PLC0415 (only when serving)
    from webhook.server.serve import (  # noqa: PLC0415
        ServeOptions,
        serve_forever,
    )

    options = ServeOptions(
        host=args.host,
        port=args.port,
        policy_paths=tuple(str(path) for path in policy_paths(args)),
        actions=dict(args.rule_action),
        cert_file=args.tls_cert_file,
        key_file=args.tls_key_file,
        cert_dir=args.cert_dir,
        dns_names=tuple(args.dns_name),
        reload_interval=args.reload_interval,
        kubeconfig=args.kubeconfig,
        namespace_labels=args.namespace_labels,
        cluster_policies=args.cluster_policies,
        self_managed=args.self_managed_certs,
        validating_webhook=args.validating_webhook,
        mutating_webhook=args.mutating_webhook,
        certificate_check_seconds=args.certificate_check_interval,
        controller_users=frozenset(args.controller_user or DEFAULT_CONTROLLER_USERS),
        limits=Limits(args.read_timeout, args.keep_alive_timeout, args.max_connections),
        audit_interval=args.audit_interval,
        audit_lease=args.audit_lease,
        audit_identity=args.audit_identity,
    )
    return serve_forever(options)


def test(args: argparse.Namespace) -> int:
    """``test``: run policy test folders (``-k``: only the cases whose name has TEXT)."""
    results = testing.run(list(args.paths), select=args.case)
    sys.stdout.write(TEST_FORMATS[args.output](results))
    return OK if results.passed else DENIED


def policy_schema() -> int:
    """``policy schema``: the JSON Schema of policy files."""
    schema = PolicyDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "trainingjob-guard TrainingJobPolicy"
    sys.stdout.write(orjson.dumps(schema, option=orjson.OPT_INDENT_2).decode() + "\n")
    return OK


def policy_crd() -> int:
    """``policy crd``: the TrainingJobPolicy CustomResourceDefinition, as the chart ships it."""
    sys.stdout.write(crd.render())
    return OK


def policy_lint(args: argparse.Namespace) -> int:
    """``policy lint``: load, compile and look for conflicts and dead rules."""
    try:
        policies = load_policies(list(args.paths))
    except PolicyLoadError as error:
        for problem in error.errors:
            print(problem)
        print(f"\n{len(error.errors)} error(s)")
        return USAGE
    problems = lint.lint(policies)
    for line in problems:
        print(line)
    count = len(policies)
    if problems:
        print(f"\n{count} {'policy' if count == 1 else 'policies'}: {len(problems)} problem(s)")
        return DENIED
    print(f"{count} {'policy' if count == 1 else 'policies'}: no problems")
    return OK
