"""The ``trainingjob-guard`` command line.

Exit codes (all subcommands): 0 = nothing denied, 1 = something denied (or a
policy test failed, or lint found a problem), 2 = usage error, unreadable
input, YAML syntax error or a policy that does not load.
"""

from __future__ import annotations

import importlib.resources
import os
import sys
from collections.abc import Sequence

from webhook.cli import audit as audit_command
from webhook.cli import commands, completion
from webhook.cli.parser import build_parser

__all__ = ["build_parser", "example_manifests", "main"]

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
        code = audit_command.run(args)
    elif args.command == "mutate":
        code = commands.mutate(args)
    elif args.command == "test":
        code = commands.test(args)
    elif args.command == "export":
        command = ["trainingjob-guard", *(argv or sys.argv[1:])]
        export = commands.export_map if args.export_kind == "map" else commands.export_vap
        code = export(args, command)
    elif args.command == "completion":
        sys.stdout.write(completion.script(parser, args.shell))
        code = 0
    elif args.policy_command == "schema":
        code = commands.policy_schema()
    elif args.policy_command == "crd":
        code = commands.policy_crd()
    else:
        code = commands.policy_lint(args)
    sys.stdout.flush()
    return code
