"""notebooks/explore_and_train.ipynb: committed without outputs, opened by `kedro jupyter lab`,
and run top to bottom on the bundled data in a copy of the project, so that it never rots."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from review_sentiment.ground_truth.categories import label_classes
from tests.test_end_to_end import BIN, PROJECT, kedro

NOTEBOOK = Path("notebooks") / "explore_and_train.ipynb"
CLEAR = (
    "jupyter nbconvert --clear-output --ClearMetadataPreprocessor.enabled=True --inplace "
    f"{NOTEBOOK}"
)
SPLITS = {"train", "test"}
FEATURE_SETS = {"bigram", "tfidf"}

# Appended to the executed copy only: what the notebook found, as one JSON line.
REPORT = """
import json
print(json.dumps({
    "comparison": comparison.reset_index().to_dict(orient="records"),
    "in_memory": scores.rename_axis(["model", "split"]).reset_index().to_dict(orient="records"),
    "training_runs": len(training_runs),
    "registration": registration,
    "champion_version": int(champion.version),
    "texts": len(examples),
    "predicted": [str(label) for label in predictions["predicted"]],
}))
"""


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(PROJECT / NOTEBOOK, as_version=4)

    dirty = [
        cell.get("id", index)
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
        and (cell.outputs or cell.execution_count is not None or "execution" in cell.metadata)
    ]

    assert not dirty, (
        f"{NOTEBOOK} has outputs, execution counts or timings in cell(s) {dirty}: clear them "
        f"with `{CLEAR}`"
    )


def test_kedro_jupyter_lab_installs_the_project_kernel(tmp_path):
    # `--help` goes to `jupyter lab` after Kedro has written the project's kernel: everything but
    # starting the server. JUPYTER_DATA_DIR and IPYTHONDIR keep it all out of the user's home.
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path), "IPYTHONDIR": str(tmp_path / "ipython"),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip

    done = subprocess.run([str(BIN / "kedro"), "jupyter", "lab", "--help"], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip

    assert done.returncode == 0, done.stderr[-4000:]
    assert "jupyter lab" in done.stdout.lower()
    kernel = json.loads((tmp_path / "kernels/kedro_review_sentiment/kernel.json").read_text())
    assert kernel["argv"][-2:] == ["--ext", "kedro.ipython"]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project as a user clones it, with the outputs the notebook reads: the labeled
    manifest, the features and an MLflow store with a champion (deployment is not needed)."""
    root = tmp_path_factory.mktemp("notebook-project")
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    outputs = (".pkl", ".manifest", ".json", ".jsonl", ".png", ".html", ".db")
    shutil.copytree(
        PROJECT / "data", root / "data",
        ignore=lambda folder, names: [name for name in names if name.endswith(outputs)],
    )  # fmt: skip
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    (root / NOTEBOOK.parent).mkdir()
    shutil.copy(PROJECT / NOTEBOOK, root / NOTEBOOK)
    kedro(root, "run", "--pipelines", "data_extraction,labeling,feature_engineering,training")
    return root


@pytest.mark.e2e
def test_notebook_runs_top_to_bottom(project, tmp_path):
    from nbclient import NotebookClient

    notebook = nbformat.read(project / NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(REPORT))
    # A user's shell, as for `kedro run` (conftest points MLFLOW_TRACKING_URI at a temporary store).
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}  # fmt: skip
    env = {**inherited, "KEDRO_DISABLE_TELEMETRY": "1", "MLFLOW_DISABLE_TELEMETRY": "true",
           "SPARK_LOCAL_IP": "127.0.0.1", "IPYTHONDIR": str(tmp_path / "ipython"),
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip

    # The kernel starts in notebooks/, as JupyterLab starts it; a failing cell raises here.
    in_notebooks = {"metadata": {"path": str(project / NOTEBOOK.parent)}}
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources=in_notebooks)
    client.execute(env=env)

    printed = [output["text"] for output in notebook.cells[-1].outputs
               if output["output_type"] == "stream" and output["name"] == "stdout"]  # fmt: skip
    report = json.loads("".join(printed).strip().splitlines()[-1])
    categories = json.loads((project / "data/03_primary/label_categories.json").read_text())
    classes = set(label_classes(categories))
    compared = {(row["model"], row["split"]) for row in report["comparison"]}
    # The original two on both splits, and the chosen model scored once, on the test split.
    assert compared == {(model, split) for model in FEATURE_SETS for split in SPLITS} | {("chosen", "test")}
    for row in report["comparison"]:
        assert 0 <= row["macro_f1"] <= 1 and 0 <= row["accuracy"] <= 1
    # The node functions called in the notebook give the scores the pipeline logged to MLflow.
    logged = {(row["model"], row["split"]): row["macro_f1"] for row in report["comparison"]}
    assert {(row["model"], row["split"]) for row in report["in_memory"]} == {
        (model, split) for model in FEATURE_SETS for split in SPLITS
    }
    for row in report["in_memory"]:
        assert row["macro_f1"] == pytest.approx(logged[(row["model"], row["split"])])
    # The project's MLflow store (not one in notebooks/): the `kedro run` and the notebook's run.
    assert report["training_runs"] == 2
    assert not (project / NOTEBOOK.parent / "mlruns.db").exists()
    # Same data, parameters and code: the notebook's run registers nothing, version 1 stays.
    assert report["registration"]["registered"] is False
    assert report["registration"]["version"] == 1
    assert report["champion_version"] == report["registration"]["champion_version"] == 1
    assert len(report["predicted"]) == report["texts"] > 0
    assert set(report["predicted"]) <= classes
    plot = next(cell for cell in notebook.cells if cell.get("id") == "plot")
    assert any("image/png" in output.get("data", {}) for output in plot.outputs)
