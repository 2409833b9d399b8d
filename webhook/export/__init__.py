"""The checks as ValidatingAdmissionPolicy (``trainingjob-guard export vap``), without I/O.

:mod:`.vap` assembles the objects: SageMaker's constraints (:mod:`.constraints`,
from the same generated data as the Python checks, walked by :mod:`.walk`, with
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
"""
