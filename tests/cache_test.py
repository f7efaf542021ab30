"""The document cache is a shortcut only: stale, corrupt or foreign caches are never
trusted, and a cached run reports exactly what a fresh one does."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from charter import cache, config, engine
from conftest import DATA, edit

BROKEN = DATA / "broken"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(BROKEN, target)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target


def run(repo: Path, use_cache: bool = True) -> engine.Result:
    return engine.check(config.load(repo), cache=use_cache)


def age(path: Path, seconds: int = 10) -> None:
    """Move a file's mtime into the past so the racy-time rule does not apply."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def age_all(repo: Path) -> None:
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            age(path)


def test_cache_lives_in_git_dir_and_reports_the_same(repo: Path) -> None:
    age_all(repo)
    fresh = run(repo, use_cache=False)
    first = run(repo)
    assert (repo / ".git" / "charter" / "documents.pickle").is_file()
    store = cache.DocumentCache.open(repo, config.load(repo).max_file_bytes)
    assert len(store.entries) == len(first.repository.documents)
    second = run(repo)
    assert first.findings == second.findings == fresh.findings
    warm = cache.DocumentCache.open(repo, config.load(repo).max_file_bytes)
    files = [(p, r) for p, r in (x for x in engine.discover(config.load(repo)) if isinstance(x, tuple))]
    engine.load_documents(files, config.load(repo), cache=warm)
    loadable = len(first.repository.documents)
    assert warm.hits == loadable


def test_a_changed_file_is_reloaded_even_inside_the_racy_window(repo: Path) -> None:
    age_all(repo)
    run(repo)
    target = repo / "policies/roles/crisis-lead.yaml"
    edit(target, "classification: internal", "classification: secret")
    # same size class and possibly the same mtime tick: content hashing decides
    result = run(repo)
    assert any(
        f.rule == "SCH001" and f.location.path == "policies/roles/crisis-lead.yaml" for f in result.findings
    )
    edit(target, "classification: secret", "classification: internal")
    assert run(repo).findings == run(repo, use_cache=False).findings


def test_same_size_and_mtime_inside_the_racy_window_is_rehashed(repo: Path) -> None:
    target = repo / "policies/roles/crisis-lead.yaml"
    age_all(repo)
    run(repo)
    stat = target.stat()
    text = target.read_text().replace("status: active", "status: retire")
    assert len(text.encode()) == stat.st_size
    target.write_text(text)
    # forge the old mtime: only the racy rule or the hash can notice now
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    store = cache.DocumentCache.open(repo, config.load(repo).max_file_bytes)
    mtime = store.entries["policies/roles/crisis-lead.yaml"][1]
    store.written_ns = mtime - 10  # pretend the cache was written before the edit
    assert store.lookup(target, "policies/roles/crisis-lead.yaml") is None


def test_corrupt_or_foreign_cache_is_ignored(repo: Path) -> None:
    age_all(repo)
    expected = run(repo, use_cache=False).findings
    path = cache.location(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a pickle at all")
    assert run(repo).findings == expected
    with open(path, "wb") as handle:
        pickle.dump({"key": "another charter", "written_ns": 0, "entries": {"x": 1}}, handle)
    assert run(repo).findings == expected
    store = cache.DocumentCache.open(repo, config.load(repo).max_file_bytes)
    assert "x" not in store.entries


def test_cli_uses_the_cache_only_in_git_work_trees(
    repo: Path,
    tmp_path: Path,
    cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = cli("--root", str(repo), "check", "--format", "json")
    assert result.code == 1 and cache.location(repo).is_file()
    cache.location(repo).unlink()
    cli("--root", str(repo), "check", "--no-cache")
    assert not cache.location(repo).exists()
    plain = tmp_path / "plain"
    shutil.copytree(BROKEN, plain)
    assert cli("--root", str(plain), "check").code == 1
    assert not cache.location(plain).exists() and not (tmp_path / "xdg").exists()


def test_derived_data_is_kept_beside_the_cache_and_reused(repo: Path) -> None:
    from charter import schemas

    run(repo)
    folder = cache.location(repo).parent
    key = cache.DocumentCache.open(repo, config.load(repo).max_file_bytes).key
    paths = cache.load_memo(repo, "reference-paths", key)
    assert paths["protocol"] == schemas.reference_paths("protocol")
    verdicts = cache.load_memo(repo, "regex-verdicts", "10000:1.0")
    assert verdicts == {r"CUST-\d{6}": False}
    assert cache.load_memo(repo, "reference-paths", "another key") == {}
    (folder / "regex-verdicts.pickle").write_bytes(b"garbage")
    assert cache.load_memo(repo, "regex-verdicts", "10000:1.0") == {}
    assert run(repo).findings == run(repo, use_cache=False).findings
