"""The checks and defaults as admission policies the API server runs itself, without I/O.

``trainingjob-guard export vap`` writes the checks as ValidatingAdmissionPolicy,
``export map`` the defaults as MutatingAdmissionPolicy (beta).

:mod:`.vap` assembles the objects: SageMaker's constraints (:mod:`.constraints`,
from the same generated data as the Python checks, walked by :mod:`.walk` and written
with the small expressions of :mod:`.snippets`, with
the size gate in :mod:`.gate` and the cross-field rules in :mod:`.cross_field`)
and the policies' rules (:mod:`.kinds`, one module per rule kind), scoped by
:mod:`.scope`, with their patterns in RE2 (:mod:`.regex`, written out by
:mod:`.re2`), messages (:mod:`.text`) and a static CEL cost estimate
(:mod:`.cost`). The estimate reads an expression with :mod:`.syntax` (the tokens
of :mod:`.lexer` into the tree of :mod:`.expr`), knows its values by their shapes
(:mod:`.values`, :mod:`.shapes`), the bounds its guards establish (:mod:`.facts`)
and the price of each function (:mod:`.stdlib`). :mod:`.offline` evaluates
exported policies as the API server would, for the tests that hold them to the
webhook.

:mod:`.mutating` assembles the MutatingAdmissionPolicy: each policy's defaults
(:mod:`.fill`, the webhook's fill-absent) as JSON Patch nodes (:mod:`.mutation`),
rendered as ``JSONPatch`` values for the API server and as map literals for
:mod:`.replay`, which runs them offline.
"""
