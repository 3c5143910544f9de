"""Runs a command so that it, and every process it starts, ends when the process that started the
guard dies, even by SIGKILL: `python -m review_sentiment.serving.guard --parent PID -- COMMAND...`."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from review_sentiment.lifetime import arm_parent_death_signal

# What the kernel sends the guard when its parent dies; SIGHUP as a terminal sends it when its
# controlling process goes away.
PARENT_DEATH_SIGNAL = signal.SIGHUP
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, PARENT_DEATH_SIGNAL)
_POLL_SECONDS = 0.5
_PROC = Path("/proc")


def guarded(command: Sequence[str], *, parent: int, grace: float) -> list[str]:
    """The command line that runs `command` under a guard for process `parent`.

    Start it with `start_new_session=True`: the guard leads the new process group, and the
    command and everything it starts stay in it, so signalling the group reaches them all.
    """
    # `-I` and the file, not `-m`: the guard needs only the standard library, and importing
    # the package would load pandas and requests into a process that only waits.
    return [
        sys.executable, "-I", str(Path(__file__).resolve()),
        "--parent", str(parent), "--grace", f"{grace:g}", "--", *command,
    ]  # fmt: skip


def group_members(group: int) -> list[int]:
    """Live (non-zombie) processes in process group `group`: from /proc on Linux, else a probe."""
    if not (_PROC / "self" / "stat").exists():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        except PermissionError:
            pass
        return [group]
    members = []
    for entry in _PROC.iterdir():
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


def signal_group(group: int, signum: int) -> None:
    try:
        os.killpg(group, signum)
    except ProcessLookupError:
        pass  # already gone


class _Stop(Exception):
    """Leaves the wait for the command: the guard was told to stop, or its parent died."""

    def __init__(self, reason: str, signum: int) -> None:
        super().__init__(reason)
        self.signum = signum


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command[:1] == ["--"]:
        args.command = args.command[1:]
    if not args.command:
        print("guard: no command given after --", file=sys.stderr)
        return 2
    if os.getpgrp() != os.getpid():
        # Ending "the group" must never reach whoever started the guard without a new session.
        os.setpgid(0, 0)
    group = os.getpgrp()
    stop: _Stop | None = None
    waiting = True

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        if signum == PARENT_DEATH_SIGNAL and os.getppid() == args.parent:
            return  # the kernel also sends it when the thread that started the guard ends
        if stop is None:
            reason = (
                f"its parent {args.parent} died"
                if signum == PARENT_DEATH_SIGNAL
                else f"got {signal.Signals(signum).name}"
            )
            stop = _Stop(reason, signum)
            if waiting:  # elsewhere the guard is already ending the group
                raise stop

    for signum in _STOP_SIGNALS:
        signal.signal(signum, on_signal)
    child: subprocess.Popen | None = None
    code = 0
    try:
        watched = arm_parent_death_signal(PARENT_DEATH_SIGNAL)
        if os.getppid() != args.parent:
            # The parent died before the signal was armed: the kernel will never send it.
            stop = _Stop(f"its parent {args.parent} was already gone", PARENT_DEATH_SIGNAL)
        else:
            try:
                child = subprocess.Popen(args.command)  # stays in the guard's group
            except OSError as error:
                print(f"guard: cannot run {args.command[0]}: {error}", file=sys.stderr, flush=True)
                code = 127  # what a shell answers for a command it cannot run
            else:
                code = _wait(child, args.parent, poll=None if watched else _POLL_SECONDS)
        waiting = False
    except _Stop as raised:
        waiting = False
        stop = stop or raised  # _wait's own check found the parent gone
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)  # the guard signals its own group next
    if stop is not None:
        print(f"guard: {stop}; ending process group {group}", file=sys.stderr, flush=True)
    # Also when the command exited by itself: what it started may outlive it (mlflow's uvicorn).
    _end_group(group, child, args.grace)
    if stop is not None:
        return 128 + stop.signum
    return code if code >= 0 else 128 - code


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m review_sentiment.serving.guard",
        description="Run COMMAND in this process group and end the whole group when process "
        "PARENT dies (even by SIGKILL), when COMMAND exits, or on SIGTERM/SIGINT.",
    )
    parser.add_argument("--parent", type=int, required=True, help="pid whose death ends COMMAND")
    parser.add_argument(
        "--grace", type=float, default=10, help="seconds between SIGTERM and SIGKILL (default: %(default)s)"
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    return parser


def _wait(child: subprocess.Popen, parent: int, *, poll: float | None) -> int:
    """The command's exit code; `poll` seconds between parent checks where no signal will come."""
    while True:
        try:
            return child.wait(timeout=poll)
        except subprocess.TimeoutExpired:
            if os.getppid() != parent:
                raise _Stop(f"its parent {parent} died", PARENT_DEATH_SIGNAL) from None


def _end_group(group: int, child: subprocess.Popen | None, grace: float) -> None:
    """SIGTERM to the group, SIGKILL after `grace` seconds if any other member is still alive."""
    if not _others_alive(group, child):
        return
    signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _others_alive(group, child):
        if time.monotonic() >= deadline:
            signal_group(group, signal.SIGKILL)  # the guard too: nothing is left for it to do
            return
        time.sleep(0.05)


def _others_alive(group: int, child: subprocess.Popen | None) -> bool:
    if child is not None:
        child.poll()  # reap it, or it lingers as a zombie member of the group
    if not (_PROC / "self" / "stat").exists():
        return child is not None and child.returncode is None  # only the child is known here
    return any(pid != os.getpid() for pid in group_members(group))


if __name__ == "__main__":
    sys.exit(main())
