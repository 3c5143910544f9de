"""review-sentiment: raw reviews to a deployed sentiment model, with labeling in the middle."""

import os

# Kedro's and MLflow's usage telemetry are off for every entry point of this project (kedro run,
# viz, jupyter, `python -m review_sentiment.…`, the `mlflow` processes they start). Kedro imports
# the project's settings (in this package) before kedro-telemetry asks for consent and before
# MLflow is imported (`import mlflow` starts its telemetry client, which writes
# ~/.config/mlflow/telemetry.json and sends events to an outside host). A value already set
# wins, so a user can opt in by setting it to false.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

__version__ = "0.1.0"
