"""The base of every parameter model: unknown keys fail, values are frozen."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Params(BaseModel):
    # A misspelt key in YAML must fail the run, not be ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)
