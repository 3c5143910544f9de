"""The Spark steps on a real cluster endpoint: a Spark Connect server on 127.0.0.1 (the protocol
Databricks Connect speaks), started here in its own process group and stopped with it. The
manifest reader, and `kedro run --env cluster --pipelines feature_engineering`, read through it
what a local session reads; `--pipelines data_extraction` writes through it what pandas writes."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyspark
import pytest

from review_sentiment.ground_truth.spark_reader import parse_output_manifest

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPARK_HOME = Path(pyspark.__file__).parent
CONNECT_JAR = next((SPARK_HOME / "jars").glob("spark-connect_*.jar"))
CONNECT_SERVER = "org.apache.spark.sql.connect.service.SparkConnectServer"
CLASSES = ["positive", "negative", "neutral"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    name = log.stem
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"{name} not listening on {port} after {timeout} s:\n{log.read_text()[-3000:]}")


@contextmanager
def server_in_own_group(command: list[str], port: int, folder: Path, name: str) -> Iterator[None]:
    """Runs `command` in the foreground of its own session (Spark's `sbin/start-*.sh` would
    daemonise it) until it listens on `port`, and at the end stops its whole process group:
    spark-submit and spark-class exec a JVM, which starts Python workers."""
    log = folder / f"{name}.log"
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_HOME": str(SPARK_HOME)}
    for variable in ("PYSPARK_PYTHON", "SPARK_REMOTE", "SPARK_MASTER"):
        env.pop(variable, None)
    with log.open("wb") as output:
        server = subprocess.Popen(
            command, cwd=folder, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_for_port(port, server, log)
        yield
    finally:
        signal_group(server, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            signal_group(server, signal.SIGKILL)
            server.wait(timeout=30)


def signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


LOG4J2 = f"-Dlog4j2.configurationFile={(PROJECT / 'src/review_sentiment/log4j2.properties').as_uri()}"


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory) -> Iterator[str]:
    """`sc://127.0.0.1:<port>`: a Spark Connect server with `local[2]` behind it. Its Python
    workers are the bare `python3` on PATH, without this project or pyarrow, as a cluster's
    image may be: the reader ships its code with each task."""
    folder, port = tmp_path_factory.mktemp("spark-connect"), free_port()
    command = [
        str(SPARK_HOME / "bin" / "spark-submit"),
        "--class", CONNECT_SERVER,
        "--master", "local[2]",
        "--driver-java-options", LOG4J2,
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.ui.enabled=false",
        str(CONNECT_JAR),
    ]  # fmt: skip
    with server_in_own_group(command, port, folder, "connect-server"):
        yield f"sc://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def standalone_master(tmp_path_factory) -> Iterator[str]:
    """`spark://127.0.0.1:<port>`: a standalone master and one worker (1 core, 1 GB), each in
    its own process group."""
    folder, port, spark_class = tmp_path_factory.mktemp("spark-standalone"), free_port(), str(SPARK_HOME / "bin" / "spark-class")
    master = [spark_class, "org.apache.spark.deploy.master.Master",
              "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())]  # fmt: skip
    with server_in_own_group(master, port, folder, "master"):
        worker_port = free_port()
        worker = [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{port}",
                  "--host", "127.0.0.1", "--port", str(worker_port), "--webui-port", str(free_port()),
                  "--cores", "1", "--memory", "1g", "--work-dir", str(folder / "work")]  # fmt: skip
        with server_in_own_group(worker, worker_port, folder, "worker"):
            yield f"spark://127.0.0.1:{port}"


def run(command: list[str], cwd: Path, timeout: float = 600, **env: str) -> subprocess.CompletedProcess:
    # A user's shell, not the suite's: conftest points MLflow at a temporary store.
    inherited = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "SPARK_REMOTE")}
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**inherited, "KEDRO_DISABLE_TELEMETRY": "1", "SPARK_LOCAL_IP": "127.0.0.1",
             "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
    )  # fmt: skip
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


# Runs in its own process: a Connect session in this one would make every later
# `SparkSession.builder.getOrCreate()` of the suite remote.
READ_THROUGH_CONNECT = """
import json, sys
from review_sentiment.spark import start_spark
from review_sentiment.ground_truth.spark_reader import parse_output_manifest

