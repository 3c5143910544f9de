"""The guard that ends a command, and what it started, with the process that started the guard;
real processes throughout, a small Python process tree standing in for the scoring server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from review_sentiment.serving.guard import PARENT_DEATH_SIGNAL, group_members, guarded
from tests.serving import MARKER, processes_left_with_env, processes_with_env

# A command that starts a process it never stops, as `mlflow models serve` leaves its uvicorn;
# argv[1] runs in that grandchild first.
TREE = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", sys.argv[1] + "; import time; time.sleep(120)"])
time.sleep(120)
"""
IGNORES_SIGTERM = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN)"


def tree(grandchild: str = "pass") -> list[str]:
    return [sys.executable, "-c", TREE, grandchild]


def start_guard(command: list[str], *, grace: float = 5) -> subprocess.Popen:
    """The guard for this test process, in a new session as LocalModelServer starts it."""
    return subprocess.Popen(guarded(command, parent=os.getpid(), grace=grace), start_new_session=True)


def wait_for_processes(marked: str, count: int, timeout: float = 20) -> list[int]:
    deadline = time.monotonic() + timeout
    while len(found := processes_with_env(MARKER, marked)) < count:
        if time.monotonic() >= deadline:
            pytest.fail(f"{count} processes expected within {timeout} s, found {found}")
        time.sleep(0.05)
    return found


def test_sigterm_to_the_guard_alone_ends_what_its_command_started(marked):
    guard = start_guard(tree())
    started = wait_for_processes(marked, 3)  # guard, command, grandchild
    group = group_members(guard.pid)

    os.kill(guard.pid, signal.SIGTERM)
    code = guard.wait(timeout=10)

    assert sorted(group) == sorted(started)
    assert code == 128 + signal.SIGTERM
    assert processes_left_with_env(MARKER, marked, timeout=2) == []


def test_what_ignores_sigterm_is_killed_after_the_grace_period(marked):
    guard = start_guard(tree(IGNORES_SIGTERM), grace=1)
    wait_for_processes(marked, 3)
    time.sleep(0.5)  # the grandchild has set its handler

    started = time.monotonic()
    os.kill(guard.pid, signal.SIGTERM)
    code = guard.wait(timeout=10)
    seconds = time.monotonic() - started

    assert code == -signal.SIGKILL  # the guard ends its group, itself included
    assert 1 <= seconds < 5
    assert processes_left_with_env(MARKER, marked, timeout=2) == []


def test_guard_exits_with_its_commands_code_and_ends_what_the_command_left(marked):
    command = [
        sys.executable, "-c",
        "import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); sys.exit(3)",
    ]  # fmt: skip

    code = start_guard(command).wait(timeout=20)

    assert code == 3
    assert processes_with_env(MARKER, marked) == []


def test_guard_does_not_start_the_command_when_its_parent_is_already_gone(tmp_path, marked):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    witness = tmp_path / "started"
    command = [sys.executable, "-c", f"open({str(witness)!r}, 'w')"]

    # The guard's real parent is this test, not `gone`: what it sees when its parent died
    # between starting it and arming the parent-death signal.
    done = subprocess.run(
        guarded(command, parent=gone.pid, grace=1), check=False, capture_output=True, text=True, timeout=20
    )

    assert done.returncode == 128 + PARENT_DEATH_SIGNAL
    assert f"its parent {gone.pid} was already gone" in done.stderr
    assert not witness.exists()


def test_guard_outlives_the_thread_that_started_it(marked):
    # Linux sends the parent-death signal when the *thread* that forked the guard ends; a
    # server started from a worker thread must keep running while the process lives.
    started: list[subprocess.Popen] = []

    def start_then_end() -> None:
        started.append(start_guard(tree()))
        wait_for_processes(marked, 2)  # the guard armed the signal before starting its command

    thread = threading.Thread(target=start_then_end)
    thread.start()
    thread.join()
    guard = started[0]
    wait_for_processes(marked, 3)
    time.sleep(1)

    still_running = guard.poll() is None
    os.kill(guard.pid, signal.SIGTERM)
    guard.wait(timeout=10)

    assert still_running
    assert processes_with_env(MARKER, marked) == []


@pytest.mark.parametrize("command", [[], ["--"]], ids=["nothing", "only --"])
def test_guard_without_a_command_says_so(command):
    done = subprocess.run(
        [sys.executable, "-m", "review_sentiment.serving.guard", "--parent", str(os.getpid()), *command],
        check=False, capture_output=True, text=True, timeout=20,
    )  # fmt: skip

    assert done.returncode == 2
    assert "no command given" in done.stderr
