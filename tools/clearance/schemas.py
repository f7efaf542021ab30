"""Bundled JSON Schemas: the registry, one compiled validator per kind, errors mapped
back to lines, and the reference annotations that the index reads.

A field that names another document carries ``"x-clearance-ref": "<kind>"`` in its
schema. :func:`reference_paths` turns those annotations into path patterns once per
kind, so finding every reference is generic and needs no per-kind code.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import Any

from clearance import suggestions
from clearance.errors import FatalError
from clearance.model import Document, Finding, Location, Path, Severity

REF_KEYWORD = "x-clearance-ref"
BASE_URI = "https://schemas.clearance.example/v1/"
# Kinds whose documents are validated; "common" only holds definitions and "config"
# validates clearance.yaml.
KINDS = (
    "role",
    "person",
    "data-class",
    "regulation",
    "policy",
    "approval-chain",
    "channel",
    "template",
    "protocol",
    "incident",
    "log-entry",
    "review",
    "acknowledgement",
    "stakeholder",
)
WILDCARD = "*"


def schema_dir() -> FsPath:
    """The packaged copy inside a wheel, else the repository's ``schemas/``."""
    here = FsPath(__file__).resolve().parent
    packaged = here / "schemas"
    if packaged.is_dir():
        return packaged
    checkout = here.parent.parent / "schemas"
    if checkout.is_dir():
        return checkout
    raise FatalError(f"cannot find Clearance's schemas (looked in {packaged} and {checkout})")


