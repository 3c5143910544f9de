"""Progress lines for steps that can take more than a few seconds, so that no step of a run is
silent for long: a line when the step starts, a periodic line while it runs, one when it ends."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_logger = logging.getLogger(__name__)

EVERY_SECONDS = 10.0
# After a minute, one line a minute: a SageMaker endpoint can take ten.
SLOW_STEP_SECONDS = 60.0


class Step:
    """A step being timed. `update("fold 3/5")` says where it is; the next periodic line says so."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._started = time.monotonic()
        self._detail = ""
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        """Seconds since the step started."""
        return time.monotonic() - self._started

    @property
    def detail(self) -> str:
        with self._lock:
            return self._detail

    def update(self, detail: str) -> None:
        """Where the step is now, e.g. "fold 3/5" or "waiting for /ping"."""
        with self._lock:
            self._detail = detail

    def line(self) -> str:
        """The periodic line: `label-issue search: fold 3/5, 31 s`."""
        detail = self.detail or "still running"
        return f"{self.what}: {detail}, {format_seconds(self.seconds)}"


@contextmanager
def step(
    what: str,
    *,
    logger: logging.Logger | None = None,
    every: float = EVERY_SECONDS,
) -> Iterator[Step]:
    """Logs `what` when the block starts, `what: <detail>, N s` every `every` seconds while it
    runs (once a minute after the first minute), and `what: done in N s` when it ends, all at
    INFO on `logger` (the caller's module logger, so its level decides). A block that raises
    logs `what: failed after N s` at WARNING and the exception goes on.

    Example:
        with step("registering review-sentiment", logger=logger) as registering:
            registering.update("scoring champion v1")
            ...
    """
    log = logger or _logger
    progress = Step(what)
    stop = threading.Event()
    log.info("%s …", what)
    reporter = threading.Thread(
        target=_report, args=(progress, log, every, stop), name=f"progress: {what}", daemon=True
    )
    reporter.start()
    try:
        yield progress
    except BaseException:
        stop.set()
        reporter.join()
        log.warning("%s: failed after %s", what, format_seconds(progress.seconds))
        raise
    stop.set()
    reporter.join()
    log.info("%s: done in %s", what, format_seconds(progress.seconds))


def _report(progress: Step, log: logging.Logger, every: float, stop: threading.Event) -> None:
    """The timer thread: one line per period until `stop` is set."""
    while not stop.wait(_period(progress.seconds, every)):
        log.info("%s", progress.line())


def _period(seconds: float, every: float) -> float:
    return every if seconds < SLOW_STEP_SECONDS else max(every, SLOW_STEP_SECONDS)


def format_seconds(seconds: float) -> str:
    """`0.4 s`, `31 s`, `2 min 5 s`: tenths only where they matter."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
