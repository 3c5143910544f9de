"""MLflow's scoring server (`mlflow models serve`) as a local subprocess that starts, answers and
stops cleanly: one process group, so no uvicorn child outlives it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO

import requests

from review_sentiment.loopback import is_loopback

_OUTPUT_TAIL_CHARS = 3000


class ServerStartError(RuntimeError):
    """The scoring server exited or did not answer /ping in time; carries its output's tail."""


class LocalModelServer:
    """Serves one MLflow model on this machine; use as a context manager or call start()/stop().

    Example:
        uri = "models:/review-sentiment@champion"
        with LocalModelServer(uri, tracking_uri="sqlite:///mlruns.db") as server:
            labels = predict(server.url, ["Great value", "Broke in a week"])
    """

    def __init__(
        self,
        model_uri: str,
        *,
        tracking_uri: str,
        registry_uri: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        workers: int = 1,
        startup_timeout: float = 120,
        stop_timeout: float = 10,
        allow_remote: bool = False,
    ) -> None:
        """
        Args:
            model_uri: what to serve, e.g. `models:/review-sentiment@champion`.
            tracking_uri: the MLflow tracking URI; also the registry's unless `registry_uri` (or
                MLFLOW_REGISTRY_URI in the environment) names another.
            host: interface to bind; a non-loopback one only with `allow_remote=True`, since the
                scoring server has no authentication.
            port: port to listen on; 0 picks a free one at start().
            workers: uvicorn worker processes (`mlflow models serve -w`); each loads the model.
            startup_timeout: seconds to wait for /ping to answer 200.
            stop_timeout: seconds between SIGTERM and SIGKILL when stopping.
        """
        if not allow_remote and not is_loopback(host):
            raise ValueError(
                f"host {host!r} is not a loopback address: the scoring server has no authentication, "
                "so serving on a network interface needs allow_remote=True"
            )
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0 (pick a free one) or 1-65535, got {port}")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.model_uri = model_uri
        self.tracking_uri = tracking_uri
        self.registry_uri = registry_uri
        self.host = host.strip("[]")  # `[::1]` as a browser writes it; sockets want `::1`
        self.port = port
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self._process: subprocess.Popen | None = None
        self._output: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """`http://host:port`; the port is known once start() has chosen it."""
        if self.port == 0:
            raise RuntimeError(f"{self.model_uri}: the port is chosen at start(); start the server first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id of `mlflow models serve`, which leads its process group; None if stopped."""
        return None if self._process is None else self._process.pid

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LocalModelServer:
        """Starts the server and returns once GET /ping answers 200.

        Raises:
            ServerStartError: the process exited or did not answer within `startup_timeout`.
        """
        if self._process is not None:
            raise RuntimeError(f"the server for {self.model_uri} is already started at {self.url}")
        if self.port == 0:
            self.port = _free_port(self.host)
        bin_dir = str(Path(sys.executable).parent)  # `mlflow models serve` execs `uvicorn` from PATH
        env = {
            **os.environ,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")]),
        }
        if self.registry_uri:
            env["MLFLOW_REGISTRY_URI"] = self.registry_uri
        # A file, not a pipe: nobody reads the output while the server runs, and a full pipe
        # would block the server.
        self._output = tempfile.NamedTemporaryFile(prefix="mlflow-serve-", suffix=".log")
        command = [
            sys.executable, "-m", "mlflow", "models", "serve",
            "-m", self.model_uri, "--env-manager", "local",
            "-h", self.host, "-p", str(self.port), "-w", str(self.workers),
        ]  # fmt: skip
        try:
            self._process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches the uvicorn child too
            )
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stops the server's whole process group: SIGTERM, then SIGKILL after `stop_timeout`.
        Safe to call twice or before start()."""
        process, self._process = self._process, None
        if process is not None:
            group = process.pid  # start_new_session made the server its group's leader
            _signal_group(group, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout
            while _group_alive(group, process) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _group_alive(group, process):
                _signal_group(group, signal.SIGKILL)
                process.wait(timeout=5)
        if self._output is not None:
            self._output.close()
            self._output = None

    def output_tail(self, chars: int = _OUTPUT_TAIL_CHARS) -> str:
        """The end of the server's combined stdout/stderr, for error messages."""
        if self._output is None:
            return ""
        self._output.flush()
        with open(self._output.name, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - chars))
            return handle.read().decode("utf-8", errors="replace")

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"running at {self.url}" if self.is_running() else "stopped"
        return f"LocalModelServer({self.model_uri!r}, {state})"

    def _wait_until_ready(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = self._process.poll()
            if code is not None:
                raise ServerStartError(
                    f"`mlflow models serve -m {self.model_uri}` exited with code {code} before "
                    f"answering at {self.url}; its output ends:\n{self.output_tail()}"
                )
            try:
                if requests.get(f"{self.url}/ping", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass  # not listening yet
            if time.monotonic() >= deadline:
                raise ServerStartError(
                    f"`mlflow models serve -m {self.model_uri}` did not answer {self.url}/ping within "
                    f"{self.startup_timeout:g} s; its output ends:\n{self.output_tail()}"
                )
            time.sleep(0.2)


def _free_port(host: str) -> int:
    # The port is released before the server binds it; another process could take it in between,
    # in which case the server exits and start() reports its "address in use" output.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass  # already gone


def _group_alive(group: int, leader: subprocess.Popen) -> bool:
    leader.poll()  # reap the leader if it exited, or it lingers as a zombie member of the group
    return bool(_group_members(group))


def _group_members(group: int) -> list[int]:
    """Live (non-zombie) processes in process group `group`: from /proc on Linux, else a probe."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [group]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # exited while we looked
        # Fields after the parenthesised command name: state, ppid, pgrp, ...
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == group and state != "Z":
            members.append(int(entry.name))
    return members
