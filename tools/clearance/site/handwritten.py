"""Hand-written pages (the files of ``docs_dir``) are governed documents too.

Each Markdown page may declare ``classification`` in its front matter; without one
it has the default of ``clearance.yaml`` (``handbook: {classification: ...}``, itself
``internal`` when unset, so a page nobody classified never reaches a public site).
Other files of ``docs_dir`` (images, attachments) have the default level. A file
above the audience is left out of the build: no page, no navigation entry, no search
entry, no copy; links to it read "restricted".

A symbolic link anywhere in ``docs_dir``, or a file that resolves outside it, fails
the build: MkDocs would otherwise copy whatever it points at into the site.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files

from clearance import loading
from clearance.errors import FatalError
from clearance.site.audience import LEVELS, rank

CONFIG_KEY = "handbook"
DEFAULT_LEVEL = "internal"


@dataclass(frozen=True)
class Written:
    src_uri: str  # docs-relative
    path: str  # root-relative (what git and findings call it)
    level: str
    is_page: bool


def default_level(root: Path) -> str:
    """``handbook.classification`` from clearance.yaml (validated by the schema when
    the configuration was loaded), else internal."""
    path = root / "clearance.yaml"
    if not path.is_file():
        return DEFAULT_LEVEL
    try:
        doc = loading.load_file(path, "clearance.yaml")
    except (loading.LoadFailed, FatalError):
        return DEFAULT_LEVEL  # the configuration loader has already reported it
    section = doc.data.get(CONFIG_KEY)
    level = section.get("classification") if isinstance(section, dict) else None
    return level if level in LEVELS else DEFAULT_LEVEL


def _refuse_links(docs: Path, shown: str) -> None:
    """Fail on any symbolic link under ``docs`` (files and folders alike)."""
    for folder, dirs, names in os.walk(docs, followlinks=False):
        for name in (*dirs, *names):
            full = Path(folder) / name
            if full.is_symlink():
                rel = full.relative_to(docs).as_posix()
                raise PluginError(
                    f"clearance: {shown}/{rel}:1:1: is a symbolic link (to {os.readlink(full)!r}); "
                    f"hand-written pages must be regular files inside {shown!r}, because MkDocs would "
                    "publish whatever the link points at. Replace the link by the file itself."
                )


def scan(files: Files, docs: Path, root: Path, default: str) -> list[Written]:
    """The hand-written files with their classification. Raises PluginError, naming
    the file, for a symbolic link, a file outside ``docs``, or front matter that does
    not load or names no known level."""
    try:
        shown = docs.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = str(docs)
    if docs.is_symlink():
        raise PluginError(f"clearance: {shown}:1:1: docs_dir is a symbolic link; point docs_dir at a folder")
    docs = docs.resolve()
    _refuse_links(docs, shown)
    out: list[Written] = []
    home = os.path.abspath(docs)
    for file in files:
        if file.generated_by is not None or file.abs_src_path is None:
            continue
        if file.src_dir is None or os.path.abspath(file.src_dir) != home:
            continue  # the theme's own assets
        source = Path(file.abs_src_path)
        rel_shown = f"{shown}/{file.src_uri}"
        try:
            source.resolve().relative_to(docs)
        except ValueError:
            raise PluginError(
                f"clearance: {rel_shown}:1:1: resolves outside {shown!r} ({source.resolve()}); "
                "only files inside the docs folder are published"
            ) from None
        is_page = file.is_documentation_page()  # .md, .markdown, .mdown, .mkdn, .mkd
        level = _level_of(source, rel_shown, default) if is_page else default
        out.append(Written(file.src_uri, rel_shown, level, is_page))
    return out


def _level_of(source: Path, shown: str, default: str) -> str:
    try:
        raw = loading.read_bytes(source, shown)
        text = loading.decode(raw, shown)
    except loading.LoadFailed as exc:
        raise PluginError(f"clearance: {_problem(exc)}") from None
    first = text.split("\n", 1)[0].rstrip("\r ")
    if first != "---":
        return default
    try:
        front, _, _ = loading.split_front_matter(text, shown)
        loading.check_characters(front, shown, line_offset=1)
        data, positions, _ = loading.parse_yaml(front, shown, line_offset=1)
    except loading.LoadFailed as exc:
        raise PluginError(f"clearance: {_problem(exc)}") from None
    if not isinstance(data, dict):
        if data is None:
            return default
        raise PluginError(f"clearance: {shown}:2:1: the front matter must be a mapping of keys to values")
    value = data.get("classification")
    if value is None:
        return default
    if value not in LEVELS:
        line, col = positions.get(("classification",), (2, 1))
        raise PluginError(
            f"clearance: {shown}:{line}:{col}: classification {value!r} is not one of {', '.join(LEVELS)}; "
            "a page whose level cannot be read is never published"
        )
    return str(value)


def _problem(exc: loading.LoadFailed) -> str:
    problem = exc.problems[0]
    hint = f" ({problem.hint})" if problem.hint else ""
    return f"{problem.location}: {problem.rule} {problem.message}{hint}"


def visible(written: Written, audience: str) -> bool:
    return rank(written.level) <= rank(audience)
