"""Org defaults: the JSON Patch that fills in what a TrainingJob leaves out.

A policy's ``defaults`` block is a partial ``spec``; :func:`compile_defaults`
checks it once against the CRD's fields (walking the typed model
:class:`webhook.model.spec.TrainingJobSpec`) and :func:`patch_for` turns it,
per object, into RFC 6902 operations for the mutating webhook's response.

Semantics:

* Fill absent only, deep. A field present in the object is never touched,
  whatever its value, even one of the wrong type (the validator reports
  that); ``null`` counts as absent (the API server prunes nulls of
  non-nullable fields too). A missing mapping is added whole, with one ``add``
  at the deepest missing point; a present mapping (objects, and the string
  maps such as ``hyperParameters``) is descended into key by key. Lists are
  atomic, added only when absent, except ``tags``.
* ``tags`` merge by key: a default tag whose key the job does not have is
  appended (``/spec/tags/-``); a key the job has keeps the job's value.
* Strings (also inside lists, tags and maps; not map keys) are templated with
  :meth:`Subject.template`: ``{namespace}``, ``{name}``, ``{trainingJobName}``.
* ``coerceStrings`` replaces number and boolean values of
  ``spec.hyperParameters`` and ``spec.environment`` with strings (``true`` /
  ``false``, ``str`` of an integer, ``repr`` of a float: its shortest
  round-trip form). It applies to the defaults' own values of those maps too,
  at load time; without it, such a default is a configuration error.
* Precedence: when several policies' defaults apply, they are applied in the
  given order (the engine's policy order), each seeing the object as the
  previous ones left it. As nothing present is ever overwritten, **the first
  policy that sets a field wins**; a later one only fills what is still
  missing, including fields inside a mapping an earlier one added.
  :func:`conflicts` lists the pairs that disagree, for lint.
* A job without a ``spec`` mapping gets no patch: the validator reports it.

The patch is built while walking only the defaults, with every JSON Pointer
precomputed at load time; the object is never deep-copied or diffed. To let
later plans see earlier ones, the containers along a changed path are copied
(shallow, copy-on-write), never the object given. Applying the patch and
computing it again gives ``[]``.
"""

from webhook.policy.defaults.conflicts import conflicts
from webhook.policy.defaults.patch import patch_for
from webhook.policy.defaults.plan import COERCED_MAPS, DefaultsPlan, compile_defaults

__all__ = ["COERCED_MAPS", "DefaultsPlan", "compile_defaults", "conflicts", "patch_for"]
