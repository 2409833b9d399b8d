"""The checks and defaults as admission policies the API server runs itself, without I/O.

``trainingjob-guard export vap`` writes the checks as ValidatingAdmissionPolicy,
``export map`` the defaults as MutatingAdmissionPolicy (beta).

:mod:`.vap` assembles the objects: SageMaker's constraints (:mod:`.constraints`,
from the same generated data as the Python checks, walked by :mod:`.walk`) and the
policies' rules (:mod:`.kinds`, one module per rule kind), scoped by
:mod:`.scope`, with their patterns in RE2 (:mod:`.regex`), messages
(:mod:`.text`) and a static CEL cost estimate (:mod:`.cost`, over the parsed
expressions of :mod:`.syntax`). :mod:`.offline` evaluates exported policies as the
API server would, for the tests that hold them to the webhook.

:mod:`.mutating` assembles the MutatingAdmissionPolicy: each policy's defaults
(:mod:`.fill`, the webhook's fill-absent) as JSON Patch nodes (:mod:`.mutation`),
rendered as ``JSONPatch`` values for the API server and as map literals for
:mod:`.replay`, which runs them offline.
"""
