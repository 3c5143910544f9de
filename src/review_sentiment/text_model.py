"""The served model's contract: texts in, one label each out, and anything else refused with a
message. An MLflow flavor: the scikit-learn pipeline stays a skops file, and this module, copied
into the model (`code/text_model.py`), is its pyfunc loader wherever it is served.

Self-contained on purpose (numpy, pandas, mlflow only): a SageMaker container or any other
scoring server imports it from the model directory, without the review_sentiment package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

TEXT_COLUMN = "text"
ALLOW_EMPTY_TEXTS = "allow_empty_texts"
# The pyfunc loader's import name inside a model: code/text_model.py is put on sys.path.
LOADER_MODULE = "text_model"
_SHOWN_PROBLEMS = 3


class TextModel:
    """What pyfunc's `predict` runs: checks the texts, then labels them with the pipeline."""

    def __init__(self, pipeline: Any, *, allow_empty_texts: bool = False) -> None:
        self.pipeline = pipeline
        self.allow_empty_texts = allow_empty_texts

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> np.ndarray:
        """One label per text.

        Raises:
            MlflowException: INVALID_PARAMETER_VALUE (HTTP 400 from a scoring server) naming what
                is wrong with the input.
        """
        texts = checked_texts(model_input, allow_empty=self.allow_empty_texts)
        if len(texts) == 0:
            return np.array([], dtype=object)
        return self.pipeline.predict(texts)


def checked_texts(model_input: Any, *, allow_empty: bool = False) -> np.ndarray:
    """The texts of a list, 1-D array, Series, or table with a `text` column, as a 1-D array.

    With the signature `text_model_signature` gives, MLflow hands the model a one-column table
    for every input: column 0 for a list, an array or an unnamed Series, otherwise the name
    the caller gave. A table keeps only its first column on the way (MLflow's rule for an
    unnamed column signature), so that column must be the texts.

    Raises:
        MlflowException: no `text` column, or a row that is null, not a string, or (unless
            `allow_empty`) empty or blank.
    """
    values = _column(model_input)
    problems, empty = [], 0
    for row, value in enumerate(values):
        if isinstance(value, str):
            if not allow_empty and not value.strip():
                problems.append(f"row {row} is an empty text")
                empty += 1
        elif value is None or (np.ndim(value) == 0 and pd.isna(value)):
            problems.append(f"row {row} is null")
        else:
            value = value.item() if isinstance(value, np.generic) else value  # np.int64(1) → 1
            problems.append(f"row {row} is {type(value).__name__} {_short(value)}, not a string")
    if problems:
        shown = "; ".join(problems[:_SHOWN_PROBLEMS])
        more = f" (and {len(problems) - _SHOWN_PROBLEMS} more)" if len(problems) > _SHOWN_PROBLEMS else ""
        why = "; this model refuses empty texts (training.allow_empty_texts)" if empty else ""
        raise MlflowException.invalid_parameter_value(
            f"{len(problems)} of {len(values)} rows are not review texts: {shown}{more}{why}"
        )
    return values


def _column(model_input: Any) -> np.ndarray:
    if isinstance(model_input, pd.DataFrame):
        columns = list(model_input.columns)
        # Column 0: a list, an array or an unnamed Series, as MLflow tabulates them.
        if len(columns) == 1 and columns[0] in (TEXT_COLUMN, 0):
            return model_input.to_numpy().reshape(-1)  # the served case; a column lookup costs more
        if TEXT_COLUMN in columns:
            return model_input[TEXT_COLUMN].to_numpy()
        raise MlflowException.invalid_parameter_value(
            f"the input table has no {TEXT_COLUMN!r} column (the model got {_short(columns)}; "
            f"of a table, only its first column reaches the model): send the texts as a list, "
            f"or as a table whose only column is {TEXT_COLUMN!r}"
        )
    if isinstance(model_input, pd.Series):
        return model_input.to_numpy()
    if isinstance(model_input, list | tuple) or (isinstance(model_input, np.ndarray) and model_input.ndim == 1):
        return np.asarray(model_input, dtype=object)
    raise MlflowException.invalid_parameter_value(
        f"the input is {type(model_input).__name__}, not a list of texts or a table with a "
        f"{TEXT_COLUMN!r} column"
    )


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --- The flavor: called by MLflow (Model.log → save_model; pyfunc.load_model → _load_pyfunc). ---


def save_model(
    sk_model: Any,
    path: str,
    *,
    mlflow_model: Any,
    allow_empty_texts: bool = False,
    validate_serving_input: bool = True,
    **sklearn_kwargs: Any,
) -> None:
    """Saves `sk_model` as MLflow's scikit-learn flavor does (so `mlflow.sklearn.load_model`
    still loads the pipeline), with this module as its pyfunc loader and `allow_empty_texts` as
    the pyfunc model config (a scoring server may override it, as MLflow allows).
    `validate_serving_input` is `Model.log`'s own setting, which it hands every flavor too."""
    import mlflow.pyfunc
    import mlflow.sklearn
    from mlflow.models.model import MLMODEL_FILE_NAME

    mlflow.sklearn.save_model(
        sk_model, path, mlflow_model=mlflow_model, code_paths=[__file__], **sklearn_kwargs
    )
    pyfunc_conf = mlflow_model.flavors[mlflow.pyfunc.FLAVOR_NAME]
    pyfunc_conf[mlflow.pyfunc.MAIN] = LOADER_MODULE
    pyfunc_conf[mlflow.pyfunc.MODEL_CONFIG] = {ALLOW_EMPTY_TEXTS: allow_empty_texts}
    mlflow_model.save(str(Path(path) / MLMODEL_FILE_NAME))


def _load_pyfunc(path: str, model_config: dict[str, Any] | None = None) -> TextModel:
    import mlflow.sklearn

    config = model_config or {}
    return TextModel(
        mlflow.sklearn.load_model(path), allow_empty_texts=bool(config.get(ALLOW_EMPTY_TEXTS, False))
    )
