"""Strict loading of YAML documents and Markdown front matter.

Everything that YAML would otherwise accept silently and surprise a reviewer with is
an error here, each with the line and column of the offending text: duplicate keys,
anchors and aliases, merge keys, explicit tags, non-string keys, several documents in
one file, bytes that are not UTF-8, invisible or control characters, tabs, oversized
files and runaway nesting. Plain scalars are typed the JSON way: ``true``/``false``,
``null``, integers and floats written canonically; everything else (dates, ``NO``,
``on``, ``010``, ``1:20``, ``1.10``) stays a string.

The document tree is built from the parser's event stream (libyaml's C parser when it
is installed), so an alias is rejected when it is seen and never expanded.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml

from clearance.model import Document, Location, Path

try:  # libyaml is ~10x faster; behaviour is identical (tested on both).
    from yaml import CSafeLoader as _FastLoader

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - depends on the PyYAML build
    _FastLoader = yaml.SafeLoader  # type: ignore[misc,assignment]
    HAVE_LIBYAML = False

DEFAULT_MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64

# Characters that have no business in a governance document: C0/C1 controls other
# than tab, LF and CR; DEL; bidirectional overrides and isolates; zero-width and
# other invisible format characters; a BOM anywhere but the start.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_FRONT_MATTER_END = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")
_STR_TAG = "tag:yaml.org,2002:str"
_ALLOWED_COLLECTION_TAGS = {None, "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}

# Loading rules: (id, description). They are registered with the rule catalogue so
# `clearance rules` lists them and clearance.yaml cannot switch them off.
RULES = {
    "LD001": "file is not UTF-8 text (UTF-16, UTF-32 or invalid bytes)",
    "LD002": "invisible, bidirectional or control character",
    "LD003": "file larger than the configured size cap",
    "LD004": "file is empty",
    "LD005": "YAML syntax error",
    "LD006": "duplicate mapping key",
    "LD007": "anchor or alias (not allowed: they hide where values come from)",
    "LD008": "merge key '<<'",
    "LD009": "explicit YAML tag",
    "LD010": "mapping key that is not a string",
    "LD011": "more than one YAML document in a file",
    "LD012": "top level is not a mapping",
    "LD013": "nesting deeper than the limit",
    "LD014": "Markdown front matter missing, not on line 1, or not closed",
    "LD015": "tab character in YAML",
    "LD016": "symbolic link that leaves the repository",
    "LD017": "file cannot be read",
}


@dataclass(frozen=True)
class LoadProblem:
    rule: str
    message: str
    location: Location
    hint: str | None = None


class LoadFailed(Exception):
    def __init__(self, problems: list[LoadProblem]) -> None:
        super().__init__(problems[0].message)
        self.problems = problems


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, col


def decode(raw: bytes, path: str) -> str:
    """UTF-8 (a leading BOM is tolerated) or a located LD001 error."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) >= 2 and b"\x00" in raw[:4]):
        raise LoadFailed(
            [
                LoadProblem(
                    "LD001",
                    "file looks like UTF-16 or UTF-32; governance documents must be UTF-8",
                    Location(path, 1, 1),
                    "re-save the file as UTF-8",
                )
            ]
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start]
        line = prefix.count(b"\n") + 1
        line_start = prefix.rfind(b"\n") + 1
        col = len(prefix[line_start:].decode("utf-8", errors="replace")) + 1
        raise LoadFailed(
            [
                LoadProblem(
                    "LD001",
                    f"byte {raw[exc.start]:#04x} is not valid UTF-8",
                    Location(path, line, col),
                    "re-save the file as UTF-8",
                )
            ]
        ) from None


def check_characters(text: str, path: str, *, line_offset: int = 0) -> None:
    match = _FORBIDDEN.search(text)
    if match:
        line, col = _line_col(text, match.start())
        char = match.group()
        raise LoadFailed(
            [
                LoadProblem(
                    "LD002",
                    f"forbidden character U+{ord(char):04X} ({_char_name(char)})",
                    Location(path, line + line_offset, col),
                    "delete it; invisible characters can hide what a text really says",
                )
            ]
        )


