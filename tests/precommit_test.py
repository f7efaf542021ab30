"""This repository passes its own pre-commit configuration, offline, and the hooks it
offers to others are valid.

The run happens in a copy of the working tree: every tracked file plus every
untracked file git does not ignore (what 'git add --all' would commit), committed
into a fresh repository. A clean CI clone gives the same files as HEAD; on a
developer's machine the copy also covers work not committed yet, which is what the
next commit will be checked against. The developer's own repository, index and
hooks are never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Example",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Example",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_AUTHOR_DATE": "2026-03-02T09:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-03-02T09:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def env(tmp: Path) -> dict[str, str]:
    result = {**os.environ, **GIT_ENV}
    result["PATH"] = f"{BIN}{os.pathsep}{result.get('PATH', '')}"
    result["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")
    return result


def run(cwd: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), cwd=cwd, env=env(tmp), capture_output=True, text=True, check=False,
                          timeout=900)


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("precommit")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode("utf-8").split("\0")
    target = tmp / "clearance"
    for rel in filter(None, listed):
        source = ROOT / rel
        if not source.is_file():  # deleted in the working tree but still in the index
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / rel, follow_symlinks=False)
    for args in (("init", "-q", "-b", "main"), ("add", "--all"), ("commit", "-q", "-m", "Snapshot")):
        done = run(target, tmp, "git", *args)
        assert done.returncode == 0, done.stderr
    return target


def test_manifest_and_config_are_valid() -> None:
    pre_commit = str(BIN / "pre-commit")
    for command, path in (("validate-manifest", ".pre-commit-hooks.yaml"), ("validate-config", ".pre-commit-config.yaml")):
        done = subprocess.run([pre_commit, command, path], cwd=ROOT, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_offered_hooks() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert set(hooks) == {"clearance-check", "clearance-scan", "clearance-codeowners", "clearance-append-only"}
    for hook in hooks.values():
        assert hook["name"] and hook["description"] and hook["language"] == "python"
        assert hook["entry"].startswith("clearance ")
    assert re.match(hooks["clearance-check"]["files"], "policies/roles/scribe.yaml")
    assert not re.match(hooks["clearance-check"]["files"], "tools/clearance/cli.py")
    assert re.match(hooks["clearance-scan"]["files"], "protocols/templates/holding-x.md")
    # a log entry is judged by check (DSC001-DSC007, which know a draft's declared data classes),
    # not by a plain scan that fails every observation of a data incident
    entry = "incidents/2026-03-14-x/log/20260314T091500Z-a1b2.yaml"
    assert not re.match(hooks["clearance-scan"]["files"], entry)
    assert re.match(hooks["clearance-check"]["files"], entry)
    assert not re.match(hooks["clearance-scan"]["files"], "protocols/chains/policy-change.yaml")
    # a commit that only deletes a log entry passes no file names: the guard must always run
    assert hooks["clearance-append-only"]["always_run"] is True
    assert hooks["clearance-append-only"]["pass_filenames"] is False


def test_own_config_uses_only_local_hooks() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text("utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    ids = {hook["id"] for hook in config["repos"][0]["hooks"]}
    published = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    assert published <= ids
    assert {"ruff", "trailing-whitespace", "end-of-file", "large-files", "yaml-text"} <= ids


@pytest.mark.slow
def test_repository_passes_its_own_hooks(copy: Path, tmp_path: Path) -> None:
    done = run(copy, tmp_path, str(BIN / "pre-commit"), "run", "--all-files", "--show-diff-on-failure")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text("utf-8"))
    for hook in config["repos"][0]["hooks"]:
        assert re.search(rf"^{re.escape(hook['name'])}\.+(Passed|\(no files to check\)Skipped)$", done.stdout, re.M), hook["name"]
    assert "clearance check" in done.stdout and not re.search(r"^clearance check\.+\(no files", done.stdout, re.M)


@pytest.mark.slow
def test_hooks_catch_problems_in_a_commit(copy: Path, tmp_path: Path) -> None:
    pre_commit = str(BIN / "pre-commit")
    entry = next(iter(sorted(copy.glob("incidents/*/log/*.yaml"))), None)
    assert entry is not None, "the reference repository has an incident with a log"
    rel = entry.relative_to(copy).as_posix()
    entry.write_text(entry.read_text("utf-8") + "# edited after landing\n", "utf-8")
    note = copy / "docs" / "scratch.md"
    note.write_text("trailing   \nno final newline", "utf-8")
    assert run(copy, tmp_path, "git", "add", rel, "docs/scratch.md").returncode == 0
    try:
        done = run(copy, tmp_path, pre_commit, "run", "clearance-append-only")
        assert done.returncode == 1
        assert f"{rel}: modified a committed incident log entry" in done.stdout
        done = run(copy, tmp_path, pre_commit, "run", "--files", "docs/scratch.md")
        assert done.returncode == 1
        assert note.read_text("utf-8") == "trailing\nno final newline\n"
    finally:
        run(copy, tmp_path, "git", "reset", "-q", "--hard", "HEAD")
        note.unlink(missing_ok=True)


def test_readme_snippet_is_a_valid_config(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    snippet = re.search(r"copy this into\n.*?```yaml\n(.*?)```", readme, re.S)
    assert snippet, "README's pre-commit snippet"
    path = tmp_path / "config.yaml"
    path.write_text(snippet.group(1), "utf-8")
    done = subprocess.run([str(BIN / "pre-commit"), "validate-config", str(path)], capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stdout
    assert "clearance-append-only" in snippet.group(1)
