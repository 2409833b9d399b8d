"""The ``trainingjob-guard`` command line.

Exit codes (all subcommands): 0 = nothing denied, 1 = something denied,
2 = usage error, unreadable input or YAML syntax error.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import sys
from collections.abc import Sequence

from webhook import __version__
from webhook.catalog import RULES
from webhook.cli.output import FORMATS
from webhook.cli.validate import validate
from webhook.engine import Config
from webhook.findings import Action
from webhook.text import did_you_mean, suggestion

USAGE_ERROR = 2


def examples_dir() -> str:
    """The folder of bundled example manifests (one valid, one not).

    Relative to the working directory when below it, so findings read
    ``webhook/examples/...`` in a checkout.
    """
    folder = os.path.abspath(str(importlib.resources.files("webhook") / "examples"))
    relative = os.path.relpath(folder)
    return folder if relative.startswith("..") else relative


def _rule_action(text: str) -> tuple[str, Action]:
    rule, sep, action = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected RULE=ACTION, got {text!r}")
    if rule not in RULES:
        near = suggestion(did_you_mean(rule, sorted(RULES), limit=1))
        raise argparse.ArgumentTypeError(f"unknown rule {rule!r}{near}")
    try:
        return rule, Action(action)
    except ValueError:
        allowed = ", ".join(a.value for a in Action)
        raise argparse.ArgumentTypeError(
            f"action must be one of {allowed}, not {action!r}"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="trainingjob-guard",
        description="Admission checks for AWS ACK SageMaker TrainingJobs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "validate",
        help="check TrainingJob manifests (files, directories, - for stdin)",
        description=(
            "Check every TrainingJob in the given files and directories (recursively: "
            "*.yaml, *.yml, *.json; - reads stdin) against the SageMaker API's constraints. "
            "Documents of other kinds are skipped and counted. Exit 0: nothing denied; "
            "1: something denied; 2: usage error, unreadable file or YAML syntax error."
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
    check.add_argument(
        "--rule-action",
        type=_rule_action,
        action="append",
        default=[],
        metavar="RULE=ACTION",
        help="change a rule's action (deny, warn, audit), e.g. sagemaker.instance-type=warn",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    paths: list[str] = list(args.paths)
    if args.examples:
        paths.append(examples_dir())
    if not paths:
        parser.error("validate needs at least one PATH (or --examples)")
    config = Config(actions=dict(args.rule_action))
    report = validate(paths, config)
    sys.stdout.write(FORMATS[args.output](report))
    sys.stdout.flush()
    return report.exit_code