def _char_name(char: str) -> str:
    import unicodedata

    return unicodedata.name(char, "control character").lower()


def resolve_plain(value: str) -> Any:
    """JSON-like typing of a plain (unquoted) scalar."""
    if value in ("", "~", "null", "Null", "NULL"):
        return None
    if value in ("true", "True", "TRUE"):
        return True
    if value in ("false", "False", "FALSE"):
        return False
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        number = float(value)
        if repr(number) == value:  # 1.5 is a number; 1.10 keeps its trailing zero
            return number
    return value


class _Builder:
    """Builds plain Python values from YAML events, recording positions."""

    def __init__(self, path: str, line_offset: int) -> None:
        self.path = path
        self.line_offset = line_offset
        self.problems: list[LoadProblem] = []
        self.positions: dict[Path, tuple[int, int]] = {}
        self.key_positions: dict[Path, tuple[int, int]] = {}

    def _pos(self, mark: Any) -> tuple[int, int]:
        return (mark.line + 1 + self.line_offset, mark.column + 1)

    def _problem(self, rule: str, message: str, mark: Any, hint: str | None = None) -> None:
        line, col = self._pos(mark)
        self.problems.append(LoadProblem(rule, message, Location(self.path, line, col), hint))

    def _fatal(self, rule: str, message: str, mark: Any, hint: str | None = None) -> LoadFailed:
        self._problem(rule, message, mark, hint)
        return LoadFailed(self.problems)

    def build(self, text: str, loader: type) -> Any:
        events = yaml.parse(text, Loader=loader)
        # Each frame: [container, path, pending_key]; pending_key is a sentinel when a
        # mapping is waiting for a key.
        root: Any = _MISSING
        stack: list[list[Any]] = []
        documents = 0
        try:
            event: Any
            for event in events:
                cls = type(event)
                if cls is yaml.DocumentStartEvent:
                    documents += 1
                    if documents > 1:
                        raise self._fatal(
                            "LD011",
                            "a second YAML document starts here; one file holds one document",
                            event.start_mark,
                            "split it into separate files",
                        )
                    continue
                if cls in (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent):
                    continue
                if cls is yaml.AliasEvent:
                    raise self._fatal(
                        "LD007",
                        f"alias '*{event.anchor}' is not allowed",
                        event.start_mark,
                        "write the value out in full",
                    )
                if cls in (yaml.MappingEndEvent, yaml.SequenceEndEvent):
                    stack.pop()
                    continue
                if event.anchor is not None:
                    raise self._fatal(
                        "LD007",
                        f"anchor '&{event.anchor}' is not allowed",
                        event.start_mark,
                        "write values out in full instead of anchoring them",
                    )
                frame = stack[-1] if stack else None
                if frame is not None and isinstance(frame[0], dict) and frame[2] is _MISSING:
                    self._key(event, frame)
                    continue
                value, container = self._value(event)
                if frame is None:
                    path: Path = ()
                    root = value
                elif isinstance(frame[0], list):
                    path = (*frame[1], len(frame[0]))
                    frame[0].append(value)
                else:
                    key = frame[2]
                    frame[2] = _MISSING
                    path = (*frame[1], key)
                    if key is not _SKIP:
                        frame[0][key] = value
                self.positions[path] = self._pos(event.start_mark)
                if container:
                    if len(stack) >= MAX_DEPTH:
                        raise self._fatal(
                            "LD013",
                            f"nesting deeper than {MAX_DEPTH} levels",
                            event.start_mark,
                        )
                    stack.append([value, path, _MISSING])
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "invalid YAML"
            context = f" ({exc.context})" if exc.context and exc.problem else ""
            if mark is None:
                line, col = 1 + self.line_offset, 1
            else:
                line, col = self._pos(mark)
            self.problems.append(
                LoadProblem("LD005", f"YAML syntax error: {problem}{context}", Location(self.path, line, col))
            )
            raise LoadFailed(self.problems) from None
        except yaml.YAMLError as exc:
            self.problems.append(
                LoadProblem("LD005", f"YAML error: {exc}", Location(self.path, 1 + self.line_offset, 1))
            )
            raise LoadFailed(self.problems) from None
        if self.problems:
            raise LoadFailed(self.problems)
        return None if root is _MISSING else root

    def _value(self, event: Any) -> tuple[Any, bool]:
        cls = type(event)
        if cls is yaml.ScalarEvent:
            return self._scalar(event), False
        if event.tag not in _ALLOWED_COLLECTION_TAGS:
            self._problem("LD009", f"tag {event.tag!r} is not allowed", event.start_mark, "remove the tag")
        if cls is yaml.MappingStartEvent:
            return {}, True
        return [], True

    def _scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag is not None and tag != "!":
            if tag == _STR_TAG:
                return event.value
            self._problem(
                "LD009",
                f"tag {tag!r} is not allowed",
                event.start_mark,
                "remove the tag; quote the value if it must stay text",
            )
            return event.value
        if not event.style and event.implicit[0]:
            return resolve_plain(event.value)
        return event.value

    def _key(self, event: Any, frame: list[Any]) -> None:
        if type(event) is not yaml.ScalarEvent:
            raise self._fatal("LD010", "a mapping key must be a plain string", event.start_mark)
        key = self._scalar(event)
        if not event.style and event.value == "<<":
            self._problem(
                "LD008", "merge key '<<' is not allowed", event.start_mark, "write the keys out in full"
            )
            frame[2] = _SKIP
            return
        if not isinstance(key, str):
            self._problem(
                "LD010",
                f"mapping key {event.value!r} is read as {type(key).__name__}, not text",
                event.start_mark,
                f"quote it: '{event.value}'",
            )
            frame[2] = _SKIP
            return
        path = (*frame[1], key)
        if key in frame[0] or path in self.key_positions:
            first = self.key_positions.get(path)
            where = f" (first on line {first[0]})" if first else ""
            self._problem("LD006", f"duplicate key {key!r}{where}", event.start_mark, "keep one of them")
            frame[2] = _SKIP
            return
        self.key_positions[path] = self._pos(event.start_mark)
        frame[2] = key


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