@functools.cache
def _raw_schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for file in sorted(schema_dir().glob("*.schema.json")):
        try:
            out[file.name.removesuffix(".schema.json")] = json.loads(file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise FatalError(f"{file}: bundled schema cannot be read: {exc}") from None
    return out


@functools.cache
def registry() -> Any:
    from referencing import Registry, Resource

    resources = [(schema["$id"], Resource.from_contents(schema)) for schema in _raw_schemas().values()]
    return Registry().with_resources(resources).crawl()


def schema_for(name: str) -> dict[str, Any]:
    try:
        return _raw_schemas()[name]
    except KeyError:
        raise FatalError(f"no bundled schema named {name!r}") from None


@functools.cache
def validator(name: str) -> Any:
    """A compiled validator for one kind, built once per process."""
    from jsonschema import Draft202012Validator

    schema = schema_for(name)
    return Draft202012Validator(
        schema, registry=registry(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@functools.cache
def fast_validator(name: str) -> Any | None:
    """jsonschema-rs for the same schema (~50x faster), or None when it is not
    installed or cannot compile the schema. It only answers "valid or not": every
    message still comes from jsonschema, so findings are identical either way."""
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - optional accelerator
        return None
    try:
        resources = [(schema["$id"], schema) for schema in _raw_schemas().values()]
        return jsonschema_rs.Draft202012Validator(
            schema_for(name), validate_formats=True, registry=jsonschema_rs.Registry(resources)
        )
    except Exception:  # any failure just means no fast path
        return None


def _lookup(base: str, ref: str) -> tuple[str, dict[str, Any]]:
    resolved = registry().resolver(base_uri=base).lookup(ref)
    target_base = ref.split("#", 1)[0]
    uri = base if not target_base else _join(base, target_base)
    return uri, resolved.contents


def _join(base: str, relative: str) -> str:
    from urllib.parse import urljoin

    return urljoin(base, relative)


def _subschemas(base: str, schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The schema itself and everything it pulls in by $ref/allOf/anyOf/oneOf/if-then-else."""
    stack = [(base, schema)]
    seen: set[int] = set()
    while stack:
        uri, node = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        yield uri, node
        if "$ref" in node:
            stack.append(_lookup(uri, node["$ref"]))
        for key in ("allOf", "anyOf", "oneOf"):
            stack.extend((uri, sub) for sub in node.get(key, ()))
        for key in ("then", "else"):
            if key in node:
                stack.append((uri, node[key]))


def known_properties(base: str, schema: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for _, node in _subschemas(base, schema):
        names.update(node.get("properties", {}))
    return names


_PRELOADED: dict[str, tuple[tuple[Path, str], ...]] = {}


def preload_reference_paths(table: dict[str, tuple[tuple[Path, str], ...]]) -> None:
    """Seed :func:`reference_paths` with results computed by an earlier run for the
    same schemas (the document cache keeps them), saving the schema walk."""
    _PRELOADED.update(table)


def all_reference_paths() -> dict[str, tuple[tuple[Path, str], ...]]:
    return {kind: reference_paths(kind) for kind in KINDS}


@functools.cache
def reference_paths(kind: str) -> tuple[tuple[Path, str], ...]:
    """Every (path pattern, target kind) where a document of ``kind`` may name another
    document. ``*`` in a pattern stands for any list index."""
    if kind in _PRELOADED:
        return _PRELOADED[kind]
    found: dict[Path, str] = {}
    root = schema_for(kind)

    def walk(uri: str, schema: dict[str, Any], path: Path, depth: int) -> None:
        if depth > 12:
            return
        for sub_uri, node in _subschemas(uri, schema):
            target = node.get(REF_KEYWORD)
            if target is not None:
                previous = found.setdefault(path, target)
                if previous != target:
                    raise FatalError(
                        f"schema {kind}: {'.'.join(map(str, path))} refers to both "
                        f"{previous!r} and {target!r}"
                    )
            for name, prop in node.get("properties", {}).items():
                walk(sub_uri, prop, (*path, name), depth + 1)
            items = node.get("items")
            if isinstance(items, dict):
                walk(sub_uri, items, (*path, WILDCARD), depth + 1)

    walk(root["$id"], root, (), 0)
    return tuple(sorted(found.items(), key=lambda item: tuple(map(str, item[0]))))


def iter_pattern(data: Any, pattern: Path, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Values in ``data`` at ``pattern`` with their concrete paths."""
    if not pattern:
        yield prefix, data
        return
    head, rest = pattern[0], pattern[1:]
    if head == WILDCARD:
        if isinstance(data, list):
            for index, item in enumerate(data):
                yield from iter_pattern(item, rest, (*prefix, index))
    elif isinstance(data, dict) and head in data:
        yield from iter_pattern(data[head], rest, (*prefix, head))


@dataclass(frozen=True)
class SchemaError:
    message: str
    path: Path
    key: bool
    hint: str | None


def _describe(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(word: Any, options: Any) -> str | None:
    return suggestions.did_you_mean(word, options, cutoff=0.7)


def _explain(name: str, error: Any) -> Iterator[SchemaError]:
    path = tuple(error.absolute_path)
    validator_name = error.validator
    instance = error.instance
    if validator_name in ("additionalProperties", "unevaluatedProperties") and isinstance(instance, dict):
        base = schema_for(name)["$id"]
        known = known_properties(base, error.schema)
        # A property counts as unevaluated when the subschema declaring it failed for
        # another reason; that reason is reported on its own, so only truly unknown
        # names are reported here.
        extras = [key for key in instance if key not in known]
        for key in extras:
            yield SchemaError(f"unknown field {key!r}", (*path, key), True, _suggest(key, known))
        return
    if validator_name == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield SchemaError(f"missing required field {missing!r}", path, True, None)
        return
    if validator_name == "enum":
        options = ", ".join(map(str, error.validator_value))
        hint = _suggest(instance, error.validator_value) or f"use one of: {options}"
        yield SchemaError(f"{_describe(instance)} is not one of: {options}", path, False, hint)
        return
    if validator_name == "const":
        yield SchemaError(
            f"{_describe(instance)} must be {_describe(error.validator_value)}", path, False, None
        )
        return
    if validator_name == "format":
        yield SchemaError(
            f"{_describe(instance)} is not a valid {error.validator_value}",
            path,
            False,
            _FORMAT_HINTS.get(error.validator_value),
        )
        return
    if validator_name == "pattern":
        description = error.schema.get("description")
        yield SchemaError(f"{_describe(instance)} does not have the expected form", path, False, description)
        return
    if validator_name == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        yield SchemaError(f"{_describe(instance)} should be of type {expected}", path, False, None)
        return
    if (
        validator_name == "not"
        and isinstance(error.validator_value, dict)
        and "required" in error.validator_value
    ):
        for key in error.validator_value["required"]:
            yield SchemaError(
                f"field {key!r} is not allowed here", (*path, key), True, error.schema.get("description")
            )
        return
    if validator_name == "uniqueItems":
        yield SchemaError("list has duplicate items", path, False, "remove the repeated entries")
        return
    message = error.message
    if len(message) > 200:
        message = message[:197] + "..."
    yield SchemaError(message, path, False, None)


_FORMAT_HINTS = {
    "date": "write a real calendar date as YYYY-MM-DD",
    "date-time": "write an RFC 3339 timestamp with an offset, e.g. 2026-03-14T09:05:00Z",
    "email": "write an address like name@example.com",
    "uri": "write an absolute URL, e.g. https://...",
}


def validate(doc: Document, name: str | None = None) -> list[Finding]:
    """Schema findings (SCH001) for one document, each at its value's line."""
    kind = name or doc.kind
    assert kind is not None
    fast = fast_validator(kind)
    if fast is not None and fast.is_valid(doc.data):
        return []
    check = validator(kind)
    findings = []
    for error in check.iter_errors(doc.data):
        for item in _explain(kind, error):
            findings.append(
                Finding(
                    "SCH001",
                    Severity.ERROR,
                    item.message,
                    doc.where(item.path, key=item.key),
                    item.hint,
                )
            )
    findings.sort(key=Finding.sort_key)
    return findings


def kind_finding(doc: Document) -> Finding | None:
    """SCH002 when a document has no kind, or one Clearance does not know."""
    kind = doc.data.get("kind")
    if kind is None:
        return Finding(
            "SCH002",
            Severity.ERROR,
            "document has no 'kind'",
            Location(doc.path, doc.where(()).line, 1),
            f"add 'kind:' with one of: {', '.join(KINDS)}",
        )
    if not isinstance(kind, str) or kind not in KINDS:
        return Finding(
            "SCH002",
            Severity.ERROR,
            f"unknown kind {_describe(kind)}",
            doc.where(("kind",)),
            _suggest(kind, KINDS) or f"use one of: {', '.join(KINDS)}",
        )
    return None
