"""Shell completion scripts, generated from the command line's own parser.

shtab writes the script from the argparse parser, so it lists exactly the
subcommands, options and choices of the installed version: nothing to keep in
sync by hand. Unlike argcomplete, the script is static and does not start
Python on every press of Tab. shtab is imported only when a script is asked for.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

SHELLS = ("bash", "zsh", "fish")
"""The shells a script can be printed for."""

# Arguments whose value is a path, by metavar (the positionals and --policy) or by
# option string. Files complete with folders too (a manifest or policy argument
# may be either); folders alone where only a folder makes sense.
FILE_ARGUMENTS = frozenset({"PATH", "--tls-cert-file", "--tls-key-file", "--kubeconfig"})
DIRECTORY_ARGUMENTS = frozenset({"DIR", "--cert-dir"})


def walk(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """Every argument of *parser* and of its subcommands, depth first."""
    for action in parser._actions:
        yield action
        if isinstance(action, argparse._SubParsersAction):
            for subparser in action.choices.values():
                yield from walk(subparser)


def _names(action: argparse.Action) -> set[str]:
    names = set(action.option_strings)
    if isinstance(action.metavar, str):
        names.add(action.metavar)
    return names


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    """The completion script of *parser* for *shell* (one of `SHELLS`)."""
    import shtab  # noqa: PLC0415 (only when a script is asked for)

    for action in walk(parser):
        if isinstance(action, argparse._SubParsersAction):
            # shtab describes a subcommand by its parser's description, a paragraph
            # for most of ours: menus read better with the one-line help.
            for choice in action._choices_actions:
                action.choices[choice.dest].description = choice.help
        names = _names(action)
        # shtab reads a `complete` attribute that argparse does not declare.
        if names & FILE_ARGUMENTS:
            action.complete = shtab.FILE  # type: ignore[attr-defined]
        elif names & DIRECTORY_ARGUMENTS:
            action.complete = shtab.DIRECTORY  # type: ignore[attr-defined]
    text: str = shtab.complete(parser, shell)
    return text if text.endswith("\n") else text + "\n"
