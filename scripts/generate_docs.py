#!/usr/bin/env python3
"""Write the generated reference pages of docs/ (webhook/reference.py renders them).

docs/rules.md comes from the rule catalogue (webhook/catalog.py), and
docs/rule-kinds.md from the policy model (webhook/policy/model.py). Run it after
changing either; a test fails while a page is stale.

Usage:
    .venv/bin/python scripts/generate_docs.py            # rewrite the pages
    .venv/bin/python scripts/generate_docs.py --check    # exit 1 if one is stale
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from webhook.reference import REGENERATE, pages

PROJECT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Write the stale pages, or with ``--check`` only name them (exit 1)."""
    parser = argparse.ArgumentParser(description="Write the generated pages of docs/.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page is stale")
    parser.add_argument(
        "--root", type=Path, default=PROJECT, help="the project root (default: this checkout)"
    )
    args = parser.parse_args(argv)
    stale = []
    for name, text in sorted(pages().items()):
        path = args.root / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run {REGENERATE}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
