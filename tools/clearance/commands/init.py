"""Start a new governance repository in DIR (created when missing; refused when not
empty): clearance.yaml, the handbook's mkdocs.yml and first pages, this project's
reference policies and protocols with your organisation's name and domain, placeholder
people for you to fill in (each flagged by 'clearance check' as PPL004 until then),
CODEOWNERS, a copy of the schemas with editor settings for completion, a pre-commit
configuration and a CI workflow; then 'git init' and a first commit. Exit 0 when
done, 2 when DIR is not empty or an option is invalid."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
from pathlib import Path

from clearance import audit, engine, history, starter
from clearance import config as config_mod
from clearance.errors import FatalError, UsageError
from clearance.model import Severity
from clearance.progress import progress


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("directory", metavar="DIR", help="where to create the repository (new or empty)")
    parser.add_argument(
        "--org", default=starter.DEFAULT_ORG, metavar="NAME",
        help=f"organisation name used in documents and the handbook (default: {starter.DEFAULT_ORG!r})",
    )
    parser.add_argument(
        "--domain", default=starter.DEFAULT_DOMAIN,
        help=f"e-mail and web domain for placeholders and links (default: {starter.DEFAULT_DOMAIN})",
    )
    parser.add_argument(
        "--ci", choices=starter.CI_CHOICES, default="github",
        help="CI workflow to write: GitHub Actions, GitLab CI, or none (default: github)",
    )


def refuse_non_empty(target: Path) -> None:
    if target.exists() and not target.is_dir():
        raise UsageError(f"{str(target)!r} exists and is not a directory")
    if target.is_dir():
        entries = sorted(os.listdir(target))
        if entries:
            shown = ", ".join(repr(e) for e in entries[:3]) + (", ..." if len(entries) > 3 else "")
            raise UsageError(
                f"{str(target)!r} is not empty ({len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: "
                f"{shown}); clearance init never overwrites files: choose a new or empty directory"
            )


def run(args: argparse.Namespace) -> int:
    target = Path(args.directory)
    refuse_non_empty(target)
    if shutil.which("git") is None:
        raise FatalError("git is not installed or not on PATH; clearance init makes a git repository")
    options = starter.Options(
        starter.check_organisation(args.org), starter.check_domain(args.domain), args.ci
    )
    with progress("clearance init", 5) as tick:
        files = starter.render(options)
        tick()
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        for rel, text in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8", newline="\n")
        tick()
        result = engine.check(config_mod.load(root))
        errors = [f for f in result.findings if f.severity >= Severity.ERROR]
        if errors:
            listed = "\n".join(f"  {f.location}: {f.rule} {f.message}" for f in errors[:10])
            raise FatalError(
                f"the starter repository in {str(target)!r} does not pass 'clearance check' "
                f"(a bug in Clearance; please report it):\n{listed}"
            )
        tick()
        owners = audit.codeowners(result.repository, syntax=options.syntax)
        codeowners_path = starter.CODEOWNERS_PATHS[options.syntax]
        (root / codeowners_path).parent.mkdir(parents=True, exist_ok=True)
        (root / codeowners_path).write_text(owners.text, "utf-8", newline="\n")
        tick()
        sha, identity_note = _first_commit(root, options)
        tick()
    placeholders = sum(1 for f in result.findings if f.rule == "PPL004")
    print(
        f"Created a governance repository for {options.organisation!r} in {str(target)!r}: "
        f"{len(files) + 1} files, first commit {sha[:10]}."
    )
    if identity_note:
        print(identity_note)
    cd = [] if root == Path.cwd().resolve() else [f"cd {shlex.quote(str(target))}"]
    first = [c for c, _ in starter.first_steps()]
    keys = f"{starter.KEYS_STEP[0]}   # {starter.KEYS_STEP[1]}"
    steps = "".join(f"\n  {command}" for command in [*cd, *first[:-1], keys, *first[-1:]])
    print(
        f"{placeholders} placeholder people to fill in under policies/people/ "
        f"('clearance check' lists them as PPL004).\nNext:{steps}"
    )
    sys.stdout.flush()
    return 0


def _first_commit(root: Path, options: starter.Options) -> tuple[str, str | None]:
    """``git init`` on branch main, stage everything, commit. Uses the user's git
    identity; without one, commits as 'clearance init' and says so."""
    history.run_git(root, "init", "--quiet")
    history.run_git(root, "symbolic-ref", "HEAD", "refs/heads/main")
    history.run_git(root, "add", "--all")
    identity: list[str] = []
    note = None
    if history.run_git(root, "var", "GIT_COMMITTER_IDENT", check=False).returncode != 0:
        identity = ["-c", "user.name=clearance init", "-c", f"user.email=clearance-init@{options.domain}"]
        note = (
            "git has no user.name/user.email here, so the first commit is by 'clearance init'; "
            "set them with 'git config --global user.name ...' before your next commit."
        )
    message = (
        f"Start the governance repository from Clearance {starter.__version__}\n\n"
        f"Created by 'clearance init' for {options.organisation} ({options.domain}) from Clearance's\n"
        "reference policies and protocols. People are placeholders until filled in:\n"
        "'clearance check' lists each one (PPL004).\n"
    )
    return _commit(root, identity, message), note


def _commit(root: Path, identity: list[str], message: str) -> str:
    message_file = root / ".git" / "CLEARANCE_INIT_MSG"
    message_file.write_text(message, "utf-8")
    try:
        proc = history.run_git(root, *identity, "commit", "--quiet", "--file", str(message_file), check=False)
    finally:
        message_file.unlink(missing_ok=True)
    if proc.returncode != 0:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FatalError(
            f"files written and staged in {str(root)!r}, but the first commit failed "
            f"({reason[-1] if reason else proc.returncode}); commit them yourself with 'git commit'"
        )
    return history.run_git(root, "rev-parse", "HEAD").stdout.decode().strip()