spark = start_spark({"spark.master": "local[*]", "spark.remote": sys.argv[1],
                     "spark.driver.memory": "4g", "spark.sql.shuffle.partitions": "4"})
assert type(spark).__module__ == "pyspark.sql.connect.session", type(spark)
rows = parse_output_manifest(spark.read.text(sys.argv[2]), classes=json.loads(sys.argv[3])).collect()
print(json.dumps([row.asDict() for row in rows]))
"""


def awkward_manifest(path: Path) -> Path:
    """A BOM, CRLF, a byte that is not UTF-8, a blank line in the middle, a repeated item and
    blank lines at the end: every path through the reader."""
    lines = [
        json.dumps({"source": f"review {i}", "s": i % 3, "s-metadata": {"class-name": CLASSES[i % 3]}}).encode()
        for i in range(40)
    ]
    path.write_bytes(
        b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n"
        + b'{"source":"caf\xe9","s":0,"s-metadata":{}}\n\n'
        + json.dumps({"source": "review 1", "s": 2, "s-metadata": {"class-name": "neutral"}}).encode() + b"\n\n  \n"
    )  # fmt: skip
    return path


@pytest.mark.e2e
def test_reader_on_spark_connect_reads_what_a_local_session_reads(connect_url, spark, tmp_path):
    manifest = awkward_manifest(tmp_path / "out 100%.manifest")

    done = run([sys.executable, "-c", READ_THROUGH_CONNECT, connect_url, str(manifest), json.dumps(CLASSES)], cwd=tmp_path,
               PYTHONPATH=os.pathsep.join(sys.path))
    remote = sorted(json.loads(done.stdout.strip().splitlines()[-1]), key=lambda row: row["line"])
    local = sorted((row.asDict() for row in parse_output_manifest(spark.read.text(str(manifest)), classes=CLASSES).collect()),
                   key=lambda row: row["line"])

    assert remote == local
    assert len(remote) == 43  # the blank end is no line
    assert {row["line"]: row["problem"] for row in remote if row["problem"]} == {
        41: "encoding: not valid UTF-8 (byte 0xe9 at column 15: invalid continuation byte)",
        42: "json: blank line (only the end of a file may be blank)",
    }
    assert remote[0]["file"] == str(manifest)


@pytest.fixture(scope="module")
def labeled_project(tmp_path_factory) -> Path:
    """A copy of the project as a user clones it, with a labeled output manifest from a local run
    (300 bundled reviews, labeled from their stars)."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*", "local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PROJECT / "data", root / "data",
                    ignore=lambda folder, names: [n for n in names if n.endswith((".pkl", ".manifest", ".json", ".png", ".html"))])
    (root / "src").mkdir()  # Kedro wants one; the package comes from the installed project
    run([str(BIN / "kedro"), "run", "--pipelines", "data_extraction,labeling",
         "--params", "data_extraction.sample_size=300"], cwd=root)  # fmt: skip
    return root


@pytest.fixture(scope="module")
def local_model_input(labeled_project) -> dict[str, pd.DataFrame]:
    """The train and test reviews of a local `kedro run --pipelines feature_engineering`."""
    model_input = labeled_project / "data" / "05_model_input"
    run([str(BIN / "kedro"), "run", "--pipelines", "feature_engineering"], cwd=labeled_project)
    frames = {name: pd.read_pickle(model_input / f"{name}.pkl") for name in ("train_reviews", "test_reviews")}
    assert sum(map(len, frames.values())) == 300
    return frames


@pytest.mark.e2e
@pytest.mark.parametrize("cluster", ["connect_url", "standalone_master"])
def test_feature_engineering_runs_on_a_cluster_with_env_cluster(request, cluster, labeled_project, local_model_input):
    endpoint = request.getfixturevalue(cluster)
    model_input = labeled_project / "data" / "05_model_input"
    for name in local_model_input:
        (model_input / f"{name}.pkl").unlink()
    variables = (
        # A Connect server resolves a relative path against its own folder: the absolute one.
        {"SPARK_REMOTE": endpoint, "REVIEW_SENTIMENT_SPARK_MANIFEST": str(labeled_project / "data/03_primary/output.manifest")}
        if endpoint.startswith("sc://") else {"SPARK_MASTER": endpoint}
    )  # fmt: skip

    done = run([str(BIN / "kedro"), "run", "--env", "cluster", "--pipelines", "feature_engineering"],
               cwd=labeled_project, **variables)  # fmt: skip

    where = f"Spark Connect {endpoint}" if endpoint.startswith("sc://") else endpoint
    assert f"starting Spark ({where})" in done.stdout + done.stderr
    for name, frame in local_model_input.items():
        pd.testing.assert_frame_equal(pd.read_pickle(model_input / f"{name}.pkl"), frame)


