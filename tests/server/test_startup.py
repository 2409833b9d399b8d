"""``serve`` on a laptop starts without the Kubernetes client (start-up time and memory).

The client's import (hundreds of models) doubled the time to ready and added
about 30 MB; only ``--namespace-labels`` and ``--self-managed-certs`` need it.
``scripts/bench_startup.py`` measures the time and memory; this holds the cause.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT


def test_serving_without_cluster_flags_does_not_import_the_kubernetes_client() -> None:
    code = (
        "import sys\n"
        "import webhook.cli, webhook.cli.commands, webhook.server.serve\n"
        "from webhook.server.state import ServerState\n"
        "from webhook.policy.load import baseline_policy\n"
        "ServerState.load([baseline_policy()])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'kubernetes'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"
