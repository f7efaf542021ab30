"""Reading monitoring exports as a stream of normalised signals.

CSV (any dialect the ``csv`` module sniffs from the first lines, a metadata preamble
before the header row allowed), JSON (an array, or an object holding the record array at
``records``; read element by element, never whole) and JSON Lines. Every row becomes a
:class:`Signal` or a :class:`BadRow` naming the file and line; nothing is dropped
without a word.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import json
import re
import zoneinfo
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from clearance.errors import UsageError
from clearance.signals.mapping import FIELDS, Format, Settings

PREAMBLE_LINES = 40  # how far down a CSV header row may start
CHUNK = 1 << 20
_SENTIMENT = {
    "negative": "negative",
    "neg": "negative",
    "bad": "negative",
    "positive": "positive",
    "pos": "positive",
    "good": "positive",
    "neutral": "neutral",
    "mixed": "neutral",
}
_REACH = re.compile(r"^\s*([0-9][0-9,._ ]*)\s*([kKmM]?)\s*$")


@dataclass(frozen=True, slots=True)
class Signal:
    """One mention, post or ticket, normalised."""

    path: str
    line: int
    at: int  # seconds since the epoch, UTC
    text: str
    channel: str | None = None
    author: str | None = None
    author_kind: str | None = None
    reach: int | None = None
    url: str | None = None
    sentiment: str | None = None  # negative | neutral | positive

    @property
    def moment(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.at, dt.UTC)

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that was skipped (``skipped``) or kept without one value, and why."""

    path: str
    line: int
    reason: str
    skipped: bool = True

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {'skipped: ' if self.skipped else ''}{self.reason}"


Item = Signal | BadRow


class Normaliser:
    """Turns one raw record (looked up with ``get``) into a Signal or a BadRow."""

    def __init__(self, fmt: Format) -> None:
        self.fmt = fmt
        try:
            self.zone: dt.tzinfo = (
                dt.UTC if fmt.timezone.upper() == "UTC" else zoneinfo.ZoneInfo(fmt.timezone)
            )
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise UsageError(f"signals format {fmt.name!r}: unknown timezone {fmt.timezone!r}") from None
        self.channels = {k.lower(): v for k, v in fmt.channel_values.items()}
        self.kinds = {k.lower(): v for k, v in fmt.kind_values.items()}

    def time(self, raw: object) -> int | None:
        if isinstance(raw, bool) or raw is None:
            return None
        if isinstance(raw, int | float):
            value = float(raw)
            return int(value / 1000 if value > 1e11 else value)
        text = str(raw).strip()
        if not text:
            return None
        if text.isdigit():
            return self.time(int(text))
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return int(moment.timestamp())

    def signal(
        self, path: str, line: int, get: Callable[[str], object]
    ) -> tuple[Signal | None, list[BadRow]]:
        raw_at = get("at")
        at = self.time(raw_at)
        if at is None:
            what = (
                "no time"
                if raw_at in (None, "")
                else f"time {str(raw_at)[:40]!r} is not ISO 8601 or epoch seconds"
            )
            return None, [BadRow(path, line, what)]
        text = get("text")
        if not isinstance(text, str) or not text.strip():
            return None, [BadRow(path, line, "no text")]
        notes: list[BadRow] = []
        reach = _reach(get("reach"))
        if reach is False:
            notes.append(
                BadRow(
                    path, line, f"reach {str(get('reach'))[:30]!r} is not a number; kept without reach", False
                )
            )
            reach = None
        sentiment = _sentiment(get("sentiment"))
        if sentiment is False:
            notes.append(
                BadRow(
                    path,
                    line,
                    f"sentiment {str(get('sentiment'))[:30]!r} is not understood; kept without it",
                    False,
                )
            )
            sentiment = None
        channel = _word(get("channel"))
        kind = _word(get("author_kind"))
        author = get("author")
        url = get("url")
        return (
            Signal(
                path,
                line,
                at,
                text,
                self.channels.get(channel, channel) if channel else None,
                str(author) if author not in (None, "") else None,
                self.kinds.get(kind, kind) if kind else None,
                reach if isinstance(reach, int) else None,
                str(url) if url not in (None, "") else None,
                sentiment if isinstance(sentiment, str) else None,
            ),
            notes,
        )


