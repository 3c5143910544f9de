"""`kedro` as a user runs it, killed with SIGKILL at a chosen moment: run as
`python tests/kill_harness.py run --pipelines labeling` in a project folder.

KILL_AT_WRITE=N kills the run when it opens its Nth file under the project's `data/` for writing:
the moment a write in place has cut the old file and a whole-file write has its temporary file.
KILL_WHEN_SERVING=FILE kills it once a scoring server it started answers, after writing the
server's process group and URL to FILE. Nothing else changes: the project's settings, hooks and
catalog are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _kill_at_write(n: int, data: Path) -> None:
    """Kills the process when it opens its Nth file under `data` for writing: an in-place write
    has just cut the target to nothing, a whole-file write has just created its temporary file."""
    import builtins
    import io

    opened = 0

    def count(file, mode: str) -> None:
        nonlocal opened
        if isinstance(file, str | bytes | os.PathLike) and set(mode) & set("wxa+"):
            if Path(os.fsdecode(file)).resolve().is_relative_to(data):
                opened += 1
                if opened == n:
                    real_open(file, mode).close()
                    _kill()

    real_open, real_file_io = builtins.open, io.FileIO

    def counting_open(file, mode="r", *args, **kwargs):
        count(file, mode)
        return real_open(file, mode, *args, **kwargs)

    class CountingFileIO(real_file_io):
        def __init__(self, file, mode="r", *args, **kwargs):
            count(file, mode)
            super().__init__(file, mode, *args, **kwargs)

    builtins.open = io.open = counting_open
    io.FileIO = CountingFileIO


def _kill_when_serving(report: Path) -> None:
    from review_sentiment.serving import server

    start = server.LocalModelServer.start

    def start_then_die(self):
        started = start(self)
        report.write_text(json.dumps({"group": os.getpgid(self.pid), "url": self.url}))
        _kill()
        return started

    server.LocalModelServer.start = start_then_die


def main() -> None:
    if "KILL_AT_WRITE" in os.environ:
        _kill_at_write(int(os.environ["KILL_AT_WRITE"]), (Path.cwd() / "data").resolve())
    if "KILL_WHEN_SERVING" in os.environ:
        _kill_when_serving(Path(os.environ["KILL_WHEN_SERVING"]))
    from kedro.framework.cli import main as kedro

    sys.argv = ["kedro", *sys.argv[1:]]
    kedro()


if __name__ == "__main__":
    main()