_MISSING: Any = _Sentinel("MISSING")
_SKIP: Any = _Sentinel("SKIP")


def parse_yaml(
    text: str, path: str, *, line_offset: int = 0, fast: bool = True
) -> tuple[Any, dict[Path, tuple[int, int]], dict[Path, tuple[int, int]]]:
    """Parse one YAML text strictly; returns (value, positions, key_positions)."""
    tab = text.find("\t")
    if tab >= 0:
        line, col = _line_col(text, tab)
        raise LoadFailed(
            [
                LoadProblem(
                    "LD015",
                    "tab character in YAML",
                    Location(path, line + line_offset, col),
                    "indent with spaces",
                )
            ]
        )
    builder = _Builder(path, line_offset)
    value = builder.build(text, _FastLoader if fast else yaml.SafeLoader)
    return value, builder.positions, builder.key_positions


def split_front_matter(text: str, path: str) -> tuple[str, int, int]:
    """Return (front matter, offset where the body starts, body's first line)."""
    first_line_end = text.find("\n")
    first = text if first_line_end < 0 else text[:first_line_end]
    if first.rstrip("\r ") != "---":
        raise LoadFailed(
            [
                LoadProblem(
                    "LD014",
                    "Markdown document has no front matter; line 1 must be '---'",
                    Location(path, 1, 1),
                    "start the file with '---', the document's YAML header, then '---'",
                )
            ]
        )
    match = _FRONT_MATTER_END.search(text, first_line_end + 1) if first_line_end >= 0 else None
    if match is None:
        raise LoadFailed(
            [
                LoadProblem(
                    "LD014",
                    "front matter opened on line 1 is never closed",
                    Location(path, 1, 1),
                    "add a line '---' after the header",
                )
            ]
        )
    front = text[first_line_end + 1 : match.start()]
    body_start = min(match.end() + 1, len(text))
    body_line = text.count("\n", 0, body_start) + 1
    return front, body_start, body_line


