"""Every local file the catalog writes is old or new, never half: each kind of dataset in
conf/base/catalog.yml, configured as there, keeps the old file byte for byte and leaves no
temporary file when its save fails midway; and the temporary files killed writers left behind
are removed, those of live writers kept."""

from __future__ import annotations

import copy
import errno
import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import fsspec
import matplotlib
import pandas as pd
import pytest
import yaml

from review_sentiment.files import (
    ProjectDataCatalog,
    ReplacingFile,
    ReplacingLocalFileSystem,
    catalog_folders,
    remove_leftover_temp_files,
    temp_path,
    use_replacing_local_files,
)
from tests.conftest import PROJECT
from tests.datasets import disk_full_halfway
from tests.test_mlflow_runs import kedro_run, project  # noqa: F401 - a fixture

matplotlib.use("Agg")

OLD = b"old content, not valid in any of the formats\n"  # so keep_previous copies nothing first


@pytest.fixture(autouse=True)
def _replacing_local_files():
    """As settings.py sets it up for every Kedro session."""
    use_replacing_local_files()


def _figure():
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots()
    axes.imshow([[3, 1], [0, 2]])
    return figure


def _reviews() -> pd.DataFrame:
    return pd.DataFrame(
        {"review_id": [f"R{i}" for i in range(500)], "text": ["Great tea, would buy again"] * 500,
         "star_rating": [5] * 500, "product_category": ["Grocery"] * 500}
    )  # fmt: skip


# catalog entry (as in conf/base/catalog.yml) -> what its node saves
SAVED = {
    "label_categories": lambda: {"labels": [{"label": label} for label in ("positive", "negative")]},
    "worker_instructions": lambda: "<p>Read the review, then choose its sentiment.</p>\n" * 200,
    "labeling_queue": lambda: [f"R{i}" for i in range(1000)],
    "manifest_quarantine": lambda: pd.DataFrame(
        {"file": ["out.manifest"] * 300, "line": range(300), "reason": ["json"] * 300, "text": ["{"] * 300}
    ),
    "train_reviews": _reviews,
    "{evaluation}_confusion_matrix": _figure,
    "model_selection": lambda: {"feature_set": "bigram", "macro_f1": {"bigram": 0.5, "tfidf": 0.4}},
    "frozen_test_set": lambda: {"items": [{"key": f"R{i}", "label": "positive"} for i in range(500)]},
    "review_sample": _reviews,
    "input_manifest": lambda: [{"source": f"review {i}", "review_id": f"R{i}"} for i in range(500)],
    "new_label_round": lambda: {"round-0001": [{"source": f"review {i}"} for i in range(500)]},
}
# pandas' CSV dataset, which the catalog does not use (yet): kedro-datasets' other text writer.
CSV_ENTRY = {"type": "pandas.CSVDataset", "filepath": "data/02_intermediate/table.csv"}


def _catalog_entry(name: str, root: Path) -> tuple[dict, Path]:
    """The entry `name` of conf/base/catalog.yml with its paths moved under `root`, and the file
    its save writes."""
    if name == "table.csv":
        entry = copy.deepcopy(CSV_ENTRY)
    else:
        entry = copy.deepcopy(yaml.safe_load((PROJECT / "conf/base/catalog.yml").read_text())[name])
    inner = entry.get("dataset") if isinstance(entry.get("dataset"), dict) else entry
    if "path" in entry:  # a folder of partitions
        entry["path"] = str(root / entry["path"])
        return entry, Path(entry["path"]) / f"round-0001{entry.get('filename_suffix', '')}"
    inner["filepath"] = str(root / inner["filepath"].replace("{evaluation}", "bigram_test"))
    return entry, Path(inner["filepath"])


def _dataset(name: str, root: Path):
    entry, target = _catalog_entry(name, root)
    return ProjectDataCatalog.from_config({"dataset": entry}).get("dataset"), target


@pytest.mark.parametrize("name", [*SAVED, "table.csv"])
def test_a_save_that_fails_midway_keeps_the_old_file_and_leaves_no_temp_file(
    name, tmp_path, monkeypatch
):
    dataset, target = _dataset(name, tmp_path)
    data = SAVED.get(name, _reviews)()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(OLD)
    disk_full_halfway(monkeypatch)

    with pytest.raises(Exception, match="No space left on device"):
        dataset.save(data)

    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == [target.name]


