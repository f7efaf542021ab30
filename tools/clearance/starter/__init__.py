"""The starter repository ``clearance init`` writes: this repository's reference
policies and protocols (read at run time from the copy packaged in the wheel, or from
the checkout when Clearance runs from source), with the organisation's name and domain
substituted, every example person replaced by a placeholder that rule PPL004 flags
until it is filled in, review dates set to the day of adoption and a schema modeline
on each YAML document; plus the files around them (clearance.yaml, mkdocs.yml, the
handbook's first pages, a copy of the schemas for editors, editor settings,
pre-commit configuration and a CI workflow) rendered from ``files/``.

Everything is rendered in memory first (:func:`render`), so nothing is written when
the options are bad.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from clearance import __version__, engine, schemas
from clearance.config import Config
from clearance.errors import FatalError, UsageError
from clearance.incidents import preclearance
from clearance.model import Document

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
REFERENCE_FOLDERS = ("policies", "protocols")
CI_CHOICES = ("github", "gitlab", "none")
CI_FILES = {"github": ".github/workflows/clearance.yml", "gitlab": ".gitlab-ci.yml"}
CI_TEMPLATES = {"github": "github-workflow.yml", "gitlab": "gitlab-ci.yml"}
CODEOWNERS_PATHS = {"github": ".github/CODEOWNERS", "gitlab": "CODEOWNERS"}
MODELINE = "# yaml-language-server: $schema="
DEFAULT_ORG = "Example Organisation"
DEFAULT_DOMAIN = "example.com"
# Where new documents of each kind go, beyond the folders the reference content uses.
_INCIDENT_GLOBS = {
    "incident": "incidents/*/incident.yaml",
    "log-entry": "incidents/*/log/*.yaml",
}
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{4,253}}$)(?:{_LABEL}\.)+[a-z][a-z0-9-]{{0,61}}[a-z0-9]$")
_TOKEN = re.compile(r"@@([A-Z_]+)@@")
# mkdocs-material prints an end-of-life banner on every mkdocs run unless this variable
# is set (to anything): new repositories set it wherever they run or document mkdocs,
# as Clearance's own Makefile does.
QUIET_THEME = "NO_MKDOCS_2_WARNING=1"


@dataclass(frozen=True)
class Options:
    organisation: str = DEFAULT_ORG
    domain: str = DEFAULT_DOMAIN
    ci: str = "github"
    today: dt.date | None = None

    @property
    def syntax(self) -> str:
        """CODEOWNERS flavour: GitLab's for GitLab CI, GitHub's otherwise."""
        return "gitlab" if self.ci == "gitlab" else "github"


@dataclass(frozen=True)
class Placeholder:
    id: str
    name: str
    role: str | None
    source: Document


def check_organisation(name: str) -> str:
    """The organisation name as given, if it is safe to put into YAML and Markdown
    text unquoted (it is substituted inside sentences of the reference content)."""
    cleaned = name.strip()
    problems = []
    if not cleaned or len(cleaned) > 100:
        problems.append("it must be 1 to 100 characters long")
    elif not cleaned[0].isalnum():
        problems.append(f"it must start with a letter or digit, not {cleaned[0]!r}")
    bad = sorted({c for c in cleaned if not c.isprintable() or c in '"\\<>`{}[]|'})
    if bad:
        problems.append(f"it must not contain {', '.join(repr(c) for c in bad)}")
    for sequence in (": ", " #"):
        if sequence in cleaned:
            problems.append(f"it must not contain {sequence!r}")
    if cleaned.endswith(":"):
        problems.append("it must not end with ':'")
    if problems:
        raise UsageError(f"--org {name!r}: {'; '.join(problems)}")
    return cleaned


def check_domain(domain: str) -> str:
    cleaned = domain.strip().lower().rstrip(".")
    if not _DOMAIN.match(cleaned):
        raise UsageError(
            f"--domain {domain!r} is not a domain name (expected something like 'acme.example')"
        )
    return cleaned


def reference_root() -> Path:
    """Where the reference policies and protocols are: packaged into the wheel under
    clearance/starter/reference, or the repository when running from a checkout."""
    packaged = HERE / "reference"
    if (packaged / "policies").is_dir():
        return packaged
    checkout = HERE.parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "policies").is_dir():
        return checkout
    raise FatalError(
        f"this installation of Clearance has no starter content (looked in {packaged} and "
        f"{checkout}); reinstall the clearance package"
    )


def render(options: Options) -> dict[str, str]:
    """Every file of the starter repository, by POSIX path relative to its root.
    CODEOWNERS is not here: it is generated from the written documents."""
    today = options.today or dt.date.today()
    root = reference_root()
    config = Config(root=root, organisation=options.organisation, domain=options.domain,
                    content=REFERENCE_FOLDERS)
    repo = engine.load_repository(config)
    documents = {doc.path: doc for doc in repo.documents}
    people = {doc.id: doc for doc in repo.index.of_kind("person") if doc.id}
    placeholders = _placeholders(repo.index.of_kind("role"), people)
    replacements = _replacements(options, placeholders)

    files: dict[str, str] = {}
    for item in engine.discover(config):
        if not isinstance(item, tuple):
            continue  # a symbolic link leaving the reference tree: never copied
        filename, rel = item
        doc = documents.get(rel)
        if doc is not None and doc.kind == "person":
            continue
        text = filename.read_text("utf-8")
        if doc is not None:
            text = _reset_review(text, doc, today)
        if doc is not None and doc.kind == "template":
            text = preclearance.without_approvals(text)  # a new organisation clears its own
        text = _substitute(text, replacements)
        if doc is not None and doc.kind in schemas.KINDS and rel.endswith((".yaml", ".yml")):
            text = with_modeline(text, rel, doc.kind)
        files[rel] = text
    for placeholder in placeholders.values():
        path = f"policies/people/{placeholder.id}.yaml"
        files[path] = _person(placeholder, options)

    files.update(_schemas())
    files.update(_surroundings(options, _schema_globs(files, documents)))
    files["incidents/.gitkeep"] = ""
    return dict(sorted(files.items()))


def requirement(version: str = __version__) -> str:
    """The pip requirement a new repository installs Clearance with: this release or a
    later compatible one (before 1.0 the same minor release, from 1.0 the same major),
    so its documents keep validating against the schemas they were written for."""
    match = re.match(r"(\d+)\.(\d+)", version)
    if match is None:
        raise FatalError(f"Clearance's version {version!r} is not N.N... (a bug in Clearance)")
    major, minor = int(match[1]), int(match[2])
    upper = f"{major}.{minor + 1}" if major == 0 else str(major + 1)
    return f"clearance>={version},<{upper}"


def first_steps() -> list[tuple[str, str]]:
    """(command, what it does) for a new repository's first minutes, in order: the
    README shows them and ``clearance init`` prints them."""
    return [
        (f'python -m pip install "{requirement()}" pre-commit', "Clearance, and pre-commit for the hooks"),
        ("pre-commit install", "check every commit before it lands"),
        ("clearance check", "lists every placeholder person (PPL004) still to fill in"),
        (f"{QUIET_THEME} mkdocs serve", "the handbook on http://127.0.0.1:8000"),
    ]


# Printed among 'clearance init''s next steps: decisions must be signed (signing:
# {decisions: required}), so each person registers their key once, after their entry
# under policies/people/ holds their git user.email. Not in first_steps(): it needs
# that entry filled in first.
KEYS_STEP = (
    "clearance keys add --key ~/.ssh/id_ed25519.pub",
    "once your policies/people/ entry holds your git user.email; then commit that file",
)


def _first_steps_block() -> str:
    steps = first_steps()
    width = max(len(command) for command, _ in steps)
    return "\n".join(f"{command:<{width}}  # {comment}" for command, comment in steps)


def with_modeline(text: str, rel: str, kind: str) -> str:
    """``text`` with a yaml-language-server modeline naming its kind's schema by a
    path relative to the file, replacing any modeline already on the first line."""
    depth = len(PurePosixPath(rel).parts) - 1
    target = "/".join([".."] * depth + ["schemas", f"{kind}.schema.json"])
    lines = text.split("\n", 1)
    if lines[0].startswith(MODELINE):
        text = lines[1] if len(lines) > 1 else ""
    return f"{MODELINE}{target}\n{text}"


def _placeholders(roles: list[Document], people: dict[str, Document]) -> dict[str, Placeholder]:
    """One placeholder per example person, named after the first role they hold
    ('legal-counsel-2'), so whoever fills them in knows whom to look for."""
    chosen: dict[str, Placeholder] = {}
    counters: dict[str, int] = {}
    ordered = sorted(roles, key=lambda r: str(r.id))
    for field in ("members", "deputies"):
        for role in ordered:
            for pid in role.data.get(field) or ():
                if pid not in people or pid in chosen or not role.id:
                    continue
                counters[role.id] = counters.get(role.id, 0) + 1
                title = str(role.data.get("title") or role.id)
                chosen[pid] = Placeholder(
                    f"{role.id}-{counters[role.id]}", f"{title} {counters[role.id]}", role.id, people[pid]
                )
    spare = 0
    for pid in sorted(people):
        if pid not in chosen:
            spare += 1
            chosen[pid] = Placeholder(f"person-{spare}", f"Person {spare}", None, people[pid])
    return chosen


def _handle(options: Options, placeholder_id: str) -> str:
    return f"@{options.domain.split('.')[0]}-{placeholder_id}"


Replacement = tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]
# Legal-form words the reference writes after the organisation's name ("Example
# Organisation Ltd"); not repeated when the real name already ends with one.
_LEGAL_FORM = r"(?:Inc\.|Ltd\.?|LLC|plc|GmbH|AG|S\.A\.|SA|B\.V\.|BV|Pty Ltd)"


def _replacements(options: Options, placeholders: dict[str, Placeholder]) -> list[Replacement]:
    """Ordered (pattern, replacement) pairs: people's emails, handles, names and ids
    first, then the organisation and domain."""
    pairs: list[Replacement] = []
    for pid, placeholder in placeholders.items():
        data = placeholder.source.data
        email = f"{placeholder.id}@{options.domain}"
        for old in data.get("emails") or ():
            if isinstance(old, str):
                pairs.append((re.compile(re.escape(old), re.IGNORECASE), email))
        handle = data.get("code_host")
        if isinstance(handle, str):
            bare = handle.lstrip("@")
            pairs.append((re.compile(rf"@?{re.escape(bare)}(?![\w-])"), _handle(options, placeholder.id)))
        for name in {data.get("name"), data.get("title")}:
            if isinstance(name, str) and name.strip():
                pairs.append((re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])"), placeholder.name))
        pairs.append((re.compile(rf"(?<![\w-]){re.escape(pid)}(?![\w-])"), placeholder.id))
    if options.organisation != DEFAULT_ORG:
        name = options.organisation
        has_form = re.search(rf"\s{_LEGAL_FORM}$", name) is not None

        def organisation(match: re.Match[str]) -> str:
            return name if has_form or not match.group("form") else f"{name}{match.group('form')}"

        pattern = rf"(?:{re.escape(DEFAULT_ORG)}|\bExample Org\b)(?P<form> {_LEGAL_FORM}(?![\w.]))?"
        pairs.append((re.compile(pattern), organisation))
    if options.domain != DEFAULT_DOMAIN:
        escaped = options.domain.replace(".", "\\.")
        pairs.append((re.compile(re.escape(DEFAULT_DOMAIN.replace(".", "\\."))), escaped))
        pairs.append((re.compile(rf"(?<![\w-]){re.escape(DEFAULT_DOMAIN)}(?![\w-])"), options.domain))
    return pairs


def _substitute(text: str, replacements: list[Replacement]) -> str:
    for pattern, new in replacements:
        text = pattern.sub(new if callable(new) else (lambda _match, new=new: new), text)
    return text


def _reset_review(text: str, doc: Document, today: dt.date) -> str:
    """Set ``review.last`` to the day of adoption, in place, keeping the quoting."""
    review = doc.data.get("review")
    last = review.get("last") if isinstance(review, dict) else None
    if not isinstance(last, str):
        return text
    where = doc.where(("review", "last"))
    lines = text.split("\n")
    index = where.line - 1
    if not 0 <= index < len(lines):
        return text
    line = lines[index]
    start = where.col - 1
    if line[start:start + 1] in ("'", '"'):
        start += 1
    if line[start:start + len(last)] != last:
        return text
    lines[index] = line[:start] + today.isoformat() + line[start + len(last):]
    return "\n".join(lines)


def _yaml_string(value: str) -> str:
    """A YAML scalar for any string (JSON strings are YAML double-quoted scalars)."""
    return json.dumps(value, ensure_ascii=False)


def _person(placeholder: Placeholder, options: Options) -> str:
    data = placeholder.source.data
    role = f"the {placeholder.role} role" if placeholder.role else "a role"
    lines = [
        f"{MODELINE}../../schemas/person.schema.json",
        "kind: person",
        f"id: {placeholder.id}",
        f"title: {_yaml_string(placeholder.name + ' (placeholder)')}",
        f"description: {_yaml_string(f'Placeholder for a member of {role}: put the real person here.')}",
        f"owner: {data.get('owner')}",
        "status: active",
        f"classification: {data.get('classification', 'internal')}",
        f"name: {_yaml_string(placeholder.name)}",
        "emails:",
        f"  - {placeholder.id}@{options.domain}",
        f"code_host: {_yaml_string(_handle(options, placeholder.id))}",
    ]
    timezone = data.get("timezone")
    if isinstance(timezone, str):
        lines.append(f"timezone: {_yaml_string(timezone)}")
    lines.append("placeholder: true")
    return "\n".join(lines) + "\n"


def _schemas() -> dict[str, str]:
    """The schemas for editors, without ``$id``: relative ``$ref``s then resolve
    against the file itself, which every editor's schema loader supports, instead of
    an https address that does not serve them."""
    files = {}
    for source in sorted(schemas.schema_dir().glob("*.schema.json")):
        data: dict[str, Any] = json.loads(source.read_text("utf-8"))
        data.pop("$id", None)
        files[f"schemas/{source.name}"] = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    return files


def _schema_globs(files: dict[str, str], documents: dict[str, Document]) -> dict[str, list[str]]:
    """Schema file -> glob patterns of the folders each kind lives in."""
    globs: dict[str, set[str]] = {}
    for rel in files:
        doc = documents.get(rel)
        kind = doc.kind if doc is not None else None
        if rel.startswith("policies/people/"):
            kind = "person"
        if kind in schemas.KINDS and rel.endswith((".yaml", ".yml")):
            parent = PurePosixPath(rel).parent.as_posix()
            globs.setdefault(f"schemas/{kind}.schema.json", set()).add(f"{parent}/*.yaml")
    for kind, pattern in _INCIDENT_GLOBS.items():
        globs.setdefault(f"schemas/{kind}.schema.json", set()).add(pattern)
    globs.setdefault("schemas/config.schema.json", set()).add("clearance.yaml")
    return {schema: sorted(patterns) for schema, patterns in sorted(globs.items())}


def _surroundings(options: Options, globs: dict[str, list[str]]) -> dict[str, str]:
    tokens = {
        "ORG_TEXT": options.organisation,
        "ORG_YAML": _yaml_string(options.organisation),
        "DOMAIN": options.domain,
        "SITE_NAME_YAML": _yaml_string(f"{options.organisation} handbook"),
        "SITE_DESCRIPTION_YAML": _yaml_string(
            f"Crisis-communication policies, protocols and approvals of {options.organisation}"
        ),
        "REQUIREMENT": requirement(),
        "QUIET_THEME": QUIET_THEME,
        "FIRST_STEPS": _first_steps_block(),
        "CODEOWNERS_PATH": CODEOWNERS_PATHS[options.syntax],
        "CODEOWNERS_ARGS": " --syntax gitlab" if options.syntax == "gitlab" else "",
    }
    files = {
        "clearance.yaml": template("clearance.yaml", tokens),
        "mkdocs.yml": template("mkdocs.yml", tokens),
        ".gitignore": template("gitignore", tokens),
        "README.md": template("README.md", tokens),
        "docs/index.md": template("docs/index.md", tokens),
        "docs/proposing-a-change.md": template("docs/proposing-a-change.md", tokens),
        ".pre-commit-config.yaml": template("pre-commit-config.yaml", tokens),
        ".vscode/settings.json": json.dumps(
            {"yaml.schemas": {f"./{schema}": patterns for schema, patterns in globs.items()}},
            indent=2,
        )
        + "\n",
        # VS Code offers to install the YAML extension that reads the settings above
        ".vscode/extensions.json": json.dumps({"recommendations": ["redhat.vscode-yaml"]}, indent=2) + "\n",
    }
    if options.ci in CI_FILES:
        files[CI_FILES[options.ci]] = template(CI_TEMPLATES[options.ci], tokens)
    return files


def template(name: str, tokens: dict[str, str]) -> str:
    """A packaged template with its @@TOKEN@@s replaced; an unknown token is a bug."""
    text = (FILES / name).read_text("utf-8")

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in tokens:
            raise FatalError(f"starter template {name}: unknown token {key!r} (a bug in Clearance)")
        return tokens[key]

    return _TOKEN.sub(replace, text)
