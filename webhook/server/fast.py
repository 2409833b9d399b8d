"""The fast path of ``/validate``: one native check proves a whole AdmissionReview clean.

Most requests are a TrainingJob CREATE that every check passes, and the
answer is "allowed". Proving it step by step (type the review, build the
request context, select the policies, check the job against the built-in
proof, then against each policy's) costs more than the proofs
themselves. :class:`FastPath` compiles, once per loaded configuration, one
schema of such a review (:mod:`webhook.native`):

* the AdmissionReview v1 envelope (:data:`webhook.server.wire.ENVELOPE`);
* a CREATE of the TrainingJob resource itself, not a subresource, with an object;
* an object that holds the engine's proof of a clean CREATE
  (:func:`webhook.engine.clean_create`): the built-in checks and the rules of
  the policies that may apply to it.

When it holds, :func:`webhook.server.admission.validate` would answer
"allowed" with no finding, so that is the answer; when it does not, the
usual path runs and gives the exact one. Like every proof it may only
be stricter than the checks, never looser: ``tests/server/test_fast.py``
compares the two on every shipped job, policy case and mutants of them.

Which policies apply, and to which namespace, is the engine's to say: this
module adds only what belongs to the request (the envelope, the operation,
the resource). There is no fast path when the engine has no proof.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from webhook.engine import CleanCreate, Config, clean_create
from webhook.model import GROUP, KIND
from webhook.native import Proof
from webhook.server.wire import ENVELOPE


@dataclass(frozen=True, slots=True)
class FastPath:
    """The proof that a review is clean, for one configuration."""

    config: Config
    """The configuration it was built for: a request decided with another (a reload
    came in between) takes the usual path."""
    proof: Proof
    """The review: envelope, TrainingJob CREATE, and the job's schemas."""
    job: CleanCreate
    """The engine's proof of a clean CREATE, for what the schemas cannot state."""

    @classmethod
    def of(cls, config: Config) -> FastPath | None:
        """The fast path for *config*, or None when it cannot have one."""
        job = clean_create(config)
        if job is None:
            return None
        review = {
            "properties": {
                "request": {
                    "required": ["kind", "operation", "object"],
                    "properties": {
                        "kind": {
                            "required": ["group", "kind"],
                            "properties": {"group": {"enum": [GROUP]}, "kind": {"enum": [KIND]}},
                        },
                        "operation": {"enum": ["CREATE"]},
                        "subResource": {"enum": [None, ""]},
                        "object": {"allOf": list(job.schemas)},
                    },
                }
            }
        }
        return cls(config, Proof([ENVELOPE, review]), job)

    def clean(self, data: Any) -> bool:
        """True when *data*, a decoded request body, is a review ``/validate`` allows as is."""
        if not self.proof.holds(data):
            return False
        request = data["request"]
        return self.job.holds_beyond(request["object"], request.get("namespace"))
