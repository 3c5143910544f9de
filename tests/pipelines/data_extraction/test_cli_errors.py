"""A data error ends `kedro run` with one line naming the file, the column and the setting, and a
non-zero exit code, not a traceback (review_sentiment.cli); other errors keep Kedro's traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from kedro.io import DatasetError

from review_sentiment.cli import _data_errors_as_one_line, cli
from review_sentiment.reviews.errors import ReviewDataError
from tests.conftest import PROJECT

BIN = Path(sys.executable).parent


def kedro_run(project: Path, *args: str) -> subprocess.CompletedProcess:
    # A user's shell: conftest points MLflow at a temporary store through MLFLOW_TRACKING_URI.
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run([str(BIN / "kedro"), "run", *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def project(tmp_path) -> Path:
    """The project's configuration and a three-review Fine Food file, nothing else."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*"))
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    (root / "data/01_raw").mkdir(parents=True)
    (root / "data/01_raw/reviews.csv").write_text(
        "Id,Score,Summary,Text\n1,5,Great,Lovely tea\n2,1,Awful,Stale\n3,3,Fine,It is tea\n"
    )
    return root


def test_a_wrong_column_setting_ends_the_run_with_one_line_and_no_traceback(project):
    (project / "conf/local/parameters_data_extraction.yml").write_text(
        "data_extraction:\n  columns:\n    star_rating: Stars\n"
    )

    done = kedro_run(project, "--pipelines", "data_extraction", "--params",
                     "raw_reviews_path=data/01_raw/reviews.csv")

    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    reported = [line for line in done.stderr.splitlines() if line.startswith("ReviewDataError: ")]
    assert len(reported) == 1
    assert reported[0] == (
        f"ReviewDataError: {project / 'data/01_raw/reviews.csv'} (dataset raw_reviews): missing "
        "column 'Stars' (for star_rating); columns present: Id, Score, Summary, Text; set "
        "data_extraction.columns.star_rating in conf/local/parameters_data_extraction.yml"
    )


def run_command(error: Exception) -> click.Command:
    def fail() -> None:
        raise error

    return click.Command("run", callback=_data_errors_as_one_line(fail))


def test_a_data_error_wrapped_by_a_dataset_load_is_one_line_too():
    try:
        raise ReviewDataError("data/01_raw/x.csv: no such file (dataset raw_reviews)")
    except ReviewDataError as cause:
        wrapped = DatasetError("Failed while loading data from dataset RawFileDataset(...).")
        wrapped.__cause__ = cause

    result = CliRunner().invoke(run_command(wrapped), [])

    assert result.exit_code == 1
    assert result.output == "ReviewDataError: data/01_raw/x.csv: no such file (dataset raw_reviews)\n"


def test_other_errors_are_left_to_kedro():
    result = CliRunner().invoke(run_command(KeyError("bug")), [])

    assert result.exit_code == 1
    assert isinstance(result.exception, KeyError)


def test_the_project_run_command_keeps_every_option_of_kedros():
    from kedro.framework.cli.project import run as kedro_run_command

    ours = cli.commands["run"]

    assert [p.name for p in ours.params] == [p.name for p in kedro_run_command.params]


def test_a_cut_off_output_manifest_ends_the_labeling_run_with_one_line_saying_what_to_do(project):
    # An output manifest cut by a kill under an older version of the project (writes are whole now).
    assert kedro_run(project, "--pipelines", "data_extraction", "--params",
                     "raw_reviews_path=data/01_raw/reviews.csv").returncode == 0  # fmt: skip
    (project / "data/03_primary/output.manifest").write_text('{"source": "Lovely tea", "sentim')

    done = kedro_run(project, "--pipelines", "labeling")

    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    (reported,) = [line for line in done.stderr.splitlines() if line.startswith("ManifestError: ")]
    assert reported.startswith("ManifestError: line 1 of ") and "output.manifest: json: not valid JSON" in reported
    assert reported.endswith("fix that line, or delete the file: the next labeling run writes it again "
                             "from the label rounds (labels only in this file would be lost)")  # fmt: skip
