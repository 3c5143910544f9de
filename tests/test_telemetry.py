"""Kedro's and MLflow's usage telemetry are off for the project's commands because the project says
so (settings.py), not because a shell or `make` exported a variable: a `kedro run` from a user's
shell with a fresh HOME writes neither tool's id file and announces no usage data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.test_end_to_end import BIN
from tests.test_mlflow_runs import project_with_inputs

# What a user's shell does not have: the switches themselves, and what MLflow takes for CI or
# pytest (it keeps telemetry off there, which would make these tests pass for the wrong reason).
NOT_IN_A_USERS_SHELL = {
    "KEDRO_DISABLE_TELEMETRY", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "XDG_CONFIG_HOME",
    "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "_MLFLOW_TESTING_TELEMETRY",
    "PYTEST_CURRENT_TEST", "CI", "GITHUB_ACTIONS", "CIRCLECI", "GITLAB_CI", "JENKINS_URL", "TRAVIS",
    "TF_BUILD", "BITBUCKET_BUILD_NUMBER", "CODEBUILD_BUILD_ARN", "BUILDKITE", "TEAMCITY_VERSION",
    "CLOUD_RUN_EXECUTION", "RUNBOT_HOST_URL", "RUNBOT_BUILD_NAME", "RUNBOT_WORKER_ID",
}  # fmt: skip
MLFLOW_ID_FILE = ".config/mlflow/telemetry.json"
KEDRO_ID_FILE = ".config/kedro/telemetry.toml"


def users_shell(home: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in NOT_IN_A_USERS_SHELL}
    return {**env, "HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1",
            "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip


def test_this_shell_would_let_mlflow_write_its_telemetry_id(tmp_path):
    # The control for the test below: without the project, MLflow's import starts its telemetry.
    home = tmp_path / "home"
    home.mkdir()

    subprocess.run([sys.executable, "-c", "import mlflow"], cwd=tmp_path, env=users_shell(home),
                   check=True, capture_output=True, timeout=120)  # fmt: skip

    assert (home / MLFLOW_ID_FILE).exists()


def test_kedro_run_from_a_users_shell_sends_no_telemetry(tmp_path):
    project = project_with_inputs(tmp_path / "project")
    home = tmp_path / "home"
    home.mkdir()

    done = subprocess.run([str(BIN / "kedro"), "run", "--nodes", "build_input_manifest"],
                          cwd=project, env=users_shell(home), capture_output=True, text=True,
                          timeout=300)  # fmt: skip

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert not (home / MLFLOW_ID_FILE).exists()
    assert not (home / KEDRO_ID_FILE).exists()
    assert "anonymous usage data" not in done.stdout + done.stderr