@pytest.mark.parametrize("name", [*SAVED, "table.csv"])
def test_a_save_replaces_the_file_whole(name, tmp_path):
    dataset, target = _dataset(name, tmp_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(OLD)
    if hasattr(dataset, "_logging_activated"):
        dataset._logging_activated = False  # an MLflow artifact: the file is what is tested

    dataset.save(SAVED.get(name, _reviews)())

    assert target.read_bytes() != OLD
    assert [path for path in os.listdir(target.parent) if path.endswith(".tmp")] == []


def test_an_error_of_the_writer_itself_keeps_the_old_json_file(tmp_path):
    """json.dump has written the first items when it meets one it cannot write."""
    dataset, target = _dataset("label_categories", tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(OLD)

    with pytest.raises(Exception, match="not JSON serializable"):
        dataset.save({"labels": [{"label": "x" * 100}] * 1000 + [{"label": object()}]})

    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == [target.name]


class _Unpicklable:
    def __reduce__(self):
        raise RuntimeError("cannot pickle this one")


def test_an_error_of_the_pickler_midway_keeps_the_old_pickle(tmp_path):
    dataset, target = _dataset("train_reviews", tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(OLD)

    with pytest.raises(Exception, match="cannot pickle this one"):
        dataset.save([os.urandom(1 << 20), _Unpicklable()])  # a 1 MB frame is out first

    assert target.read_bytes() == OLD
    assert os.listdir(target.parent) == [target.name]


def test_a_failed_rename_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    from review_sentiment import files

    def refuse(src, dst):
        raise PermissionError(errno.EACCES, "Permission denied", dst)

    target = tmp_path / "model_selection.json"
    target.write_bytes(OLD)
    monkeypatch.setattr(files.os, "replace", refuse)

    with pytest.raises(PermissionError), ReplacingFile(target) as output:
        output.write(b"new")

    assert target.read_bytes() == OLD
    assert os.listdir(tmp_path) == [target.name]


def test_the_local_filesystem_is_the_replacing_one_and_appends_stay_appends(tmp_path):
    fs = fsspec.filesystem("file")
    (tmp_path / "log.txt").write_text("a")

    with fs.open(str(tmp_path / "log.txt"), "a") as log:
        log.write("b")

    assert isinstance(fs, ReplacingLocalFileSystem)
    assert isinstance(fsspec.filesystem("local"), ReplacingLocalFileSystem)
    assert (tmp_path / "log.txt").read_text() == "ab"


def test_the_temporary_file_is_named_after_the_target_and_the_writer(tmp_path):
    name = Path(temp_path(str(tmp_path / "labeling_queue.json"))).name

    assert name.startswith(f".labeling_queue.json.{os.getpid()}.")
    assert name.endswith(".tmp")


# --- the frozen test set keeps its previous version ----------------------------------------


def test_a_changed_frozen_test_set_keeps_the_version_it_replaces(tmp_path):
    dataset, target = _dataset("frozen_test_set", tmp_path)
    first, second, third = ({"items": [{"key": key, "label": "positive"}]} for key in ("R1", "R2", "R3"))
    previous = target.with_name("refresh_test_set.previous.json")

    dataset.save(first)
    assert not previous.exists()
    dataset.save(second)
    assert json.loads(previous.read_text()) == first
    dataset.save(second)  # re-saved unchanged, as every refresh does
    assert json.loads(previous.read_text()) == first
    dataset.save(third)
    assert json.loads(previous.read_text()) == second
    assert json.loads(target.read_text()) == third
    assert sorted(os.listdir(target.parent)) == sorted([previous.name, target.name])


def test_an_unreadable_frozen_test_set_does_not_replace_its_previous_version(tmp_path):
    dataset, target = _dataset("frozen_test_set", tmp_path)
    dataset.save({"items": ["first"]})
    dataset.save({"items": ["second"]})
    target.write_bytes(b"")  # an older version's kill

    dataset.save({"items": ["third"]})

    assert json.loads(target.with_name("refresh_test_set.previous.json").read_text()) == {"items": ["first"]}


def test_keep_previous_and_versioned_together_are_refused(tmp_path):
    from kedro.io import DatasetError, Version

    from review_sentiment.datasets import JSONDataset

    with pytest.raises(DatasetError, match="keep_previous and versioned"):
        JSONDataset(filepath=str(tmp_path / "t.json"), keep_previous=True, version=Version(None, None))


def test_the_frozen_test_set_on_s3_keeps_its_previous_version(moto_url, aws_test_credentials):
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket="frozen-test-set")
    credentials = {"key": "testing", "secret": "testing", "client_kwargs": {"endpoint_url": moto_url}}
    entry, _ = _catalog_entry("frozen_test_set", Path("."))
    entry.update(filepath="s3://frozen-test-set/05_model_input/refresh_test_set.json", credentials=credentials)
    dataset = ProjectDataCatalog.from_config({"frozen_test_set": entry}).get("frozen_test_set")

    dataset.save({"items": ["first"]})
    dataset.save({"items": ["second"]})

    body = s3.get_object(Bucket="frozen-test-set", Key="05_model_input/refresh_test_set.previous.json")["Body"]
    assert json.loads(body.read()) == {"items": ["first"]}


# --- temporary files left behind ------------------------------------------------------------


def _dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.fixture
def live_pid():
    """Another process writing at the same time (a second run)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def test_temp_files_of_dead_writers_go_and_those_of_live_writers_stay(tmp_path, live_pid):
    folder = tmp_path / "data/03_primary"
    folder.mkdir(parents=True)
    dead = folder / f".labeling_queue.json.{_dead_pid()}.0123456789abcdef.tmp"
    live = folder / f".labeling_queue.json.{live_pid}.fedcba9876543210.tmp"
    mine = Path(temp_path(str(folder / "input.manifest")))
    unrelated = folder / ".notes.tmp"
    for path in (dead, live, mine, unrelated):
        path.write_bytes(b"half")

    removed = remove_leftover_temp_files([(folder, False)])

    assert removed == [dead]
    assert sorted(os.listdir(folder)) == sorted(p.name for p in (live, mine, unrelated))


def test_temp_files_from_before_names_carried_the_pid_go_once_abandoned(tmp_path):
    fresh = tmp_path / ".output.manifest.0123456789abcdef.tmp"
    stale = tmp_path / ".input.manifest.fedcba9876543210.tmp"
    for path in (fresh, stale):
        path.write_bytes(b"half")
    two_hours_ago = stale.stat().st_mtime - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))

    removed = remove_leftover_temp_files([(tmp_path, False)])

    assert removed == [stale]
    assert fresh.exists()


def test_the_folders_looked_into_are_those_of_every_local_file_of_the_catalog(tmp_path):
    conf = yaml.safe_load((PROJECT / "conf/base/catalog.yml").read_text())
    conf["elsewhere"] = {"type": "json.JSONDataset", "filepath": "s3://bucket/x.json"}

    folders = dict(catalog_folders(conf, tmp_path))

    assert folders[tmp_path / "data/03_primary"] is False
    assert folders[tmp_path / "data/08_reporting"] is False  # MlflowArtifactDataset's inner one
    assert folders[tmp_path / "data/04_feature"] is False  # a pattern's folder
    assert folders[tmp_path / "data/03_primary/labeled"] is True  # partitions
    assert not any("bucket" in str(folder) for folder in folders)


# --- in a real run ----------------------------------------------------------------------------


# A fresh process, as `kedro run` is: settings.py registers the replacing filesystem when the
# session imports it, after a plain one was made (and cached by fsspec) here.
_RUN_WITH_A_FULL_DISK = textwrap.dedent(
    """
    import sys, types
    from pathlib import Path

    import fsspec
    from fsspec.implementations.local import LocalFileSystem

    sys.path.insert(0, sys.argv[1])
    assert type(fsspec.filesystem("file")) is LocalFileSystem
    from tests.datasets import disk_full_halfway

    disk_full_halfway(types.SimpleNamespace(setattr=setattr))
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(Path.cwd())
    with KedroSession.create(project_path=Path.cwd()) as session:
        session.run(node_names=["build_label_categories"])
    """
)


def test_a_run_whose_save_fails_midway_keeps_the_old_file(project):
    target = project / "data/03_primary/label_categories.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(OLD)
    # A user's shell, as tests/test_end_to_end.py runs kedro: MLflow's URI from the project.
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}

    done = subprocess.run([sys.executable, "-c", _RUN_WITH_A_FULL_DISK, str(PROJECT)], cwd=project,
                          env=env, capture_output=True, text=True, timeout=300)  # fmt: skip

    assert done.returncode == 1
    assert "No space left on device" in done.stderr
    assert target.read_bytes() == OLD
    assert not list(target.parent.glob(".*.tmp"))


def test_a_run_removes_the_temp_files_of_killed_runs_and_keeps_a_live_ones(project, live_pid, caplog):
    dead_pid = _dead_pid()
    dead = [project / f"data/{folder}/.{name}.{dead_pid}.0123456789abcdef.tmp"
            for folder, name in (("03_primary", "labeling_queue.json"), ("04_feature", "bigram_vectorizer.pkl"),
                                 ("03_primary/labeled", "round-0002.manifest"))]  # fmt: skip
    live = project / f"data/03_primary/.input.manifest.{live_pid}.fedcba9876543210.tmp"
    for path in (*dead, live):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half")

    with caplog.at_level(logging.INFO, logger="review_sentiment.hooks"):
        kedro_run(project, node_names=["build_input_manifest"])

    assert [path.exists() for path in dead] == [False, False, False]
    assert live.exists()
    assert any(message.startswith("Removed 3 temporary file(s) left by killed runs") for message in caplog.messages)
