"""Shared test helpers: copy fixture repositories, run the CLI in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from clearance.cli import main

DATA = Path(__file__).parent / "data"
EXERCISE_KEYS = DATA / "exercise-keys"


@pytest.fixture(scope="session", autouse=True)
def _exercise_keys_private() -> None:
    """git checks files out readable by everyone, and ssh-keygen refuses to sign with a
    private key others can read: make the exercise keys private, as a person's own key
    is (they are public on purpose; see their README)."""
    for key in EXERCISE_KEYS.iterdir():
        if key.is_file() and not key.name.endswith((".pub", ".md")):
            key.chmod(0o600)


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run_cli(*args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return Run(code, out.getvalue(), err.getvalue())


@pytest.fixture
def cli() -> Callable[..., Run]:
    return run_cli


@pytest.fixture
def minimal_repo(tmp_path: Path) -> Path:
    """A private copy of tests/data/minimal: a small, fully clean governance repo."""
    target = tmp_path / "repo"
    shutil.copytree(DATA / "minimal", target)
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


@contextlib.contextmanager
def acting_as(root: Path, who: str | None) -> Iterator[None]:
    """Run as ``who`` would on their own machine: git's user.email is their first email
    in ``root``'s people register (through GIT_CONFIG_* variables, so no repository or
    user configuration is touched). Decisions take their person from it (issue 15)."""
    if who is None:
        yield
        return
    email = f"{who}@unknown.example"
    person = root / "policies" / "people" / f"{who}.yaml"
    if person.is_file():
        found = re.search(r"^\s*-\s*['\"]?([^'\"\s]+@[^'\"\s]+)", person.read_text("utf-8"), re.MULTILINE)
        found = found or re.search(r"emails:\s*\[\s*['\"]?([^'\",\s\]]+)", person.read_text("utf-8"))
        if found:
            email = found.group(1)
    saved = {k: os.environ.get(k) for k in ("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0")}
    os.environ.update({"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email", "GIT_CONFIG_VALUE_0": email})
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def fixture_git(root: Path, *args: str, who: str, when: str, name: str | None = None) -> str:
    """Run git in the fixture repository ``root`` as person ``who`` (``who@fixture.example``,
    the email the fixture people registers give them) at ``when``, with no user or system
    configuration leaking in. Fails the test on a non-zero exit."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
        "GIT_AUTHOR_NAME": name or who,
        "GIT_AUTHOR_EMAIL": f"{who}@fixture.example",
        "GIT_COMMITTER_NAME": name or who,
        "GIT_COMMITTER_EMAIL": f"{who}@fixture.example",
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(root.parent),
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout
