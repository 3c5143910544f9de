"""`kedro run --pipelines refresh`: new reviews in, a better model out (see README)."""

from .pipeline import create_pipeline

__all__ = ["create_pipeline"]
