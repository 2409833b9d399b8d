"""The size gate's bounds: a job's sizes, checked before anything walks it.

Every check costs time in proportion to what a job holds, and so does an
answer that lists every problem: a job whose ``inputDataConfig`` holds a
million empty items is 2.9 MiB, under the API server's 3 MiB limit for a
request, and checking it item by item took seconds and answered with two
million findings. The gate makes the work proportional to what SageMaker
accepts instead. It looks only at sizes, takes ``len()`` of a list, map or
string before anything else, and descends only into what is within its bound:

* where SageMaker's model gives the bound: the size of lists and maps (20
  input channels, 100 hyperparameters, 50 tags ...) and the length of
  strings and map keys, reported as the full checks report them
  (``sagemaker.list-size``, ``sagemaker.map-size``, ``sagemaker.length``);
* elsewhere, fixed bounds far beyond any real job (``guard.too-large``):
  :data:`ENTRIES`, :data:`CHARS`, :data:`DEPTH`, and in all :data:`VALUES` and
  :data:`UNKNOWN_FIELDS`. They cover the CRD's top level, the members of
  ``metadata`` that checks read (:data:`READ_METADATA`), ``status``, fields
  the CRD does not define and values of the wrong type (which the typed model
  reports, CEL rules read and the secrets scan walks).

One finding per oversized list, map or string, and nothing under it is
looked at. :func:`webhook.engine.review` denies a job with any such finding
and checks nothing else: the gate is the whole answer then.

A platform team may relax a rule of SageMaker's bounds (:data:`RELAXABLE`):
its action set to warn or audit, by the operator (``--rule-action``) or by a
policy's ``apiConstraints`` for the jobs it applies to, as when AWS raises a
limit before the pinned service model knows it. For that rule the gate then
holds the job to the fixed bound instead of the model's (:data:`ENTRIES` for
lists and maps, :data:`CHARS` for strings and map keys), and reports what is
beyond it as ``guard.too-large``. Between the two bounds it lets the job
through: the full checks run and report the rule's finding with its action.
The items of such a list or map count towards :data:`VALUES`, as where the
model sets no bound, so nested relaxed lists cannot multiply the work.

The other members of ``metadata`` (``managedFields``, ``ownerReferences``,
``uid`` ...) belong to the API server and no check reads them; CEL rules,
which convert the whole object, bound them themselves with
:func:`~webhook.constraints.gate.fits`.

Two native proofs state every bound here but the two totals, and refuse all
that those count but the members of ``metadata``, which cannot reach them
alone: the proof of the built-in checks (:mod:`webhook.constraints.proof`) and the
gate's own (:mod:`webhook.constraints.sizes`). The walk runs only for a job
neither holds for. Both hold only for a job within the model's bounds, on which
the walk has nothing to say whatever is relaxed: it differs from the default
walk only past a model's bound.

This module says what the bounds are; the walk that holds a job to them is
:mod:`webhook.constraints.gate`.
"""

from __future__ import annotations

from typing import Final

from webhook.constraints.schema import StringShape

RULE: Final = "guard.too-large"
"""The rule id of a fixed bound (where SageMaker's model gives none, or its rule is relaxed)."""
LIST_SIZE: Final = "sagemaker.list-size"
MAP_SIZE: Final = "sagemaker.map-size"
LENGTH: Final = "sagemaker.length"
RELAXABLE: Final = frozenset({LIST_SIZE, MAP_SIZE, LENGTH})
"""The rules of SageMaker's bounds: where one is relaxed, the fixed bound stands in for the
model's."""

ENTRIES: Final = 1_000
"""Items of a list or entries of a map where the model sets no bound (labels, annotations,
finalizers, status, values of fields the CRD does not define)."""
CHARS: Final = 262_144
"""Characters of a string or map key where the model sets no length: Kubernetes' limit for
all of an object's annotations together (``TotalAnnotationSizeLimitB`` in apimachinery), so
no annotation the API server stores is longer."""
ENUM_CHARS: Final = 256
"""Characters of a string SageMaker takes from a list of values (an enum, which sets no
length): no value of any of the model's enums is longer (its longest, an instance type, has
about 25), and a bound of that order keeps every check of such a string cheap, including the
ValidatingAdmissionPolicy exported from them (:mod:`webhook.export`)."""
DEPTH: Final = 32
"""Levels of nesting below the object's top (SageMaker's deepest field is 7 levels down)."""
VALUES: Final = 10_000
"""List items and map entries in all, outside the model's bounds (where it sets none, or its
rule is relaxed and they are over it)."""
UNKNOWN_FIELDS: Final = 100
"""Fields the CRD does not define, in all: each one costs a did-you-mean search."""

READ_METADATA: Final = ("name", "generateName", "namespace", "labels", "annotations", "finalizers")
"""The members of ``metadata`` that checks read (the typed model's)."""

#: What every finding of the gate adds: the rest of the job waits for the sizes.
UNCHECKED: Final = "; nothing else is checked until it fits"


def fixed_length(shape: StringShape) -> int:
    """The fixed bound of a string the model sets no length for: an enum's, else :data:`CHARS`."""
    return ENUM_CHARS if shape.enum else CHARS
