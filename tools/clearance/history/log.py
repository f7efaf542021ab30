"""The one ``git log`` pass: started in the background, parsed as it streams.

Field and record separators are random per run, so a commit message or a file name
cannot forge a record (an audited history is untrusted input)."""

from __future__ import annotations

import codecs
import datetime as dt
import heapq
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from clearance.errors import FatalError
from clearance.history.commits import Commit, Signature

if TYPE_CHECKING:
    from typing import IO

# Fields read for every commit, in order; %G? etc. are appended when signatures are wanted.
_FIELDS = (
    "%H",  # sha
    "%P",  # parents
    "%an",
    "%ae",
    "%aI",
    "%cn",
    "%ce",
    "%cI",
    "%s",
    "%b",
    "%(trailers:only,unfold,separator=%x1d,key_value_separator=%x1c)",
)
_SIGNATURE_FIELDS = ("%GS", "%GK", "%GF", "%G?")
_STATUS = re.compile(r"[ACDMRTUXB]+[0-9]*")


def _combined_status(status: str) -> str:
    if status.startswith(("R", "C")):
        return "R" if status.startswith("R") else "A"
    letters = set(status)
    if letters == {"A"}:
        return "A"
    if letters == {"D"}:
        return "D"
    return "M"


class _Parser:
    """Turns ``git log -z`` records (see :func:`start`) into commits."""

    def __init__(
        self, token: str, prefix: str, signatures: bool, on_commit: Callable[[Commit], None] | None = None
    ) -> None:
        self.on_commit = on_commit
        self.record_sep, self.field_sep = f"\x1e{token}R", f"\x1f{token}F"
        self.nfields = len(_FIELDS) + (len(_SIGNATURE_FIELDS) if signatures else 1)
        self.signatures = signatures
        self.strip = f"{prefix}/" if prefix else ""
        self.commits: list[Commit] = []
        self.lock = threading.Lock()  # orders delivery to on_commit (see attach)

    def feed(self, text: str) -> None:
        """Parse every complete record in ``text``; records start with the separator."""
        made = [self.record(record) for record in text.split(self.record_sep) if record]
        with self.lock:
            self.commits.extend(made)
            if self.on_commit is not None:
                for commit in made:
                    self.on_commit(commit)

    def attach(self, on_commit: Callable[[Commit], None]) -> None:
        """Hand every commit parsed so far, then each one parsed from now on, to
        ``on_commit``: in git's order, one at a time, never twice."""
        with self.lock:
            for commit in self.commits:
                on_commit(commit)
            self.on_commit = on_commit

    def record(self, record: str) -> Commit:
        fields = record.split(self.field_sep)
        if len(fields) != self.nfields:
            raise FatalError("could not read git log output (unexpected field count)")
        last, _, rest = fields[-1].partition("\0")
        sha, parents, an, ae, ad, cn, ce, cd, subject, body, trailers_raw = fields[:11]
        signature = Signature(last, fields[11], fields[12], fields[13]) if self.signatures else None
        trailers: tuple[tuple[str, str], ...] = ()
        if trailers_raw:
            pairs = []
            for item in trailers_raw.split("\x1d"):
                key, _, value = item.partition("\x1c")
                key = key.strip()
                if key:
                    pairs.append((key, value.strip()))
            trailers = tuple(pairs)
        authored = _fromiso(ad)
        committed = _fromiso(cd)
        files: tuple[tuple[str, str, str | None], ...] = ()
        if len(rest) > 1:
            tokens = rest[1:].split("\0")
            # the common case, one file added, modified or deleted: "M\0path\0"
            if len(tokens) == 3 and tokens[0] in _SIMPLE and tokens[1] and not tokens[2] and not self.strip:
                files = ((tokens[0], tokens[1], None),)
            else:
                files = tuple(self.files(tokens))
        return Commit(
            sha,
            (parents,) if parents and " " not in parents else tuple(parents.split()),
            an,
            ae,
            authored,
            cn,
            ce,
            committed,
            subject,
            body,
            trailers,
            signature,
            files,
            _iso(ad, authored),
            _iso(cd, committed),
        )

    def files(self, tokens: list[str]) -> Iterator[tuple[str, str, str | None]]:
        """(status, path, old path) from the NUL-separated ``--name-status`` tokens."""
        tokens = [t for t in tokens if t]
        strip = self.strip
        position = 0
        while position < len(tokens):
            status_token = tokens[position]
            if not _STATUS.fullmatch(status_token):
                raise FatalError(f"could not read git log output near {status_token!r}")
            two = status_token[0] in "RC" and len(status_token) > 1 and status_token[1:].isdigit()
            old: str | None
            if two:
                old, new = tokens[position + 1], tokens[position + 2]
                position += 3
            else:
                old, new = None, tokens[position + 1]
                position += 2
            status = status_token[0] if len(status_token) == 1 or two else _combined_status(status_token)
            if status in ("T", "U", "X", "B"):
                status = "M"
            if status == "C":
                status, old = "A", None
            if strip:
                if not new.startswith(strip):
                    if old is not None and old.startswith(strip):
                        status, new, old = "D", old, None
                    else:
                        continue
                new = new[len(strip) :]
                if old is not None:
                    if old.startswith(strip):
                        old = old[len(strip) :]
                    else:
                        status, old = "A", None
            yield (status, new, old)


