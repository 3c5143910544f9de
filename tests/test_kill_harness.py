"""Runs killed with SIGKILL, as a crash or an impatient user does: at each write of a file in turn
(the moment the file is opened for writing), for every pipeline that writes, and while the smoke test's scoring server runs. After each kill every file in `data/`
parses, the next run of the same command gets past that point, and one run completes; no
temporary file and no scoring server outlive the runs."""

from __future__ import annotations

import gzip
import json
import os
import pickle
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import requests

from review_sentiment.ground_truth.manifest import parse_manifest
from tests.test_end_to_end import BIN, PROJECT, kedro

pytestmark = pytest.mark.e2e

HARNESS = Path(__file__).with_name("kill_harness.py")
SAMPLE = "data_extraction.sample_size=400"
PNG_END = b"IEND\xaeB`\x82"


@pytest.fixture(scope="module")
def project(new_project) -> Path:
    """A fresh project, run once (on a 400-review sample) so training and deployment have their
    inputs."""
    root = new_project("kill-project")
    kedro(root, "run", "--params", SAMPLE)
    return root


def harness(project: Path, *args: str, **kill: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    env.update(KEDRO_DISABLE_TELEMETRY="1", SPARK_LOCAL_IP="127.0.0.1", PATH=f"{BIN}{os.pathsep}{env['PATH']}", **kill)
    return subprocess.run([sys.executable, str(HARNESS), *args], cwd=project, env=env,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


def assert_every_file_parses(project: Path) -> None:
    for path in sorted((project / "data").rglob("*")):
        if not path.is_file() or path.name.endswith(".tmp") or "01_raw" in path.parts:
            continue
        content = path.read_bytes()
        where = path.relative_to(project)
        if path.suffix == ".json":
            json.loads(content)
        elif path.suffix == ".manifest":
            parse_manifest(content, str(where))
        elif path.suffix == ".jsonl":
            [json.loads(line) for line in content.splitlines() if line.strip()]
        elif path.suffix == ".pkl":
            pickle.loads(content)
        elif path.suffix == ".csv":
            pd.read_csv(path)
        elif path.suffix == ".gz":
            gzip.decompress(content)
        elif path.suffix == ".png":
            assert content.startswith(b"\x89PNG") and content.endswith(PNG_END), f"{where} is cut off"
        elif path.suffix == ".html":
            assert content.rstrip().endswith(b">"), f"{where} is cut off"
        elif path.suffix == ".db":
            with sqlite3.connect(path) as db:
                assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def temp_files(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob(".*.tmp"))


def kill_at_each_write(project: Path, *args: str) -> int:
    """Kills `kedro <args>` at its 1st write, then a new run at its 2nd, ... until a run
    completes; returns the number of kills."""
    for n in range(1, 200):
        done = harness(project, *args, KILL_AT_WRITE=str(n))
        if done.returncode == 0:
            assert_every_file_parses(project)
            assert temp_files(project) == [], "a completed run left temporary files"
            return n - 1
        assert done.returncode == -9, f"run {n} failed instead of being killed:\n{done.stderr[-3000:]}"
        assert_every_file_parses(project)
    raise AssertionError("no run completed")


def test_labeling_killed_at_each_write(project):
    assert kill_at_each_write(project, "run", "--pipelines", "labeling", "--params", "labeling.workforce=people") >= 3
    assert kill_at_each_write(project, "run", "--pipelines", "labeling") >= 3


def test_training_killed_at_each_write(project):
    assert kill_at_each_write(project, "run", "--pipelines", "training") >= 5


def test_refresh_killed_at_each_write(project):
    reviews = pd.read_csv(PROJECT / "data/01_raw/fine_food_reviews_1k.csv", dtype=str, keep_default_na=False)
    reviews.iloc[:200].to_csv(project / "data/01_raw/arrivals/arrival-1.csv", index=False)

    assert kill_at_each_write(project, "run", "--pipelines", "refresh") >= 3


def scoring_processes(port: int) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(port) in text and ("uvicorn" in text or "mlflow" in text):
            found.append(text)
    return found


def test_a_killed_deployment_leaves_no_scoring_server(project, tmp_path):
    report = tmp_path / "server.json"

    done = harness(project, "run", "--pipelines", "deployment", KILL_WHEN_SERVING=str(report))

    assert done.returncode == -9
    url = json.loads(report.read_text())["url"]
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 20
    while scoring_processes(port) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert scoring_processes(port) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/ping", timeout=2)
    kedro(project, "run", "--pipelines", "deployment")
