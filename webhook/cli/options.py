"""The option groups of the subcommands, and the types that parse their values.

Groups several subcommands share (:func:`add_policy_options`,
:func:`add_request_options`) and ``serve``'s own (connections, the cluster, the
continuous audit), each a function that adds it to a subcommand's parser
(:mod:`webhook.cli.parser`).
"""

from __future__ import annotations

import argparse
import socket

from webhook.catalog import RULES
from webhook.findings import Action
from webhook.server import limits
from webhook.text import did_you_mean, suggestion


def rule_action(text: str) -> tuple[str, Action]:
    """``--rule-action RULE=ACTION``: a built-in rule (or ``policy/rule``) and an action."""
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


def key_value(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` (``--namespace-label``): the key is not empty, the value may be."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def user_name(text: str) -> str:
    """A Kubernetes user name (``--controller-user``): not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a Kubernetes user name, got an empty one")
    return text


def add_policy_options(parser: argparse.ArgumentParser, *, actions: bool = True) -> None:
    """Which policies to load, and rule actions: every subcommand that loads policies."""
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
    if not actions:
        parser.set_defaults(rule_action=[])
        return
    group.add_argument(
        "--rule-action",
        type=rule_action,
        action="append",
        default=[],
        metavar="RULE=ACTION",
        help="change a rule's action (deny, warn, audit), e.g. sagemaker.instance-type=warn",
    )


def add_request_options(parser: argparse.ArgumentParser) -> None:
    """What the API server would know of a request: ``validate`` and ``mutate``."""
    group = parser.add_argument_group("request (what the API server would know)")
    group.add_argument(
        "--namespace", help="namespace to check in (default: each manifest's, else default)"
    )
    group.add_argument(
        "--namespace-label",
        type=key_value,
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


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """``serve``'s limits on client connections."""
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


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """``serve`` in a cluster: namespace labels, policy objects, self-managed certificates."""
    cluster = parser.add_argument_group("cluster (in-cluster config, or --kubeconfig)")
    cluster.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster, then ~/.kube)")
    cluster.add_argument(
        "--namespace-labels",
        action="store_true",
        help="look up namespace labels in the API server (watch-backed cache) for policies "
        "that select on them",
    )
    cluster.add_argument(
        "--cluster-policies",
        action="store_true",
        help="also enforce the cluster's TrainingJobPolicy objects (list and watch, hot "
        "reloaded with the policy files; each object's status says whether it is in force); "
        "not ready until they are listed",
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


def add_audit_options(parser: argparse.ArgumentParser) -> None:
    """``serve``'s continuous audit."""
    audit = parser.add_argument_group("continuous audit (in-cluster config, or --kubeconfig)")
    audit.add_argument(
        "--audit-interval",
        type=limits.positive_seconds,
        metavar="SECONDS",
        help="re-audit every TrainingJob this often, and soon after the policies change, "
        "keeping each namespace's PolicyReport current (default: no continuous audit)",
    )
    audit.add_argument(
        "--audit-lease",
        metavar="NAMESPACE/NAME",
        help="the coordination.k8s.io Lease that elects the one replica that audits, "
        "when several run (default: none, this replica audits)",
    )
    audit.add_argument(
        "--audit-identity",
        default=socket.gethostname(),
        metavar="NAME",
        help="this replica's name in the Lease (default: the host name, a pod's name)",
    )
