"""The policy test runner: ``trainingjob-guard test DIR``.

A policy folder holds ``policy.yaml`` and ``tests/cases.yaml``; each case
names a manifest in ``tests/`` and what the policy must decide about it::

    cases:
      - name: own bucket is fine
        object: good-own-bucket.yaml
        expect: allow                 # allow (no warnings) | warn | deny
      - name: another team's bucket
        object: bad-other-bucket.yaml
        namespace: team-b             # default: the manifest's namespace, else "default"
        expect: deny
        rules: [tenancy/buckets]      # exactly the rule ids of all findings, in any order
        paths: [spec.outputDataConfig.s3OutputPath]   # exactly their field paths
        messageContains: outside the S3 locations
      - name: defaults fill the KMS key
        object: good-no-kms.yaml
        expect: allow
        patched: good-no-kms-patched.yaml   # the object after the defaults
      - name: metadata-only update
        operation: UPDATE
        oldObject: old.yaml
        object: new.yaml
        userInfo: {username: alice, groups: [ml-admins]}
        namespaceLabels: {env: prod}
        expect: allow

Cases run through :func:`webhook.engine.review` exactly as the webhook and
``validate`` do, with the folder's policy loaded on its own. The parts:

* :mod:`webhook.testing.cases`: the ``cases.yaml`` format and how case files are read;
* :mod:`webhook.testing.runner`: finding policy folders and running their cases;
* :mod:`webhook.testing.results`: each case's result and the text report.
"""

from __future__ import annotations

from webhook.testing.cases import (
    CASES_FILE,
    Case,
    CaseFileError,
    CasesFile,
    UserInfo,
    read_case_document,
    read_case_file,
)
from webhook.testing.results import CaseResult, Results, label, render, summary
from webhook.testing.runner import discover, run

__all__ = [
    "CASES_FILE",
    "Case",
    "CaseFileError",
    "CaseResult",
    "CasesFile",
    "Results",
    "UserInfo",
    "discover",
    "label",
    "read_case_document",
    "read_case_file",
    "render",
    "run",
    "summary",
]
