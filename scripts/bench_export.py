"""How long ``trainingjob-guard export vap`` takes with the baseline and every shipped policy.

Measures the export in a fresh process, as a user runs it (imports, policy
loading, the CEL, the cost estimate and the YAML), best of a few runs, and the
pure core alone in the same process. Not a test: a figure for the README.

    python scripts/bench_export.py [--runs N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def _policies() -> list[str]:
    return [str(path) for path in sorted((PROJECT / "policies").glob("*/policy.yaml"))]


def _command() -> list[str]:
    args = [arg for path in _policies() for arg in ("--policy", path)]
    return [sys.executable, "-m", "webhook", "export", "vap", *args]


def _core() -> float:
    from webhook.engine import Config  # noqa: PLC0415
    from webhook.export.vap import export  # noqa: PLC0415
    from webhook.policy.load import load_policies, policy_sources  # noqa: PLC0415

    started = time.perf_counter()
    config = Config(policies=load_policies(policy_sources(_policies(), baseline=True)))
    export(config)
    return time.perf_counter() - started


def main() -> None:
    """Print the wall time of the command and of the core."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(_command(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - started)
    print(f"export vap, baseline + {len(_policies())} shipped policies: {best:.2f} s (process)")
    print(f"the pure core (load, export, estimate), first call in this process: {_core():.2f} s")


if __name__ == "__main__":
    main()