def _word(raw: object) -> str | None:
    if raw in (None, ""):
        return None
    return str(raw).strip().lower() or None


def _reach(raw: object) -> int | bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        return False
    if isinstance(raw, int | float):
        return int(raw) if raw >= 0 else False
    match = _REACH.match(str(raw))
    if not match:
        return False
    digits, unit = match.groups()
    number = digits.replace(",", "").replace("_", "").replace(" ", "")
    try:
        value = float(number)
    except ValueError:
        return False
    return int(value * {"": 1, "k": 1_000, "m": 1_000_000}[unit.lower()])


def _sentiment(raw: object) -> str | bool | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return "negative" if raw < 0 else "positive" if raw > 0 else "neutral"
    text = str(raw).strip().lower()
    if text in _SENTIMENT:
        return _SENTIMENT[text]
    if text in ("offered", "unoffered"):
        return None  # a satisfaction survey sent but not answered
    try:
        return _sentiment(float(text))
    except ValueError:
        return False


# ---------------------------------------------------------------- CSV


def _open_text(path: Path) -> IO[str]:
    head = path.open("rb").read(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return path.open(encoding="utf-16", newline="")  # spreadsheet tools export UTF-16
    return path.open(encoding="utf-8-sig", newline="", errors="strict")


def choose(
    settings: Settings, wanted: str | None, header: Sequence[str] | None, json_shape: bool
) -> Format | None:
    """The format named by ``--format``, else clearance.yaml's default, else the first
    whose required columns the header has."""
    if wanted:
        fmt = settings.formats.get(wanted)
        if fmt is None:
            raise UsageError(f"--format {wanted!r}: no such format; formats: {', '.join(settings.formats)}")
        return fmt
    if settings.default:
        return settings.formats[settings.default]
    if header is not None:
        for fmt in reversed(list(settings.formats.values())):  # configured ones first
            if (fmt.records is not None) == json_shape and fmt.header_fits(header):
                return fmt
            if json_shape and fmt.header_fits(header):
                return fmt
    return None


def _read_csv(path: Path, shown: str, settings: Settings, wanted: str | None) -> Iterator[Item]:
    with _open_text(path) as handle:
        sample = handle.read(64 * 1024)
        handle.seek(0)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        reader = csv.reader(handle, dialect)
        fmt: Format | None = None
        header: list[str] = []
        for row in reader:
            if reader.line_num > PREAMBLE_LINES:
                break
            fmt = choose(settings, wanted, row, False)
            if fmt is not None and fmt.header_fits(row):
                header = row
                break
        if not header or fmt is None:
            names = ", ".join(settings.formats)
            raise UsageError(
                f"{shown}:1:1: no header row with a time and a text column in the first {PREAMBLE_LINES} "
                f"lines for any format ({names}); map your export's columns under 'signals: formats:' in "
                "clearance.yaml or pass --format"
            )
        positions = {h.strip().lower(): i for i, h in reversed(list(enumerate(header)))}
        index: dict[str, int] = {}
        for name in FIELDS:
            for column in fmt.columns.get(name, ()):
                if column.lower() in positions:
                    index[name] = positions[column.lower()]
                    break
        norm = Normaliser(fmt)
        width = len(header)
        previous = reader.line_num
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                yield BadRow(shown, start, f"{len(row)} fields where the header has {width}")
                continue

            def get(name: str, row: list[str] = row) -> object:
                at = index.get(name)
                return row[at] if at is not None else None

            signal, notes = norm.signal(shown, start, get)
            yield from notes
            if signal is not None:
                yield signal


# ---------------------------------------------------------------- JSON


class _Stream:
    """A JSON text read chunk by chunk, with the line of the current position."""

    def __init__(self, handle: IO[str], shown: str) -> None:
        self.handle, self.shown = handle, shown
        self.buf, self.pos, self.line, self.eof = "", 0, 1, False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def _advance(self, to: int) -> None:
        self.line += self.buf.count("\n", self.pos, to)
        self.pos = to

    def peek(self) -> str:
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self._advance(self.pos + 1)
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self._more():
                return ""

    def expect(self, chars: str) -> str:
        char = self.peek()
        if not char or char not in chars:
            found = repr(char) if char else "the end of the file"
            raise UsageError(
                f"{self.shown}:{self.line}: expected {' or '.join(map(repr, chars))}, found {found}"
            )
        self._advance(self.pos + 1)
        return char

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue
                line = self.line + self.buf.count("\n", self.pos, exc.pos)
                col = exc.pos - self.buf.rfind("\n", 0, exc.pos)
                raise UsageError(f"{self.shown}:{line}:{col}: not valid JSON: {exc.msg}") from None
            if end == len(self.buf) and not self.eof and isinstance(value, int | float) and self._more():
                continue  # a number cut by the chunk boundary
            self._advance(end)
            return value

    def array(self) -> Iterator[tuple[int, Any]]:
        self.expect("[")
        if self.peek() == "]":
            self.expect("]")
            return
        while True:
            self.peek()
            line = self.line
            yield line, self.value()
            if self.expect(",]") == "]":
                return

    def find(self, path: Sequence[str]) -> Iterator[tuple[int, Any]]:
        """The elements of the array at ``path`` inside nested objects."""
        if not path:
            yield from self.array()
            return
        self.expect("{")
        if self.peek() == "}":
            return
        while True:
            self.peek()
            key = self.value()
            self.expect(":")
            if key == path[0] and self.peek() in "[{":
                yield from self.find(path[1:])
                return
            self.value()
            if self.expect(",}") == "}":
                raise UsageError(f"{self.shown}:1: no {'.'.join(path)!r} array of records in this JSON file")


def _dotted(record: Mapping[str, Any], path: str) -> object:
    value: object = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _json_items(norm: Normaliser, shown: str, records: Iterator[tuple[int, Any]]) -> Iterator[Item]:
    columns = norm.fmt.columns
    for line, record in records:
        if not isinstance(record, dict):
            yield BadRow(shown, line, f"a record is an object, not {type(record).__name__}")
            continue

        def get(name: str, record: dict[str, Any] = record) -> object:
            for column in columns.get(name, ()):
                value = _dotted(record, column)
                if value not in (None, ""):
                    return value
            return None

        signal, notes = norm.signal(shown, line, get)
        yield from notes
        if signal is not None:
            yield signal


def _read_json(path: Path, shown: str, settings: Settings, wanted: str | None) -> Iterator[Item]:
    with _open_text(path) as handle:
        stream = _Stream(handle, shown)
        first = stream.peek()
        if first not in "[{" or not first:
            raise UsageError(f"{shown}:1:1: a JSON export starts with '[' or '{{'")
        fmt = choose(settings, wanted, None, True)
        if fmt is None:
            jsons = [f for f in settings.formats.values() if f.records]
            fmt = jsons[-1] if first == "{" and jsons else None
        if fmt is None:
            raise UsageError(f"{shown}:1:1: which format is this JSON export? pass --format")
        path_parts = fmt.records.split(".") if (first == "{" and fmt.records) else []
        yield from _json_items(Normaliser(fmt), shown, stream.find(path_parts))


def _read_jsonl(path: Path, shown: str, settings: Settings, wanted: str | None) -> Iterator[Item]:
    fmt = choose(settings, wanted, None, True)
    if fmt is None:
        jsons = [f for f in settings.formats.values() if f.records]
        fmt = jsons[-1] if jsons else None
    if fmt is None:
        raise UsageError(f"{shown}:1:1: which format is this JSON Lines export? pass --format")

    def records() -> Iterator[tuple[int, Any]]:
        with _open_text(path) as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, f"not valid JSON ({exc.msg})"

    for item in _json_items(Normaliser(fmt), shown, records()):
        if isinstance(item, BadRow) and item.reason.startswith("a record is an object, not str"):
            yield BadRow(item.path, item.line, "not valid JSON")
        else:
            yield item


def read(path: Path, shown: str, settings: Settings, wanted: str | None = None) -> Iterator[Item]:
    """Signals and bad rows of one export, in file order."""
    if not path.is_file():
        raise UsageError(f"{shown}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            yield from _read_jsonl(path, shown, settings, wanted)
        elif suffix == ".json":
            yield from _read_json(path, shown, settings, wanted)
        else:
            yield from _read_csv(path, shown, settings, wanted)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown}: not UTF-8 or UTF-16 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise UsageError(f"{shown}: not readable as CSV: {exc}") from None
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read: {exc.strerror or exc}") from None
