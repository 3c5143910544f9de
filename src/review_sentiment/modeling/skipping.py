"""Training steps that a run with nothing to train passes through: the refresh runs the training
pipeline's own nodes, and when no new label arrived there is nothing to fit. Kedro runs every node
of a pipeline, so each of those nodes hands the `NothingToTrain` it gets straight on."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from kedro.pipeline import Pipeline


@dataclass(frozen=True)
class NothingToTrain:
    """Why there is nothing to train, in place of the training data and of everything after."""

    reason: str


def unless_nothing_to_train(pipeline: Pipeline) -> Pipeline:
    """The same nodes, each returning the `NothingToTrain` it is given for every output instead of
    running (a node with no outputs then does nothing)."""
    return Pipeline([node._copy(func=_passing_on(node.func, node._outputs)) for node in pipeline.nodes])


def _passing_on(func, outputs: str | list[str] | dict[str, str] | None):
    """`func`, or `NothingToTrain` in the shape of the node's outputs (Kedro's `_outputs`: one
    name, a list, a dict of return keys, or None)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        nothing = next(
            (value for value in (*args, *kwargs.values()) if isinstance(value, NothingToTrain)), None
        )
        if nothing is None:
            return func(*args, **kwargs)
        if outputs is None:
            return None
        if isinstance(outputs, str):
            return nothing
        if isinstance(outputs, dict):
            return dict.fromkeys(outputs, nothing)
        return [nothing] * len(outputs)

    return run
