"""Configuration merges the way the README says: an environment overrides single parameters.
Importing the settings turns Kedro's and MLflow's usage telemetry off."""

import json
import os
import subprocess
import sys

from kedro.config import OmegaConfigLoader

from review_sentiment.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT


def test_an_environment_overrides_one_parameter_and_keeps_the_rest(tmp_path):
    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "base" / "parameters_labeling.yml").write_text(
        (PROJECT / "conf/base/parameters_labeling.yml").read_text()
    )
    (conf / "local").mkdir()
    (conf / "local" / "parameters_labeling.yml").write_text("labeling:\n  people:\n    per_item: 3\n")

    params = OmegaConfigLoader(str(conf), env="local", **CONFIG_LOADER_ARGS)["parameters"]

    assert params["labeling"]["people"]["per_item"] == 3
    assert params["labeling"]["people"]["consolidation"] == "dawid_skene"
    assert params["labeling"]["workforce"] == "star_rating"


def test_a_local_column_mapping_alone_keeps_the_other_data_extraction_settings(tmp_path):
    from review_sentiment.params import ColumnMapping, ExtractionParams

    conf = tmp_path / "conf"
    (conf / "base").mkdir(parents=True)
    (conf / "base" / "parameters_data_extraction.yml").write_text(
        (PROJECT / "conf/base/parameters_data_extraction.yml").read_text()
    )
    (conf / "local").mkdir()
    (conf / "local" / "parameters_data_extraction.yml").write_text(
        "data_extraction:\n  columns:\n    review_id: id\n    star_rating: stars\n    review_body: comment\n"
    )

    params = OmegaConfigLoader(str(conf), env="local", **CONFIG_LOADER_ARGS)["parameters"]
    extraction = ExtractionParams(**params["data_extraction"])

    assert params["data_extraction"]["columns"] == {"review_id": "id", "star_rating": "stars", "review_body": "comment"}
    assert params["data_extraction"]["separator"] == "auto"
    assert params["data_extraction"]["labels"] == ["positive", "negative", "neutral"]
    assert params["data_extraction"]["too_long"] == "skip"
    assert isinstance(extraction.columns, ColumnMapping)
    assert extraction.columns.model_fields_set == {"review_id", "star_rating", "review_body"}


def _telemetry_switches_after_importing_settings(**preset: str) -> dict:
    """The telemetry variables, and kedro-telemetry's consent, in a fresh interpreter that imports
    settings.py with only `preset` of them set beforehand."""
    names = ("KEDRO_DISABLE_TELEMETRY", "MLFLOW_DISABLE_TELEMETRY")
    env = {name: value for name, value in os.environ.items() if name not in (*names, "DO_NOT_TRACK")}
    script = (
        "import json, os; import review_sentiment.settings; "
        "from kedro_telemetry.plugin import _check_for_telemetry_consent as consent; "
        f"print(json.dumps({{**{{n: os.environ.get(n) for n in {names!r}}}, 'consent': consent(None)}}))"
    )
    done = subprocess.run([sys.executable, "-c", script], env={**env, **preset},
                          capture_output=True, text=True, check=True, timeout=120)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_settings_turn_kedro_and_mlflow_telemetry_off():
    assert _telemetry_switches_after_importing_settings() == {
        "KEDRO_DISABLE_TELEMETRY": "true", "MLFLOW_DISABLE_TELEMETRY": "true", "consent": False,
    }  # fmt: skip


def test_settings_keep_a_users_explicit_choice():
    switches = _telemetry_switches_after_importing_settings(MLFLOW_DISABLE_TELEMETRY="false")

    assert switches["MLFLOW_DISABLE_TELEMETRY"] == "false"
    assert switches["KEDRO_DISABLE_TELEMETRY"] == "true"


def test_a_relative_sqlite_tracking_uri_is_the_projects_file_from_any_working_directory(
    tmp_path, monkeypatch
):
    """A notebook runs in notebooks/: its runs must land in the project's mlruns.db."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from review_sentiment.hooks import project_sqlite_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    elsewhere = tmp_path / "notebooks"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    bootstrap_project(PROJECT)
    import mlflow

    try:
        with KedroSession.create(project_path=PROJECT) as session:
            uri = session.load_context().mlflow.server.mlflow_tracking_uri
    finally:  # the context set MLflow's global URIs
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)

    assert uri == f"sqlite:///{PROJECT / 'mlruns.db'}"
    assert project_sqlite_uri("sqlite:////abs/x.db", PROJECT) == "sqlite:////abs/x.db"
    assert project_sqlite_uri("postgresql://db/mlflow", PROJECT) == "postgresql://db/mlflow"
