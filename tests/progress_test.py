"""Progress draws on a terminal and nowhere else: unit tests with a fake terminal and
clock, and 'clearance check' under a real pseudo-terminal versus a pipe."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearance import progress

ROOT = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def interactive(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "CLEARANCE_NO_PROGRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TERM", "xterm")


def test_draws_after_the_delay_throttles_and_erases() -> None:
    out, clock = Terminal(), Clock()
    with progress.progress("Loading", 200, stream=out, clock=clock) as tick:
        tick()  # quick work: nothing drawn yet
        assert out.getvalue() == ""
        clock.now += progress.DELAY
        tick()
        assert out.getvalue() == "\rLoading: 2/200 (1%)"
        tick(10)  # within the redraw interval: not drawn
        assert out.getvalue() == "\rLoading: 2/200 (1%)"
        clock.now += 2 * progress.INTERVAL
        tick(188)
    assert out.getvalue() == "\rLoading: 2/200 (1%)\rLoading: 200/200 (100%)" + "\r" + " " * 23 + "\r"


def test_without_a_total_it_counts() -> None:
    out, clock = Terminal(), Clock()
    with progress.progress("Reading history", stream=out, clock=clock) as tick:
        clock.now += 1
        tick(5)
    assert out.getvalue().startswith("\rReading history: 5")


def test_quick_work_leaves_no_trace() -> None:
    out = Terminal()
    with progress.progress("Loading", 3, stream=out) as tick:
        for _ in range(3):
            tick()
    assert out.getvalue() == ""


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CLEARANCE_NO_PROGRESS": "1"}, {"TERM": "dumb"}])
def test_silent_in_ci_when_asked_and_on_dumb_terminals(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    out, clock = Terminal(), Clock()
    with progress.progress("Loading", 3, stream=out, clock=clock) as tick:
        clock.now += 5
        tick()
    assert out.getvalue() == ""


def test_silent_when_not_a_terminal() -> None:
    out, clock = io.StringIO(), Clock()
    with progress.progress("Loading", 3, stream=out, clock=clock) as tick:
        clock.now += 5
        tick()
    assert out.getvalue() == ""


# 'clearance check' on this repository with the start-up delay and the redraw interval
# removed, so the test does not depend on how fast the machine loads the documents.
CHECK = (
    "import clearance.progress as p, sys; p.DELAY = p.INTERVAL = 0; "
    "from clearance.cli import main; sys.exit(main(['check', '--no-cache']))"  # every file loads
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "CLEARANCE_NO_PROGRESS")}
    env["TERM"] = "xterm"
    return env


def test_check_shows_progress_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHECK], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=follower
        )
        os.close(follower)
        # read the terminal while the check runs: its redraws outgrow the pty's buffer
        # (some 4 KiB), and a writer nobody reads from blocks forever
        seen = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not select.select([leader], [], [], 0.2)[0]:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # Linux: every writer closed the follower
                break
            if not chunk:
                break
            seen += chunk
        stdout = proc.communicate(timeout=10)[0].decode()
    finally:
        os.close(leader)
    assert proc.returncode == 0, stdout
    text = seen.decode()
    assert "\rLoading documents: " in text
    assert text.count("\rLoading documents: ") >= 2  # redrawn as it goes
    assert text.endswith("\r")  # the line is erased, the report starts clean
    assert "Loading" not in stdout


def test_check_is_silent_when_piped() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout
    assert done.stderr == ""
    assert "Loading" not in done.stdout
