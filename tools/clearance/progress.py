"""Progress for long runs, on a terminal only.

``with progress("Loading", total) as tick: ... tick()`` draws one self-erasing line on
standard error, at most ten times a second and only once the work has taken longer
than a moment, so quick runs never flicker. When standard error is not a terminal
(piped, redirected, captured by a test), under CI, with TERM=dumb or with
CLEARANCE_NO_PROGRESS set, nothing at all is written: output meant for files and other
programs stays clean.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

T = TypeVar("T")
Tick = Callable[..., None]

DELAY = 0.4  # seconds before the first line is drawn
INTERVAL = 0.1  # seconds between redraws


def enabled(stream: TextIO) -> bool:
    if os.environ.get("CLEARANCE_NO_PROGRESS") or os.environ.get("CI"):
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class _Bar:
    def __init__(self, label: str, total: int | None, stream: TextIO, clock: Callable[[], float]) -> None:
        self.label = label
        self.total = total
        self.stream = stream
        self.clock = clock
        self.done = 0
        self.started = clock()
        self.drawn_at: float | None = None
        self.width = 0

    def tick(self, amount: int = 1) -> None:
        self.done += amount
        now = self.clock()
        if now - self.started < DELAY:
            return
        if self.drawn_at is not None and now - self.drawn_at < INTERVAL:
            return
        self.draw(now)

    def line(self) -> str:
        if self.total:
            percent = min(100, self.done * 100 // self.total)
            return f"{self.label}: {self.done}/{self.total} ({percent}%)"
        return f"{self.label}: {self.done}"

    def draw(self, now: float) -> None:
        text = self.line()
        padding = " " * max(0, self.width - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self.width = len(text)
        self.drawn_at = now

    def clear(self) -> None:
        if self.drawn_at is not None:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()


def _ignore(amount: int = 1) -> None:
    """The tick handed out when progress is off: does nothing."""


@contextmanager
def progress(
    label: str,
    total: int | None = None,
    *,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[Tick]:
    """Yield ``tick(amount=1)``; draw ``label: done/total (percent)`` (or ``label:
    done`` without a total) on a terminal while the block runs, erase it after."""
    out = stream if stream is not None else sys.stderr
    if not enabled(out):
        yield _ignore
        return
    bar = _Bar(label, total, out, clock)
    try:
        yield bar.tick
    finally:
        bar.clear()