_SIMPLE = frozenset("AMD")
_fromiso = dt.datetime.fromisoformat


def _iso(text: str, moment: dt.datetime) -> str:
    """``moment.isoformat()``, which for git's strict ISO 8601 (%aI, %cI) is ``text``
    itself: YYYY-MM-DDTHH:MM:SS+HH:MM. Only a "-00:00" offset (or a format git may
    add later, such as "Z") reads back differently; isoformat() costs ~2.5 us, up to
    twice per change record when rendering 10,000 of them."""
    if len(text) == 25 and text[7] == "-" and text[10] == "T":
        sign = text[19]
        if sign == "+" or (sign == "-" and text[20:] != "00:00"):
            return text
    return moment.isoformat()


class _Reader(threading.Thread):
    """Drains git's stdout and parses records as they arrive, so parsing overlaps
    with git's own work (and git never blocks on a full pipe)."""

    def __init__(self, stream: IO[bytes], parser: _Parser | None) -> None:
        super().__init__(daemon=True)
        self.stream, self.parser = stream, parser
        self.data = b""
        self.error: BaseException | None = None

    def run(self) -> None:
        if self.parser is None:
            self.data = self.stream.read()
            return
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        sep = self.parser.record_sep
        pending = ""
        try:
            while True:
                chunk = self.stream.read1(1 << 20)  # type: ignore[attr-defined]
                if not chunk:
                    break
                text = pending + decoder.decode(chunk)
                cut = text.rfind(sep)
                if cut > 0:
                    self.parser.feed(text[:cut])
                    pending = text[cut:]
                else:
                    pending = text
                if len(chunk) < 1 << 16:
                    # caught up with git: let a few of its 4 KiB writes gather in the
                    # (widened) pipe rather than wake up for each (~0.03 s of CPU
                    # per 10,000 commits)
                    time.sleep(0.003)
            self.parser.feed(pending + decoder.decode(b"", final=True))
        except BaseException as exc:  # handed to the caller by PendingLog.result
            self.error = exc
            self.stream.read()


def _widen_pipe(stream: IO[bytes]) -> None:
    """Let git run up to 1 MiB ahead while Python is busy (Linux; a no-op elsewhere).
    With the default 64 KiB pipe git stalls every few milliseconds whenever the
    reader thread waits for the GIL."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass


def topological(commits: list[Commit]) -> list[Commit]:
    """``commits`` unchanged when every commit comes before its parents (git's date
    order almost always gives that); otherwise re-ordered so it does, keeping git's
    order wherever it is consistent (clock skew and backdated commits break it)."""
    order = {c.sha: i for i, c in enumerate(commits)}
    if all(order.get(p, len(commits)) > i for i, c in enumerate(commits) for p in c.parents):
        return commits
    children: dict[str, int] = {}
    for commit in commits:
        for parent in commit.parents:
            if parent in order:
                children[parent] = children.get(parent, 0) + 1
    by_sha = {c.sha: c for c in commits}
    ready = [c.sha for c in commits if children.get(c.sha, 0) == 0]
    heap = [(order[sha], sha) for sha in ready]
    heapq.heapify(heap)
    result: list[Commit] = []
    while heap:
        _, sha = heapq.heappop(heap)
        commit = by_sha[sha]
        result.append(commit)
        for parent in commit.parents:
            if parent in children:
                children[parent] -= 1
                if children[parent] == 0:
                    heapq.heappush(heap, (order[parent], parent))
    return result
