"""LocalModelServer against the real `mlflow models serve` scoring server on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from review_sentiment.serving import LocalModelServer, ServerStartError
from review_sentiment.serving.guard import group_members
from tests.serving import (
    MARKER,
    PROBE_LABELS,
    PROBE_TEXTS,
    processes_left_with_env,
    processes_with_env,
    registered_champion,
)


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    """(model URI, tracking URI) of a champion in a registry under a temporary directory."""
    return registered_champion(tmp_path_factory.mktemp("server"))


@pytest.fixture(scope="module")
def served(champion):
    """One scoring server for the module: it takes about 10 s to start."""
    model_uri, tracking_uri = champion
    with LocalModelServer(model_uri, tracking_uri=tracking_uri) as server:
        yield server


PAYLOADS = {
    "inputs": {"inputs": PROBE_TEXTS},
    "dataframe_split": {"dataframe_split": {"columns": ["text"], "data": [[text] for text in PROBE_TEXTS]}},
    "dataframe_records": {"dataframe_records": [{"text": text} for text in PROBE_TEXTS]},
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_served_model_gives_one_correct_label_per_row(served, payload):
    response = requests.post(f"{served.url}/invocations", json=payload, timeout=30)

    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": PROBE_LABELS}


NOT_TEXTS = {
    "null": ({"inputs": [None]}, "1 of 1 rows are not review texts: row 0 is null"),
    "number": ({"inputs": [123]}, "row 0 is int 123, not a string"),
    "number among texts": ({"inputs": ["fine", 1.5]}, "row 1 is float 1.5, not a string"),
    "empty": (
        {"inputs": [""]},
        "row 0 is an empty text; this model refuses empty texts (training.allow_empty_texts)",
    ),
    "null in a table": (
        {"dataframe_split": {"columns": ["text"], "data": [["fine"], [None]]}},
        "row 1 is null",
    ),
    "number in records": ({"dataframe_records": [{"text": 7}]}, "row 0 is int 7, not a string"),
    "split without text": (
        {"dataframe_split": {"columns": ["review"], "data": [["fine"]]}},
        "the input table has no 'text' column (the model got ['review']",
    ),
    "records without text": (
        {"dataframe_records": [{"review": "fine"}]},
        "the input table has no 'text' column",
    ),
}


@pytest.mark.parametrize(("payload", "message"), NOT_TEXTS.values(), ids=NOT_TEXTS.keys())
def test_served_model_answers_400_naming_what_is_not_a_review_text(served, payload, message):
    response = requests.post(f"{served.url}/invocations", json=payload, timeout=30)

    assert response.status_code == 400, response.text
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in response.json()["message"]


def test_server_runs_the_number_of_workers_asked_for(champion, marked):
    model_uri, tracking_uri = champion

    with LocalModelServer(model_uri, tracking_uri=tracking_uri, workers=2) as server:
        answer = requests.post(f"{server.url}/invocations", json={"inputs": PROBE_TEXTS}, timeout=30)
        commands = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in processes_with_env(MARKER, marked)]

    assert answer.json() == {"predictions": PROBE_LABELS}
    # uvicorn starts its workers with multiprocessing's spawn.
    assert sum(b"spawn_main" in command for command in commands) == 2
    assert processes_with_env(MARKER, marked) == []


def test_zero_workers_are_refused():
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        LocalModelServer("models:/m@champion", tracking_uri="sqlite:///unused.db", workers=0)


def test_server_listens_on_loopback_at_a_chosen_port(served):
    response = requests.get(f"{served.url}/ping", timeout=5)

    assert served.url.startswith("http://127.0.0.1:")
    assert served.port > 0
    assert response.status_code == 200


def test_stop_leaves_no_process_behind(champion, marked):
    model_uri, tracking_uri = champion
    server = LocalModelServer(model_uri, tracking_uri=tracking_uri).start()
    started = processes_with_env(MARKER, marked)

    group = server.pid

    server.stop()

    assert len(started) >= 3  # the guard, `mlflow models serve` and the uvicorn it starts
    assert processes_with_env(MARKER, marked) == []
    assert group_members(group) == []
    assert server.pid is None
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{server.url}/ping", timeout=5)


# What `kedro run --pipelines deployment` does, reduced to starting the server and waiting.
STARTER = """
import sys, time
from review_sentiment.serving import LocalModelServer
server = LocalModelServer(sys.argv[1], tracking_uri=sys.argv[2], stop_timeout=3).start()
print(server.url, server.pid, flush=True)
time.sleep(600)
"""


def test_server_ends_when_the_process_that_started_it_is_killed(champion, marked, tmp_path):
    model_uri, tracking_uri = champion
    errors = tmp_path / "starter.err"
    with errors.open("w") as stderr:
        starter = subprocess.Popen(
            [sys.executable, "-c", STARTER, model_uri, tracking_uri],
            stdout=subprocess.PIPE, stderr=stderr, text=True,
        )  # fmt: skip
    try:
        line = starter.stdout.readline()  # printed once /ping answers
        if not line:
            pytest.fail(f"the starter printed nothing; stderr:\n{errors.read_text()}")
        url, group = line.split()
        ping = requests.get(f"{url}/ping", timeout=5)
        serving = [pid for pid in processes_with_env(MARKER, marked) if pid != starter.pid]

        os.kill(starter.pid, signal.SIGKILL)  # no handler, no atexit, no `finally` runs
        starter.wait()
        killed = time.monotonic()
        left = processes_left_with_env(MARKER, marked, timeout=10)
        seconds = time.monotonic() - killed
    finally:
        if starter.poll() is None:
            starter.kill()
        starter.stdout.close()

    assert ping.status_code == 200
    assert len(serving) >= 3  # the guard, `mlflow models serve` and its uvicorn
    assert left == [], f"still running {seconds:.1f} s after the starter was killed: {left}"
    assert group_members(int(group)) == []
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/ping", timeout=2)


def test_start_failure_names_the_model_and_shows_the_server_output(champion, marked):
    _, tracking_uri = champion
    server = LocalModelServer("models:/no-such-model/1", tracking_uri=tracking_uri, startup_timeout=60)

    with pytest.raises(ServerStartError, match="no-such-model") as failure:
        server.start()

    assert "RESOURCE_DOES_NOT_EXIST" in str(failure.value) or "not found" in str(failure.value)
    assert processes_with_env(MARKER, marked) == []


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_non_loopback_host_is_refused_without_allow_remote(host):
    with pytest.raises(ValueError, match="allow_remote"):
        LocalModelServer("models:/m@champion", tracking_uri="sqlite:///unused.db", host=host)


def test_command_line_serves_until_interrupted_then_stops_cleanly(champion, marked):
    model_uri, tracking_uri = champion
    command = [
        sys.executable, "-m", "review_sentiment.serving",
        "--model-uri", model_uri, "--tracking-uri", tracking_uri, "--port", "0", "--workers", "2",
    ]  # fmt: skip
    cli = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        banner = cli.stdout.readline()  # printed once the server answers
        if not banner:
            pytest.fail(f"the command printed no banner; stderr:\n{cli.stderr.read()}")
        url = banner.split(" at ")[1].split()[0].removesuffix("/invocations")
        answer = requests.post(f"{url}/invocations", json={"inputs": PROBE_TEXTS[:1]}, timeout=30)

        os.killpg(cli.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        out, err = cli.communicate(timeout=60)
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)

    assert answer.json() == {"predictions": PROBE_LABELS[:1]}
    assert cli.returncode == 0, err
    assert "Stopped." in out
    assert processes_with_env(MARKER, marked) == []
