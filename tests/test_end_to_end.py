"""The whole flow as a user runs it: `kedro run` on the bundled sample in a fresh project folder,
then the registry, the served champion, a pipeline on its own, one node, and kedro-viz."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
import requests

from review_sentiment.serving import LocalModelServer
from tests import mlflow_store

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CLASSES = {"positive", "negative", "neutral"}

pytestmark = pytest.mark.e2e


def kedro(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    # A user's shell, not the suite's: conftest points MLflow's default store at a temporary
    # folder through MLFLOW_TRACKING_URI, which would win over conf/base/mlflow.yml.
    inherited = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env = {**inherited, "KEDRO_DISABLE_TELEMETRY": "1", "SPARK_LOCAL_IP": "127.0.0.1",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run([str(BIN / "kedro"), *args], cwd=project, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, f"kedro {' '.join(args)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project as a user clones it (conf, bundled raw data), run once end to end."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PROJECT / "data", root / "data",
                    ignore=lambda folder, names: [n for n in names if n.endswith((".pkl", ".manifest", ".json", ".png", ".html"))])
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    kedro(root, "run")
    return root


@pytest.fixture(scope="module")
def tracking_uri(project) -> str:
    with mlflow_store(project / "mlruns.db") as uri:
        yield uri


def test_run_registers_a_champion_with_a_signature(project, tracking_uri):
    client = mlflow.MlflowClient()

    champion = client.get_model_version_by_alias("review-sentiment", "champion")
    model = mlflow.models.get_model_info(f"models:/review-sentiment/{champion.version}")

    assert int(champion.version) == 1
    assert model.signature is not None and model.signature.inputs is not None
    assert (project / "data/03_primary/output.manifest").exists()
    smoke = (project / "data/08_reporting/deployment_smoke_test.json").read_text()
    assert json.loads(smoke)["reviews"] == 100  # deployment.smoke_test_size


@pytest.mark.parametrize(
    "payload",
    [
        {"inputs": ["Great coffee, will buy again", "Stale and tasteless", "It is tea"]},
        {"dataframe_split": {"columns": ["text"],
                             "data": [["Great coffee, will buy again"], ["Stale and tasteless"], ["It is tea"]]}},
        {"dataframe_records": [{"text": "Great coffee, will buy again"}, {"text": "Stale and tasteless"},
                               {"text": "It is tea"}]},
    ],
    ids=["inputs", "dataframe_split", "dataframe_records"],
)
def test_served_champion_answers_one_label_per_row(served, payload):
    response = requests.post(f"{served}/invocations", json=payload, timeout=30)

    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 3
    assert set(predictions) <= CLASSES


@pytest.fixture(scope="module")
def served(project, tracking_uri):
    with LocalModelServer("models:/review-sentiment@champion", tracking_uri=tracking_uri) as server:
        yield server.url


def test_training_again_registers_nothing_until_something_changes(project, tracking_uri):
    same = kedro(project, "run", "--pipelines", "training")

    client = mlflow.MlflowClient()
    assert [int(v.version) for v in client.search_model_versions("name='review-sentiment'")] == [1]
    assert (
        "review-sentiment: no new version, the same training (rows, parameters and code) is v1; "
        "champion stays v1"
    ) in same.stdout + same.stderr

    kedro(project, "run", "--pipelines", "training", "--params", "training.classifier.alpha=0.001")

    versions = {int(v.version): float(v.tags["macro_f1"]) for v in client.search_model_versions("name='review-sentiment'")}
    champion = int(client.get_model_version_by_alias("review-sentiment", "champion").version)
    assert sorted(versions) == [1, 2]
    # Version 2 becomes champion only if it scores higher on the same test set.
    assert champion == (2 if versions[2] > versions[1] else 1)


def test_a_single_node_runs_by_name(project):
    manifest = project / "data/03_primary/input.manifest"
    manifest.unlink()

    kedro(project, "run", "--nodes", "build_input_manifest")

    assert manifest.exists() and manifest.read_text().count("\n") > 7_900


def test_kedro_viz_builds_the_lineage_site(project):
    kedro(project, "viz", "build")

    assert (project / "build" / "index.html").exists()


# Last in the module: these rewrite the project's output manifest.
@pytest.mark.parametrize(
    ("workforce", "params", "human"),
    [
        ("star_rating", "", {"no"}),
        ("simulated", "", {"yes"}),
        ("people", "", {"yes"}),
        # The minimum and batches are scaled down from Ground Truth's (1,250 items, 5% first)
        # so that machines get to label within one short run.
        ("automated", ",labeling.automated.humans=simulated,labeling.automated.min_items=500,"
         "labeling.automated.initial_batch=400,labeling.automated.batch_size=100,"
         "labeling.automated.min_validation_items=40", {"yes", "no"}),
    ],
)
def test_each_workforce_labels_through_kedro_run(project, spark, workforce, params, human):
    from review_sentiment.datasets import ManifestDataset
    from review_sentiment.ground_truth.records import item_key
    from review_sentiment.labeling_app.store import LabelStore
    from review_sentiment.params import FeatureParams
    from review_sentiment.pipelines.feature_engineering.nodes import read_labeled_reviews

    primary = project / "data/03_primary"
    # Each workforce on its own: an earlier case's labels would be carried over (never lost).
    (primary / "output.manifest").unlink(missing_ok=True)
    shutil.rmtree(primary / "labeled", ignore_errors=True)
    if workforce == "people":
        lines = ManifestDataset(filepath=str(primary / "input.manifest")).load()[:20]
        with LabelStore(primary / "labels.db") as store:
            job = store.open_job("review-sentiment", ManifestDataset(filepath=str(primary / "input.manifest")).load())
            for line in lines:
                # The bundled reviews have no review id: an item's key is its text's hash.
                job.record(item_key(line), "ana", "positive" if line["star_rating"] > 3 else "negative", 3.0)

    kedro(project, "run", "--pipelines", "labeling", "--params", f"labeling.workforce={workforce}{params}")

    output = ManifestDataset(filepath=str(primary / "output.manifest")).load()
    assert {line["sentiment-metadata"]["human-annotated"] for line in output} == human
    if workforce == "people":
        assert len(output) == 20
    categories = json.loads((primary / "label_categories.json").read_text())
    labeled = read_labeled_reviews(spark.read.text(str(primary / "output.manifest")), categories, FeatureParams())
    assert len(labeled) == len(output)
