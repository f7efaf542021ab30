"""Terms (code names, project names) as people actually write them on social media.

A term is matched on a compact form of the normalised text: letters and digits
only, lower case, so ``#KestrelRidge``, ``Kestrel-Ridge``, ``kestrel_ridge`` and
``Kestrel Ridge`` are all ``kestrelridge``. (Zero-width characters and HTML comments
are already gone: see :mod:`clearance.scan.normalise`.) A match must start where a
word starts (after a separator, or at a case join such as ``#KestrelLaunch``) and
end where a word ends, at a case join, or after a plural ``s``/``es``. A data class
may opt into fuzzy matching: terms of six or more letters then also match at edit
distance one (``Nightjr``), found through the half of the term a single edit leaves
intact, so the cost stays linear.

Every match is returned as a span of the text given, so positions still point into
the original once the normaliser maps them back.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FUZZY_MIN = 6
_RUN = re.compile(r"[^\W_]+")
_SEPARATORS = re.compile(r"[\W_]+")


def compact(term: str) -> str:
    """A term's matching key: letters and digits, lower case."""
    return "".join(run.lower() for run in _RUN.findall(term))


@dataclass(frozen=True)
class TermMatch:
    start: int
    end: int
    key: str
    fuzzy: bool


class _Compact:
    """The compact form of a text and the way back to the text's offsets (built
    only when a term is found: most statements name none)."""

    def __init__(self, text: str) -> None:
        self.text = text
        stripped = _SEPARATORS.sub("", text)
        value = stripped.lower()
        self.value = value if len(value) == len(stripped) else "".join(self._runs())
        self._map: tuple[list[int], list[int], frozenset[int]] | None = None

    def _runs(self) -> Iterator[str]:
        for run in _RUN.finditer(self.text):
            value = run.group().lower()
            # A character whose lower case is longer: keep the run as written.
            yield value if len(value) == run.end() - run.start() else run.group()

    def _mapping(self) -> tuple[list[int], list[int], frozenset[int]]:
        if self._map is None:
            c_starts: list[int] = []
            t_starts: list[int] = []
            position = 0
            for run in _RUN.finditer(self.text):
                c_starts.append(position)
                t_starts.append(run.start())
                position += run.end() - run.start()
            self._map = (c_starts, t_starts, frozenset(c_starts))
        return self._map

    @property
    def run_starts(self) -> frozenset[int]:
        return self._mapping()[2]

    def offset(self, c: int) -> int:
        """Text offset of compact character ``c``."""
        c_starts, t_starts, _ = self._mapping()
        run = bisect.bisect_right(c_starts, c) - 1
        return t_starts[run] + (c - c_starts[run])

    def _case_join(self, t: int) -> bool:
        """A word boundary inside a run at text offset ``t`` (between t-1 and t)."""
        before, after = self.text[t - 1], self.text[t]
        return (before.islower() and after.isupper()) or (before.isalpha() != after.isalpha())

    def starts_word(self, c: int) -> bool:
        return c in self.run_starts or self._case_join(self.offset(c))

    def ends_word(self, c: int) -> bool:
        """Whether a match may end before compact character ``c``."""
        if c >= len(self.value) or c in self.run_starts:
            return True
        return self._case_join(self.offset(c))


class TermMatcher:
    """Every term of a repository, compiled once."""

    def __init__(self, keys: Iterable[str], fuzzy: Iterable[str] = ()) -> None:
        self.keys = frozenset(k for k in keys if k)
        self.fuzzy = frozenset(k for k in fuzzy if len(k) >= FUZZY_MIN and k in self.keys)
        ordered = sorted(self.keys, key=len, reverse=True)
        self._exact = re.compile("|".join(re.escape(k) for k in ordered)) if ordered else None
        halves: dict[str, list[tuple[str, int]]] = {}
        for key in self.fuzzy:
            middle = len(key) // 2
            halves.setdefault(key[:middle], []).append((key, 0))
            halves.setdefault(key[middle:], []).append((key, middle))
        self._halves = halves
        order = sorted(halves, key=len, reverse=True)
        self._half_pattern = re.compile("|".join(re.escape(h) for h in order)) if order else None

    def find(self, text: str) -> Iterator[TermMatch]:
        if self._exact is None:
            return
        form = _Compact(text)
        value = form.value
        taken = bytearray(len(value) + 1)
        found: list[tuple[int, int, str, bool]] = []
        position = 0
        while True:
            match = self._exact.search(value, position)
            if match is None:
                break
            start, end = match.span()
            stop = self._end(form, end)
            if form.starts_word(start) and stop is not None:
                found.append((start, stop, match.group(), False))
                taken[start:stop] = b"\x01" * (stop - start)
                position = stop
            else:
                position = start + 1
        if self._half_pattern is not None:
            found.extend(self._fuzzy(form, taken))
        for start, stop, key, fuzzy in sorted(found):
            first = form.offset(start)
            last = form.offset(stop - 1) + 1
            if last - first > 3 * len(key) + 12:
                continue  # the letters are too far apart to be one written word
            yield TermMatch(first, last, key, fuzzy)

    @staticmethod
    def _end(form: _Compact, end: int) -> int | None:
        """Where a match ending at ``end`` may stop: at a word end, or after a plural."""
        if form.ends_word(end):
            return end
        for suffix in ("s", "es"):
            stop = end + len(suffix)
            if form.value.startswith(suffix, end) and form.ends_word(stop):
                return stop
        return None

    def _fuzzy(self, form: _Compact, taken: bytearray) -> Iterator[tuple[int, int, str, bool]]:
        assert self._half_pattern is not None
        value = form.value
        tried: set[tuple[int, str]] = set()
        for match in self._half_pattern.finditer(value):
            for key, offset in self._halves[match.group()]:
                for shift in (-1, 0, 1):
                    start = match.start() - offset + (shift if offset else 0)
                    if start < 0 or (start, key) in tried or taken[start]:
                        continue
                    tried.add((start, key))
                    if not form.starts_word(start):
                        continue
                    for length in (len(key) - 1, len(key), len(key) + 1):
                        stop = start + length
                        if stop > len(value) or taken[stop - 1]:
                            continue
                        candidate = value[start:stop]
                        if candidate != key and _within_one(candidate, key):
                            end = self._end(form, stop)
                            if end is not None:
                                yield start, end, key, True
                                break


def _within_one(a: str, b: str) -> bool:
    """Levenshtein distance at most one."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    if len(a) > len(b):
        a, b = b, a
    for i in range(len(a)):
        if a[i] != b[i]:
            return a[i:] == b[i + 1 :]
    return True
