"""The ``trainingjob-guard`` argument parser: one small function per subcommand.

:func:`build_parser` adds each subcommand of :data:`SUBCOMMANDS`, in the order
``--help`` lists them; the option groups (policies, the request, ``serve``'s
connections, cluster and continuous audit) and the types of their values are in
:mod:`webhook.cli.options`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Final

from webhook import __version__
from webhook.cli import audit as audit_command
from webhook.cli import completion, options
from webhook.cli.output import FORMATS, TEST_FORMATS
from webhook.constraints.update import ACK_CONTROLLER_USER

if TYPE_CHECKING:  # argparse's own type: generic to type checkers only
    Sub = argparse._SubParsersAction[argparse.ArgumentParser]


def _test_parser(sub: Sub) -> None:
    """``test``: the cases of policy folders."""
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


def _serve_parser(sub: Sub) -> None:
    """``serve``: the admission webhook."""
    serve = sub.add_parser(
        "serve",
        help="run the admission webhook (HTTPS)",
        description=(
            "Serve POST /validate and /mutate (AdmissionReview v1) and GET /healthz, "
            "/readyz, /metrics over TLS. Certificates: --tls-cert-file and --tls-key-file, "
            "or --cert-dir with tls.crt, tls.key (and ca.crt); with none there, a CA and a "
            "serving certificate are generated into --cert-dir. Policy files, "
            "certificates and (--cluster-policies) TrainingJobPolicy objects are reloaded "
            "when they change."
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
    options.add_connection_options(serve)
    serve.add_argument(
        "--controller-user",
        type=options.user_name,
        action="append",
        default=None,
        metavar="USER",
        help="Kubernetes user name of the ACK SageMaker controller (repeatable; default: "
        f"{ACK_CONTROLLER_USER}); on UPDATE only its requests may fill in late-initialized "
        "spec fields, anyone else's addition of one is a spec change and checked as such",
    )
    options.add_cluster_options(serve)
    options.add_audit_options(serve)
    options.add_policy_options(serve)


def _validate_parser(sub: Sub) -> None:
    """``validate``: manifests checked as the webhook would."""
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
    options.add_policy_options(check)
    options.add_request_options(check)


def _mutate_parser(sub: Sub) -> None:
    """``mutate``: manifests with the policies' defaults."""
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
    options.add_policy_options(mutate)
    options.add_request_options(mutate)


def _audit_parser(sub: Sub) -> None:
    """``audit``: the jobs already in a cluster, or manifests."""
    audit_command.add_parser(sub, options.add_policy_options)


def _export_parser(sub: Sub) -> None:
    """``export vap | map``: the checks and defaults the API server can run itself."""
    export = sub.add_parser(
        "export",
        help="export the checks (ValidatingAdmissionPolicy) or the defaults "
        "(MutatingAdmissionPolicy, beta) for the API server itself",
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
        type=options.user_name,
        action="append",
        default=None,
        metavar="USER",
        help="Kubernetes user name of the ACK SageMaker controller, whose updates are not "
        f"checked (repeatable; default: {ACK_CONTROLLER_USER})",
    )
    options.add_policy_options(vap)
    defaults = kinds.add_parser(
        "map",
        help="print a MutatingAdmissionPolicy (beta) with the policies' defaults",
        description=(
            "Print the policies' defaults that CEL can state as one "
            "admissionregistration.k8s.io/v1beta1 MutatingAdmissionPolicy and its binding "
            "(YAML): BETA, Kubernetes 1.34+ with the MutatingAdmissionPolicy feature gate and "
            "the v1beta1 API enabled. One mutation per policy, in policy id order, fills in on "
            "CREATE what the webhook's /mutate fills in. A comment block lists every default "
            "left to the webhook and why, and the estimated CEL cost (also on stderr). Exit 0: "
            "exported; 1: with --strict, some default could not be exported; 2: a policy does "
            "not load, or an expression is over the API server's cost limits."
        ),
    )
    defaults.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 1) when any default cannot be exported, instead of only reporting it",
    )
    options.add_policy_options(defaults, actions=False)


def _policy_parser(sub: Sub) -> None:
    """``policy schema | crd | lint``."""
    policy = sub.add_parser("policy", help="work with policy files (schema, crd, lint)")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True, metavar="COMMAND")
    policy_sub.add_parser("schema", help="print the JSON Schema of policy files")
    policy_sub.add_parser(
        "crd",
        help="print the TrainingJobPolicy CustomResourceDefinition (YAML)",
        description=(
            "Print the CustomResourceDefinition that makes policies Kubernetes objects "
            "(cluster-scoped trainingjobpolicies.trainingjob-guard.io), its schema made from "
            "the same model as `policy schema`. The chart ships it in crds/; Helm installs "
            "that folder but never upgrades it, so after an upgrade apply this output: "
            "trainingjob-guard policy crd | kubectl apply -f -"
        ),
    )
    lint = policy_sub.add_parser(
        "lint",
        help="check policy files without evaluating anything",
        description=(
            "Load and compile the policies (bad fields, globs, regexes and CEL are errors) "
            "and report conflicting defaults and rules that can never match."
        ),
    )
    lint.add_argument("paths", nargs="+", metavar="PATH")


def _completion_parser(sub: Sub) -> None:
    """``completion SHELL``."""
    complete = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, fish)",
        description=(
            "Print the completion script of this command for the given shell: "
            "subcommands, options, choices, and file or folder names where a path goes."
        ),
    )
    complete.add_argument("shell", choices=completion.SHELLS)


SUBCOMMANDS: Final[tuple[Callable[[Sub], None], ...]] = (
    _validate_parser,
    _mutate_parser,
    _serve_parser,
    _audit_parser,
    _test_parser,
    _export_parser,
    _policy_parser,
    _completion_parser,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="trainingjob-guard",
        description="Admission checks for AWS ACK SageMaker TrainingJobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(sub)
    return parser
