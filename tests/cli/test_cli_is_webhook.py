"""``trainingjob-guard validate`` in CI decides as the webhook in the cluster does.

On generated jobs (the corpus of :mod:`tests.native.property.jobs`, edited), with
the whole policy library, both sides read the same manifest file:

* the CLI reads it as CI runs it: ``validate FILE`` with the requesting user's
  name and groups (no ``--namespace``: the manifest's own, else ``default``);
* the cluster's side is emulated as the API server does it: kubectl reads the
  file and sends JSON (``kubectl label --local -o json``, no cluster needed; the
  label it adds is taken out again), the API server puts the object in the
  request's namespace (the manifest's, else kubectl's ``default``), calls
  ``/mutate``, applies the returned JSON Patch, and calls ``/validate`` with the
  result, each time with the AdmissionReview as JSON bytes decoded the way
  the server decodes them. The CRD schema check between the two is left out:
  the webhook's own ``crd.*`` findings stand for it on both sides.

Held: the same object in the end (what CI read, with the defaults its
patch applies, is what the cluster stores: kubectl's values, coerced alike), the
same decision, the same findings (rule, field path, message, action), and the
webhook's fast path allows only what the CLI allows. The one
finding only the CLI gives, ``cli.namespace-unset``, comes only for a manifest
without a namespace. The run is derandomized (the same examples every time); each
example costs a kubectl call, so it stays at 30 (``CLI_PROPERTY_EXAMPLES`` for more).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import jsonpatch
import orjson
import pytest
import yaml
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from tests.conftest import PROJECT, admission_review
from tests.native.property.jobs import Mutant, mutants
from webhook.cli.sources import Source, parse_source
from webhook.cli.validate import NAMESPACE_UNSET, Requester
from webhook.cli.validate import validate as validate_files
from webhook.engine import Config
from webhook.policy.load import load_policies
from webhook.server import admission
from webhook.server.fast import FastPath
from webhook.server.wire import parse_request

EXAMPLES: Final = int(os.environ.get("CLI_PROPERTY_EXAMPLES", "30"))
USER: Final = "alice"
GROUPS: Final = ("system:authenticated", "ml-engineers")
MARK: Final = "trainingjob-guard.test/read"
"""The label ``kubectl label`` is asked to add, and which is taken out again."""
POLICIES: Final = load_policies([PROJECT / "policies"])


def _kubectl() -> str | None:
    beside = Path(sys.executable).with_name("kubectl")
    return str(beside) if beside.is_file() else shutil.which("kubectl")


KUBECTL: Final = _kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")


def _as_kubectl_sends(path: Path) -> dict[str, Any]:
    """The object kubectl would send for the manifest at *path*, as JSON data."""
    assert KUBECTL is not None
    done = subprocess.run(
        [KUBECTL, "label", "--local", "-f", str(path), f"{MARK}=x", "-o", "json"],
        capture_output=True,
        check=True,
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    sent: dict[str, Any] = orjson.loads(done.stdout)
    labels = sent["metadata"]["labels"]
    del labels[MARK]
    if not labels:
        del sent["metadata"]["labels"]
    return sent


def _webhook(job: dict[str, Any], namespace: str) -> tuple[dict[str, Any], admission.Answer]:
    """``/mutate``, the patch applied, then ``/validate``, as the API server calls them.

    Returns the object as stored (defaults applied) and the answer of ``/validate``.
    """
    job = copy.deepcopy(job)
    job["metadata"]["namespace"] = namespace  # the API server sets it from the request
    config = Config(policies=POLICIES, mutate=False)
    request = parse_request(_wire(admission_review(job, namespace, userInfo=_user())))
    mutated = admission.mutate(request, config)
    assert mutated.allowed
    if mutated.patch:
        job = jsonpatch.apply_patch(job, list(mutated.patch))
    review = _wire(admission_review(job, namespace, userInfo=_user()))
    answer = admission.validate(parse_request(review), config)
    fast = FastPath.of(config)
    if fast is not None and fast.clean(_wire(review)):
        assert answer is admission.ALLOWED, "the fast path allowed what the checks do not"
    return job, answer


def _user() -> dict[str, Any]:
    return {"username": USER, "groups": list(GROUPS)}


def _wire(review: dict[str, Any]) -> dict[str, Any]:
    """*review* as the server gets it: JSON bytes, decoded by orjson."""
    data: dict[str, Any] = orjson.loads(orjson.dumps(review))
    return data


def _findings(items: Any) -> list[tuple[str, str, str, str]]:
    return sorted((f.rule, f.where, f.message, f.action.value) for f in items)


#: Plain scalars that PyYAML writes unquoted and kubectl reads as something else than
#: PyYAML would: the manifest then says what kubectl reads, for both sides.
TRICKY: Final = ("y", "n", "3e-4", "1e-3", "1.0", "1:30", "0o755", "08", "0X1f", "-.5", "1e-400")
TRICKY_ENTRIES: Final = st.dictionaries(
    st.sampled_from(("learning_rate", "eta", "flag", "mode")), st.sampled_from(TRICKY), max_size=3
)


@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutants(), TRICKY_ENTRIES)
def test_the_cli_decides_as_the_webhook(
    tmp_path_factory: pytest.TempPathFactory, mutant: Mutant, tricky: dict[str, str]
) -> None:
    job = mutant.job()
    spec = job.get("spec")
    if tricky and isinstance(spec, dict):
        values = spec.get("hyperParameters")
        spec["hyperParameters"] = {**(values if isinstance(values, dict) else {}), **tricky}
    if not isinstance(job.get("metadata"), dict) or not isinstance(
        job["metadata"].get("name"), str
    ):
        return  # kubectl needs a name to read the object; the API server refuses it anyway
    folder = tmp_path_factory.mktemp("job")
    manifest = folder / "job.yaml"
    manifest.write_text(yaml.safe_dump(job, sort_keys=False, allow_unicode=True), encoding="utf-8")
    note(manifest.read_text(encoding="utf-8"))

    report = validate_files(
        [str(manifest)],
        Config(policies=POLICIES, mutate=True),
        Requester(user=USER, groups=GROUPS),
    )
    assert not report.errors, report.errors
    [result] = report.results
    own = job["metadata"].get("namespace")
    namespace = own if isinstance(own, str) and own else "default"
    stored, answer = _webhook(_as_kubectl_sends(manifest), namespace)

    # The values: what CI read, with its defaults, is what the cluster stores.
    [document] = parse_source(Source(str(manifest), manifest.read_text(encoding="utf-8")), [])
    read = jsonpatch.apply_patch(document.data, list(result.patch))
    read["metadata"]["namespace"] = namespace
    assert read == stored

    cli = [v.finding for v in result.violations if v.rule != NAMESPACE_UNSET]
    unset = [v.finding for v in result.violations if v.rule == NAMESPACE_UNSET]
    assert _findings(cli) == _findings(answer.findings)
    assert result.allowed == answer.allowed or any(f.action.value == "deny" for f in unset)
    assert not unset or not (isinstance(own, str) and own)