@pytest.mark.e2e
def test_env_cluster_without_a_master_says_which_variables_to_set(labeled_project):
    done = subprocess.run(
        [str(BIN / "kedro"), "run", "--env", "cluster", "--pipelines", "feature_engineering"],
        cwd=labeled_project, capture_output=True, text=True, timeout=300,
        env={k: v for k, v in os.environ.items() if k not in ("SPARK_REMOTE", "SPARK_MASTER")},
    )  # fmt: skip

    assert done.returncode != 0
    assert "set SPARK_MASTER (spark://host:7077, yarn, local[*]) or SPARK_REMOTE" in done.stdout + done.stderr


def test_an_sc_master_or_spark_remote_is_a_connect_endpoint(monkeypatch):
    from review_sentiment.spark import remote_url

    monkeypatch.delenv("SPARK_REMOTE", raising=False)

    assert remote_url({"spark.master": "sc://127.0.0.1:15002"}) == "sc://127.0.0.1:15002"
    assert remote_url({"spark.remote": "sc://h:15002", "spark.master": None}) == "sc://h:15002"
    assert remote_url({"spark.master": "spark://127.0.0.1:7077"}) is None


def test_the_log_names_a_databricks_endpoint_without_its_token():
    from review_sentiment.spark import spark_location

    databricks = "sc://adb-1.azuredatabricks.net:443/;token=dapiSECRET;x-databricks-cluster-id=0101"

    assert spark_location({"spark.remote": databricks}) == "Spark Connect sc://adb-1.azuredatabricks.net:443"


@pytest.mark.e2e
def test_data_extraction_runs_through_spark_connect_and_writes_what_pandas_writes(connect_url, tmp_path):
    """`--env cluster` with SPARK_REMOTE: engine auto takes Spark (the session is a cluster's), the
    Connect server reads the raw file and cleans it (its Python workers a bare `python3`), and
    the lines come back to one manifest file equal to a local pandas run's."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT / "conf", root / "conf", ignore=shutil.ignore_patterns("credentials*", "local"))
    (root / "conf" / "local").mkdir()
    shutil.copy(PROJECT / "pyproject.toml", root / "pyproject.toml")
    (root / "src").mkdir()
    raw = root / "data" / "01_raw" / "clothing_2k.csv.gz"
    raw.parent.mkdir(parents=True)
    bundled = pd.read_csv(PROJECT / "data/01_raw/womens_clothing_reviews_8k.csv.gz", dtype=str, keep_default_na=False)
    bundled.head(2_000).to_csv(raw, index=False)
    manifest, sample = root / "data/03_primary/input.manifest", root / "data/02_intermediate/review_sample.csv"
    extract = [str(BIN / "kedro"), "run", "--pipelines", "data_extraction", "--params",
               "raw_reviews_path=data/01_raw/clothing_2k.csv.gz"]  # fmt: skip

    local = run(extract, cwd=root)
    assert "with pandas (engine auto" in local.stdout + local.stderr
    expected_manifest, expected_sample = manifest.read_bytes(), sample.read_bytes()
    manifest.unlink()
    remote = run([*extract[:2], "--env", "cluster", *extract[2:]], cwd=root, SPARK_REMOTE=connect_url)

    output = remote.stdout + remote.stderr
    assert f"starting Spark (Spark Connect {connect_url})" in output
    assert "with Spark, comma-separated (engine auto: the Spark session is a cluster's" in output
    assert manifest.read_bytes() == expected_manifest
    assert expected_manifest.count(b"\n") > 1_900
    pd.testing.assert_frame_equal(pd.read_csv(sample, keep_default_na=False), pd.read_csv(io.BytesIO(expected_sample), keep_default_na=False))