def load_text(text: str, path: str, *, fast: bool = True, digest: str | None = None) -> Document:
    """Load a decoded document; ``path`` decides YAML or Markdown by its suffix."""
    is_markdown = path.endswith(".md")
    if not text.strip():
        raise LoadFailed([LoadProblem("LD004", "file is empty", Location(path, 1, 1))])
    if is_markdown:
        front, body_offset, body_line = split_front_matter(text, path)
        body = text[body_offset:]
        check_characters(front, path, line_offset=1)
        match = _FORBIDDEN.search(text, body_offset)
        if match:
            line, col = _line_col(text, match.start())
            raise LoadFailed(
                [
                    LoadProblem(
                        "LD002",
                        f"forbidden character U+{ord(match.group()):04X} ({_char_name(match.group())})",
                        Location(path, line, col),
                        "delete it; invisible characters can hide what a text really says",
                    )
                ]
            )
        yaml_text, line_offset = front, 1
    else:
        check_characters(text, path)
        yaml_text, line_offset = text, 0
        body, body_line = None, 0
    value, positions, key_positions = parse_yaml(yaml_text, path, line_offset=line_offset, fast=fast)
    if not isinstance(value, dict):
        what = "nothing" if value is None else f"a {type(value).__name__}"
        raise LoadFailed(
            [
                LoadProblem(
                    "LD012" if value is not None or not is_markdown else "LD014",
                    f"the document must be a mapping of keys to values, found {what}",
                    Location(path, 1 + line_offset, 1),
                )
            ]
        )
    digest = digest or hashlib.sha256(text.encode("utf-8")).hexdigest()
    extra = {"ignores": inline_ignores(text)} if "clearance:" in text else {}
    return Document(path, value, positions, key_positions, body, body_line, digest, extra)


_IGNORE = re.compile(r"#\s*clearance:\s*ignore\[([A-Za-z]+[0-9]+)\][ \t]*(.*?)[ \t]*$", re.MULTILINE)


def inline_ignores(text: str) -> dict[int, list[tuple[str, str]]]:
    """``# clearance: ignore[RULE] reason`` comments by line number."""
    found: dict[int, list[tuple[str, str]]] = {}
    for match in _IGNORE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        found.setdefault(line, []).append((match.group(1), match.group(2)))
    return found


def read_bytes(filename: str | os.PathLike[str], path: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The file's bytes, or LD003 (over the cap) / LD017 (unreadable)."""
    try:
        size = os.stat(filename).st_size
        if size > max_bytes:
            raise LoadFailed(
                [
                    LoadProblem(
                        "LD003",
                        f"file is {size} bytes; the cap is {max_bytes}",
                        Location(path, 1, 1),
                        "split it, or raise limits.max_file_bytes in clearance.yaml",
                    )
                ]
            )
        with open(filename, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise LoadFailed(
            [LoadProblem("LD017", f"cannot read file: {exc.strerror or exc}", Location(path, 1, 1))]
        ) from None
    if len(raw) > max_bytes:  # grew between stat and read
        raise LoadFailed(
            [LoadProblem("LD003", f"file exceeds the cap of {max_bytes} bytes", Location(path, 1, 1))]
        )
    return raw


def load_bytes(raw: bytes, path: str, *, fast: bool = True) -> Document:
    """Decode and load; the document's digest is the SHA-256 of ``raw``."""
    return load_text(decode(raw, path), path, fast=fast, digest=hashlib.sha256(raw).hexdigest())


def load_file(
    filename: str | os.PathLike[str],
    path: str,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    fast: bool = True,
) -> Document:
    """Read, decode and load one file. ``path`` is how findings name it."""
    return load_bytes(read_bytes(filename, path, max_bytes=max_bytes), path, fast=fast)
