"""MLflow's scoring server (`mlflow models serve`) as a local subprocess that starts, answers and
stops cleanly: one process group, so no uvicorn child outlives it, and that group ends when the
process that started it dies."""

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
from review_sentiment.serving.guard import group_members, guarded, signal_group

_OUTPUT_TAIL_CHARS = 3000


class ServerStartError(RuntimeError):
    """The scoring server exited or did not answer /ping in time; carries its output's tail."""


class LocalModelServer:
    """Serves one MLflow model on this machine; use as a context manager or call start()/stop().

    The server also ends when the process that started it dies, even by SIGKILL: a guard
    process (`review_sentiment.serving.guard`) runs it and ends its process group then.

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
        """The process id of the guard that runs `mlflow models serve` and leads their process
        group (uvicorn and its workers included); None if stopped. Signalling it, or its group,
        with SIGTERM stops them all."""
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
        # would block the server. An unnamed one: a killed run leaves none behind.
        self._output = tempfile.TemporaryFile(prefix="mlflow-serve-", suffix=".log")
        serve = [
            sys.executable, "-m", "mlflow", "models", "serve",
            "-m", self.model_uri, "--env-manager", "local",
            "-h", self.host, "-p", str(self.port), "-w", str(self.workers),
        ]  # fmt: skip
        # PR_SET_PDEATHSIG on `mlflow models serve` itself would not do: Linux clears it in the
        # uvicorn it starts. The guard stays its parent and ends the whole group.
        command = guarded(serve, parent=os.getpid(), grace=self.stop_timeout)
        try:
            self._process = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # the guard's own process group: stop() reaches uvicorn too
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
            group = process.pid  # start_new_session made the guard its group's leader
            signal_group(group, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout
            while _group_alive(group, process) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _group_alive(group, process):
                signal_group(group, signal.SIGKILL)
                process.wait(timeout=5)
        if self._output is not None:
            self._output.close()
            self._output = None

    def output_tail(self, chars: int = _OUTPUT_TAIL_CHARS) -> str:
        """The end of the server's combined stdout/stderr, for error messages."""
        if self._output is None:
            return ""
        descriptor = self._output.fileno()
        size = os.fstat(descriptor).st_size
        start = max(0, size - chars)
        # pread: the server writes through the same file offset, which a seek would move.
        return os.pread(descriptor, size - start, start).decode("utf-8", errors="replace")

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


def _group_alive(group: int, leader: subprocess.Popen) -> bool:
    leader.poll()  # reap the leader if it exited, or it lingers as a zombie member of the group
    return bool(group_members(group))
