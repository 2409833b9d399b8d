"""The checks as ValidatingAdmissionPolicy (``trainingjob-guard export vap``), without I/O.

:mod:`.vap` assembles the objects: SageMaker's constraints (:mod:`.constraints`,
from the same generated data as the Python checks, walked by :mod:`.walk`) and the
policies' rules (:mod:`.kinds`, one module per rule kind), scoped by
:mod:`.scope`, with their patterns in RE2 (:mod:`.regex`), messages
(:mod:`.text`) and a static CEL cost estimate (:mod:`.cost`, over the parsed
expressions of :mod:`.syntax`, the shapes of their values in :mod:`.values` and
:mod:`.shapes`, the bounds their guards establish in :mod:`.facts`, and the price
of each function in :mod:`.stdlib`). :mod:`.offline` evaluates exported policies
as the API server would, for the tests that hold them to the webhook.
"""
