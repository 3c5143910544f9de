"""A file a run reads that is cut off, empty or from another version stops the run with one line
naming it and what to do: through the project's catalog, a real run, `kedro run` itself and the
labeling page."""

from __future__ import annotations

import json
import os
import pickle
import subprocess

import pytest
from kedro.framework.project import settings

from review_sentiment.files import CorruptFileError, content_problem
from review_sentiment.settings import CONFIG_LOADER_ARGS, DATA_CATALOG_CLASS
from tests.test_end_to_end import BIN
from tests.test_mlflow_runs import TRAINING_FILES, kedro_run, project  # noqa: F401 - a fixture

QUEUE = "data/03_primary/labeling_queue.json"
TEST_SET = "data/05_model_input/refresh_test_set.json"


def _project_catalog(project):
    """The catalog a run of the project copy gets (relative paths from its folder, the cwd)."""
    conf = settings.CONFIG_LOADER_CLASS(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)
    return DATA_CATALOG_CLASS.from_config(conf["catalog"])


def _truncated_queue(project) -> bytes:
    """A labeling queue cut at 16 KB, as a kill mid-write left it."""
    whole = json.dumps([f"review-{i:06d}" for i in range(2000)]).encode()
    (project / QUEUE).parent.mkdir(parents=True, exist_ok=True)
    (project / QUEUE).write_bytes(whole[:16384])
    return whole


def test_a_truncated_labeling_queue_stops_with_one_line_naming_it(project):
    _truncated_queue(project)

    with pytest.raises(CorruptFileError) as raised:
        _project_catalog(project).load("labeling_queue")

    line = str(raised.value)
    assert "\n" not in line
    assert line.startswith(
        f"{QUEUE} is not valid JSON (cut off at line 1, column 16384): delete it and run "
        "`kedro run --pipelines labeling`"
    )
    assert line.endswith(" again to rebuild it")


def test_an_empty_frozen_test_set_says_how_to_restore_its_previous_version(project):
    (project / TEST_SET).parent.mkdir(parents=True, exist_ok=True)
    (project / TEST_SET).write_bytes(b"")
    previous = TEST_SET.replace(".json", ".previous.json")
    (project / previous).write_text(json.dumps({"items": []}))

    with pytest.raises(CorruptFileError) as raised:
        _project_catalog(project).load("frozen_test_set_before")

    assert str(raised.value) == (
        f"{TEST_SET} is empty (0 bytes): restore its previous version with `cp {previous} {TEST_SET}`, "
        "or delete it and run `kedro run --pipelines refresh` again to start a new one on purpose"
    )


def test_an_empty_frozen_test_set_without_a_previous_version_is_drawn_again(project):
    (project / TEST_SET).parent.mkdir(parents=True, exist_ok=True)
    (project / TEST_SET).write_bytes(b"")

    with pytest.raises(CorruptFileError) as raised:
        _project_catalog(project).load("frozen_test_set")

    assert str(raised.value) == (
        f"{TEST_SET} is empty (0 bytes): delete it and run `kedro run --pipelines refresh` again "
        "to rebuild it"
    )


def test_a_run_stops_on_a_cut_off_pickle_with_one_line(project):
    features = project / TRAINING_FILES["bigram_train_features"]
    features.write_bytes(features.read_bytes()[:100])

    with pytest.raises(CorruptFileError) as raised:
        kedro_run(project, pipeline_names=["training"])

    assert str(raised.value) == (
        f"{TRAINING_FILES['bigram_train_features']} is not a readable pickle (UnpicklingError: "
        "pickle data was truncated): delete it and run `kedro run --pipelines feature_engineering` "
        "(or `--pipelines model_search`) again to rebuild it"
    )


def test_kedro_run_prints_the_one_line_and_no_traceback(project):
    features = project / TRAINING_FILES["bigram_train_features"]
    features.write_bytes(b"")
    # A user's shell, as tests/test_end_to_end.py runs kedro: MLflow's URI from the project.
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}

    done = subprocess.run([str(BIN / "kedro"), "run", "--pipelines", "training"], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip

    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines()[-1] == (
        f"CorruptFileError: {TRAINING_FILES['bigram_train_features']} is empty (0 bytes): delete it "
        "and run `kedro run --pipelines feature_engineering` (or `--pipelines model_search`) again "
        "to rebuild it"
    )


def test_the_labeling_page_gives_the_one_line_instead_of_starting(project, monkeypatch, capsys):
    from review_sentiment.labeling_app.__main__ import main

    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.setattr("review_sentiment.labeling_app.__main__.serve", lambda args: None)
    _truncated_queue(project)

    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--project", str(project)])

    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 1
    assert "\n" not in err
    assert err.startswith(f"CorruptFileError: {QUEUE} is not valid JSON (cut off at line 1, column 16384)")


# --- what is wrong with a file's content --------------------------------------------------


def _parse_error(parse, content):
    try:
        parse(content)
    except Exception as error:  # noqa: BLE001
        return error
    raise AssertionError("parsed")


@pytest.mark.parametrize(
    ("error", "size", "kind", "problem"),
    [
        (_parse_error(json.loads, '[1, 2, "thr'), 11, None, "is not valid JSON (cut off at line 1, column 11)"),
        (_parse_error(json.loads, '{\n "a": [1,\n'), 12, None, "is not valid JSON (cut off at line 2, column 9)"),
        (_parse_error(json.loads, '{"a" 1}'), 7, None, "is not valid JSON (Expecting ':' delimiter at line 1, column 6)"),
        (_parse_error(json.loads, ""), 0, None, "is empty (0 bytes)"),
        (_parse_error(json.loads, "  \n"), 3, None, "is empty (only blanks)"),
        (_parse_error(pickle.loads, pickle.dumps(list(range(100)))[:20]), 20, "pickle",
         "is not a readable pickle (UnpicklingError: pickle data was truncated)"),
        (ModuleNotFoundError("No module named 'old_package'"), 90, "pickle",
         "is not a readable pickle (ModuleNotFoundError: No module named 'old_package')"),
        (_parse_error(bytes.decode, b"caf\xe9"), 4, None, "is not valid UTF-8 (byte 0xe9 at offset 3)"),
        (FileNotFoundError("labeling_queue.json"), None, "pickle", None),
        (ValueError("a node's own error"), 10, None, None),
    ],
    ids=["cut-string", "cut-lines", "bad-middle", "empty", "blanks", "cut-pickle", "moved-class",
         "utf8", "missing", "not-about-content"],
)  # fmt: skip
def test_the_problem_is_said_in_a_few_words(error, size, kind, problem):
    assert content_problem(error, size=size, kind=kind) == problem


def test_a_datasets_own_error_is_left_as_it_is():
    from review_sentiment.datasets import ManifestError

    error = ManifestError("line 3 of out.manifest: json: not valid JSON")
    error.__cause__ = _parse_error(json.loads, "{")

    assert content_problem(error, size=10) is None
