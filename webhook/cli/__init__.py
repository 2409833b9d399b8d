"""The ``trainingjob-guard`` command line.

Exit codes (all subcommands): 0 = nothing denied, 1 = something denied (or a
policy test failed, or lint found a problem), 2 = usage error, unreadable
input, YAML syntax error or a policy that does not load.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from webhook import __version__
from webhook.catalog import RULES
from webhook.cli import commands, completion
from webhook.cli.output import FORMATS, TEST_FORMATS
from webhook.findings import Action
from webhook.policy.update import ACK_CONTROLLER_USER
from webhook.server import limits
from webhook.text import did_you_mean, suggestion

USAGE_ERROR = 2


EXAMPLE_MANIFESTS = ("training-job-invalid.yaml", "training-job.yaml")


def example_manifests() -> list[str]:
    """The bundled example manifests (one valid, one not).

    Relative to the working directory when below it, so findings read
    ``webhook/examples/...`` in a checkout.
    """
    folder = os.path.abspath(str(importlib.resources.files("webhook") / "examples"))
    relative = os.path.relpath(folder)
    base = folder if relative.startswith("..") else relative
    return [os.path.join(base, name) for name in EXAMPLE_MANIFESTS]


def _rule_action(text: str) -> tuple[str, Action]:
    rule, sep, action = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected RULE=ACTION, got {text!r}")
    if rule not in RULES and "/" not in rule:
        near = suggestion(did_you_mean(rule, sorted(RULES), limit=1))
        raise argparse.ArgumentTypeError(f"unknown rule {rule!r}{near}")
    try:
        return rule, Action(action)
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        message = f"action must be one of {allowed}, not {action!r}"
        raise argparse.ArgumentTypeError(message) from None


def _label(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _user_name(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a Kubernetes user name, got an empty one")
    return text


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--policy",
        action="append",
        default=[],
        metavar="PATH",
        help="policy file or directory, or 'baseline' for the bundled baseline (repeatable); "
        "the bundled baseline is loaded as well unless --no-baseline, as in the chart",
    )
    group.add_argument(
        "--no-baseline",
        action="store_true",
        help="do not load the bundled baseline policy (the chart's policies.includeBaseline: "
        "false)",
    )
    group.add_argument(
        "--no-policy",
        action="store_true",
        help="check the SageMaker API's constraints only (no policy, not even the baseline)",
    )
    group.add_argument(
        "--rule-action",
        type=_rule_action,
        action="append",
        default=[],
        metavar="RULE=ACTION",
        help="change a rule's action (deny, warn, audit), e.g. sagemaker.instance-type=warn",
    )


def _add_request_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("request (what the API server would know)")
    group.add_argument(
        "--namespace", help="namespace to check in (default: each manifest's, else default)"
    )
    group.add_argument(
        "--namespace-label",
        type=_label,
        action="append",
        default=None,
        metavar="KEY=VALUE",
        help="a label of the namespace, for policies that select on them (repeatable)",
    )
    group.add_argument("--user", help="requesting user, for exemptions")
    group.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="GROUP",
        help="a group of the requesting user, for exemptions (repeatable)",
    )


def _add_connection_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("connections")
    group.add_argument(
        "--read-timeout",
        type=limits.positive_seconds,
        default=limits.READ_TIMEOUT,
        metavar="SECONDS",
        help="time a client has for its TLS handshake and for each request, from its "
        "first byte to its last; a slower one is disconnected (default: %(default)s, "
        "under the webhook configuration's timeoutSeconds)",
    )
    group.add_argument(
        "--keep-alive-timeout",
        type=limits.positive_int,
        default=limits.KEEP_ALIVE_TIMEOUT,
        metavar="SECONDS",
        help="time an idle connection is kept for the next request (default: %(default)s, "
        "longer than the API server keeps an idle connection, 90 s)",
    )
    group.add_argument(
        "--max-connections",
        type=limits.positive_int,
        default=limits.MAX_CONNECTIONS,
        metavar="N",
        help="connections open at once; beyond it the oldest one not being answered is "
        "closed (default: %(default)s)",
    )


def _add_test_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    test = sub.add_parser(
        "test",
        help="run policy test folders (policy.yaml + tests/cases.yaml)",
        description=(
            "Run the cases of each policy folder at or under the given directories (one "
            "policy's folder runs that policy's cases) and report every mismatch. Exit 1 "
            "on any mismatch, a mistake in a cases.yaml, or a folder without cases."
        ),
    )
    test.add_argument("paths", nargs="+", metavar="DIR")
    test.add_argument(
        "-o", "--output", choices=sorted(TEST_FORMATS), default="text", help="output format"
    )
    test.add_argument(
        "-k",
        "--case",
        metavar="TEXT",
        help="run only the cases whose name contains TEXT (ignoring case)",
    )


def _add_serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser(
        "serve",
        help="run the admission webhook (HTTPS)",
        description=(
            "Serve POST /validate and /mutate (AdmissionReview v1) and GET /healthz, "
            "/readyz, /metrics over TLS. Certificates: --tls-cert-file and --tls-key-file, "
            "or --cert-dir with tls.crt, tls.key (and ca.crt); with none there, a CA and a "
            "serving certificate are generated into --cert-dir. Policy files and "
            "certificates are reloaded when they change."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8443, help="port (0: any free port)")
    serve.add_argument("--tls-cert-file", type=Path, help="serving certificate (PEM)")
    serve.add_argument("--tls-key-file", type=Path, help="its private key (PEM)")
    serve.add_argument(
        "--cert-dir",
        type=Path,
        help="folder with tls.crt, tls.key, ca.crt; generated when empty "
        "(default: $XDG_STATE_HOME/trainingjob-guard/certs)",
    )
    serve.add_argument(
        "--dns-name",
        action="append",
        default=[],
        metavar="NAME",
        help="extra DNS name for a generated certificate (repeatable), e.g. the Service's",
    )
    serve.add_argument(
        "--reload-interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="how often to look for changed policy files and certificates",
    )
    _add_connection_options(serve)
    serve.add_argument(
        "--controller-user",
        type=_user_name,
        action="append",
        default=None,
        metavar="USER",
        help="Kubernetes user name of the ACK SageMaker controller (repeatable; default: "
        f"{ACK_CONTROLLER_USER}); on UPDATE only its requests may fill in late-initialized "
        "spec fields, anyone else's addition of one is a spec change and checked as such",
    )
    cluster = serve.add_argument_group("cluster (in-cluster config, or --kubeconfig)")
    cluster.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube)")
    cluster.add_argument(
        "--namespace-labels",
        action="store_true",
        help="look up namespace labels in the API server (watch-backed cache) for policies "
        "that select on them",
    )
    cluster.add_argument(
        "--self-managed-certs",
        metavar="NAMESPACE/SECRET",
        help="keep the CA and serving certificate in this TLS Secret (created, shared by "
        "replicas, renewed before expiry) and write them into --cert-dir",
    )
    cluster.add_argument(
        "--certificate-check-interval",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="how often a self-managed certificate is checked for renewal",
    )
    cluster.add_argument(
        "--validating-webhook",
        metavar="NAME",
        help="ValidatingWebhookConfiguration to inject the CA into (with --self-managed-certs)",
    )
    cluster.add_argument(
        "--mutating-webhook",
        metavar="NAME",
        help="MutatingWebhookConfiguration to inject the CA into (with --self-managed-certs)",
    )
    _add_policy_options(serve)


def _add_export_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser(
        "export",
        help="export the checks for the API server itself (ValidatingAdmissionPolicy)",
        description="Export the checks in a form the API server runs without the webhook.",
    )
    kinds = export.add_subparsers(dest="export_kind", required=True, metavar="KIND")
    vap = kinds.add_parser(
        "vap",
        help="print ValidatingAdmissionPolicies and bindings of the constraints and policies",
        description=(
            "Print the SageMaker API constraints and the policies' rules that CEL can state as "
            "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy and "
            "ValidatingAdmissionPolicyBinding objects (YAML), with a comment block listing "
            "every rule left to the webhook and why, and the estimated CEL cost of each "
            "policy (also on stderr). Exit 0: exported; 1: with --strict, some rule could not "
            "be exported; 2: a policy does not load, or an expression is over the API server's "
            "cost limits."
        ),
    )
    vap.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 1) when any rule cannot be exported, instead of only reporting it",
    )
    vap.add_argument(
        "--controller-user",
        type=_user_name,
        action="append",
        default=None,
        metavar="USER",
        help="Kubernetes user name of the ACK SageMaker controller, whose updates are not "
        f"checked (repeatable; default: {ACK_CONTROLLER_USER})",
    )
    _add_policy_options(vap)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="trainingjob-guard",
        description="Admission checks for AWS ACK SageMaker TrainingJobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "validate",
        help="check TrainingJob manifests (files, directories, - for stdin)",
        description=(
            "Apply the policies' defaults (as the API server would, after the mutating "
            "webhook), then check every TrainingJob in the given files and directories "
            "(recursively: *.yaml, *.yml, *.json; - reads stdin) against the SageMaker "
            "API's constraints and the policies. Documents of other kinds are skipped and "
            "counted. Exit 0: nothing denied; 1: something denied; 2: usage error, "
            "unreadable file, YAML syntax error or a policy that does not load."
        ),
    )
    check.add_argument("paths", nargs="*", metavar="PATH")
    check.add_argument(
        "--examples",
        action="store_true",
        help="also check the bundled example manifests (one valid, one not)",
    )
    check.add_argument(
        "-o", "--output", choices=sorted(FORMATS), default="text", help="output format"
    )
    check.add_argument("--no-mutate", action="store_true", help="do not apply defaults first")
    check.add_argument(
        "--show-patch", action="store_true", help="print the defaults' JSON Patch (text output)"
    )
    check.add_argument(
        "--strict",
        action="store_true",
        help="deny what CI cannot check as the cluster would: a manifest without "
        "metadata.namespace (and no --namespace) that namespace-scoped policies did not "
        "apply to (cli.namespace-unset, a warning otherwise)",
    )
    _add_policy_options(check)
    _add_request_options(check)

    mutate = sub.add_parser(
        "mutate",
        help="print manifests with the policies' defaults applied",
        description=(
            "Print every document of the given files (- for stdin) as YAML, with the "
            "defaults of the applying policies filled into each TrainingJob; other "
            "documents are printed unchanged. Comments are not kept."
        ),
    )
    mutate.add_argument("paths", nargs="+", metavar="PATH")
    _add_policy_options(mutate)
    _add_request_options(mutate)

    _add_serve_parser(sub)

    audit = sub.add_parser(
        "audit",
        help="check the TrainingJobs already in a cluster (read-only)",
        description=(
            "List the TrainingJobs of a namespace or of all namespaces (kubeconfig or "
            "in-cluster config) and check each as the webhook would judge it today, with "
            "counts per rule and per namespace. Read-only. Exit 1 when some would be denied."
        ),
    )
    audit.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube)")
    audit.add_argument("--context", help="kubeconfig context")
    scope = audit.add_mutually_exclusive_group()
    scope.add_argument("-n", "--namespace", help="one namespace (default: the context's)")
    scope.add_argument("-A", "--all-namespaces", action="store_true", help="every namespace")
    audit.add_argument("-o", "--output", choices=["text", "json"], default="text")
    _add_policy_options(audit)

    _add_test_parser(sub)
    _add_export_parser(sub)

    policy = sub.add_parser("policy", help="work with policy files (schema, lint)")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    policy_sub.add_parser("schema", help="print the JSON Schema of policy files")
    lint = policy_sub.add_parser(
        "lint",
        help="check policy files without evaluating anything",
        description=(
            "Load and compile the policies (bad fields, globs, regexes and CEL are errors) "
            "and report conflicting defaults and rules that can never match."
        ),
    )
    lint.add_argument("paths", nargs="+", metavar="PATH")

    complete = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, fish)",
        description=(
            "Print the completion script of this command for the given shell: "
            "subcommands, options, choices, and file or folder names where a path goes."
        ),
    )
    complete.add_argument("shell", choices=completion.SHELLS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "validate":
        paths: list[str] = list(args.paths)
        if args.examples:
            paths.extend(example_manifests())
        if not paths:
            parser.error("validate needs at least one PATH (or --examples)")
        code = commands.validate(args, paths)
    elif args.command == "serve":
        code = commands.serve(args)
    elif args.command == "audit":
        code = commands.audit(args)
    elif args.command == "mutate":
        code = commands.mutate(args)
    elif args.command == "test":
        code = commands.test(args)
    elif args.command == "export":
        code = commands.export_vap(args, ["trainingjob-guard", *(argv or sys.argv[1:])])
    elif args.command == "completion":
        sys.stdout.write(completion.script(parser, args.shell))
        code = 0
    elif args.policy_command == "schema":
        code = commands.policy_schema()
    else:
        code = commands.policy_lint(args)
    sys.stdout.flush()
    return code
