"""The base class every model of a CRD object derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CRDModel(BaseModel):
    """A block of the CRD's schema: strict types, unknown fields rejected.

    Strict, because the API server does not coerce either: ``"5"`` is not an
    integer and ``5`` is not a string to a CRD's structural schema.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)
