"""The speed wing against the pipeline, over random edit sequences: after every edit
a cached run (one process, or workers) reports exactly what the plain pipeline
reports from the files. Rules declare no dependencies any more; the index view
records them, and these sequences are how a missed one would show."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from clearance import config, engine
from clearance.incremental import run as incremental

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus.py"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "repo"
    subprocess.run(
        [sys.executable, str(CORPUS), str(out), "--documents", "120", "--entries", "360", "--seed", "11"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


@pytest.fixture
def corpus(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(template, target)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target


def _files(root: Path) -> list[Path]:
    return sorted(
        p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts and p.suffix in (".yaml", ".md")
    )


class Editor:
    """Edits of the kinds people make, chosen at random: references swapped, status
    changed, files deleted, restored, copied, broken, repaired and moved."""

    def __init__(self, root: Path, rng: random.Random) -> None:
        self.root, self.rng = root, rng
        self.gone: dict[Path, str] = {}
        self.original: dict[Path, str] = {}

    def pick(self, suffix: str = "") -> Path:
        """A file to edit: registers and protocols (what other documents look up) far
        more often than log entries, which are most of the files."""
        files = [p for p in _files(self.root) if p.name.endswith(suffix)]
        looked_up = [p for p in files if p.parent.name != "log"]
        return self.rng.choice(looked_up if looked_up and self.rng.random() < 0.8 else files)

    def swap_reference(self) -> str:
        target = self.pick(".yaml")
        text = target.read_text("utf-8")
        for prefix in self.rng.sample(["person-", "role-", "channel-", "template-", "policy-"], 5):
            if prefix in text:
                old = text[text.index(prefix) :].split()[0].rstrip(",]'\"")
                new = f"{prefix}{self.rng.randrange(0, 40)}"
                target.write_text(text.replace(old, new, 1), "utf-8")
                return f"{target.relative_to(self.root)}: {old} -> {new}"
        return "nothing to swap"

    def toggle_status(self) -> str:
        target = self.pick()
        text = target.read_text("utf-8")
        for old, new in (("status: active", "status: retired"), ("status: retired", "status: active")):
            if old in text:
                target.write_text(text.replace(old, new, 1), "utf-8")
                return f"{target.relative_to(self.root)}: {new}"
        return "no status"

    def delete(self) -> str:
        target = self.pick()
        self.gone[target] = target.read_text("utf-8")
        target.unlink()
        return f"delete {target.relative_to(self.root)}"

    def restore(self) -> str:
        if not self.gone:
            return self.delete()
        target = self.rng.choice(sorted(self.gone))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.gone.pop(target), "utf-8")
        return f"restore {target.relative_to(self.root)}"

    def copy(self) -> str:
        source = self.pick()
        copy = source.with_name(f"copy-{self.rng.randrange(10**6)}{source.suffix}")
        shutil.copy(source, copy)
        return f"copy {source.relative_to(self.root)}"

    def break_or_repair(self) -> str:
        if self.original and self.rng.random() < 0.5:
            target = self.rng.choice(sorted(self.original))
            if target.exists():
                target.write_text(self.original.pop(target), "utf-8")
                return f"repair {target.relative_to(self.root)}"
        target = self.pick(".yaml")
        text = target.read_text("utf-8")
        self.original.setdefault(target, text)
        target.write_text(text + "\nbroken: [\n", "utf-8")
        return f"break {target.relative_to(self.root)}"

    def move_entry(self) -> str:
        entries = [p for p in _files(self.root) if p.parent.name == "log"]
        folders = sorted({p.parent for p in entries})
        if not entries or len(folders) < 2:
            return "no entry to move"
        entry = self.rng.choice(entries)
        folder = self.rng.choice([f for f in folders if f != entry.parent])
        entry.rename(folder / entry.name)
        return f"move {entry.relative_to(self.root)} to {folder.relative_to(self.root)}"

    def retime_entry(self) -> str:
        entries = [p for p in _files(self.root) if p.parent.name == "log"]
        entry = self.rng.choice(entries)
        text = entry.read_text("utf-8")
        hour = self.rng.randrange(0, 24)
        lines = [
            f"at: 2026-01-0{self.rng.randrange(1, 4)}T{hour:02d}:00:00+00:00" if ln.startswith("at:") else ln
            for ln in text.splitlines()
        ]
        entry.write_text("\n".join(lines) + "\n", "utf-8")
        return f"retime {entry.relative_to(self.root)}"

    def step(self) -> str:
        edits: list[Callable[[], str]] = [
            self.swap_reference,
            self.swap_reference,
            self.toggle_status,
            self.delete,
            self.restore,
            self.copy,
            self.break_or_repair,
            self.move_entry,
            self.retime_entry,
        ]
        return self.rng.choice(edits)()


def _same(cached: engine.Result, fresh: engine.Result, what: str) -> None:
    assert cached.findings == fresh.findings, what
    assert cached.suppressed == fresh.suppressed, what
    assert [d.path for d in cached.repository.documents] == [d.path for d in fresh.repository.documents], what


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_edit_sequences_give_the_pipelines_findings(corpus: Path, seed: int) -> None:
    rng = random.Random(seed)
    editor = Editor(corpus, rng)
    settings = config.load(corpus)
    _same(incremental.check(settings, cache=True), engine.check(settings), "first run")
    done = []
    for _ in range(14):
        done.append(editor.step())
        settings = config.load(corpus)
        fresh = engine.check(settings)
        _same(incremental.check(settings, cache=True), fresh, " / ".join(done))
    again = incremental.check(config.load(corpus), cache=True)
    assert again.evaluated == 0  # nothing changed since the last run: every unit reused
    _same(again, engine.check(config.load(corpus)), "unchanged")


def test_workers_give_the_pipelines_findings_after_random_edits(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(incremental, "PARALLEL_THRESHOLD", 10)
    rng = random.Random(7)
    editor = Editor(corpus, rng)
    done = []
    for _ in range(4):
        done.append(editor.step())
        settings = config.load(corpus)
        fresh = engine.check(settings)
        _same(incremental.check(settings, jobs=2, cache=True), fresh, " / ".join(done))
        _same(incremental.check(settings, jobs=2), fresh, " / ".join(done))
