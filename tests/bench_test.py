"""The benchmark corpus is a valid governance repository and deterministic, so the
benchmarks measure real work on clean input."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from pathlib import Path

from clearance import schemas
from conftest import run_cli

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus.py"


def generate(out: Path, *extra: str) -> None:
    subprocess.run(
        [sys.executable, str(CORPUS), str(out), "--documents", "300", "--entries", "600", *extra],
        check=True,
        capture_output=True,
    )


def test_corpus_is_clean_and_has_every_kind(tmp_path: Path) -> None:
    generate(tmp_path / "c", "--commits", "5")
    result = run_cli("--root", str(tmp_path / "c"), "check", "--format", "json", "--jobs", "2")
    data = result.json()
    assert result.code == 0 and data["findings"] == [], data["findings"][:5]
    assert data["summary"]["documents"] == 906  # 900 + one assessment per incident (6)
    kinds = {
        line.split(": ", 1)[1]
        for p in (tmp_path / "c").rglob("*.*")
        if p.suffix in (".yaml", ".md")
        for line in p.read_text().splitlines()
        if line.startswith("kind: ")
    }
    # every kind the corpus generates; not yet: reviews, and reading records
    # (acknowledgements, which their person must commit)
    assert kinds == set(schemas.KINDS) - {"review", "acknowledgement"}
    log = subprocess.run(
        ["git", "-C", str(tmp_path / "c"), "rev-list", "--count", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    )
    # the documents, one commit per responder (12) with the entries they wrote, 4 revisions
    assert log.stdout.strip() == "17"
    for entry in sorted((tmp_path / "c").glob("incidents/*/log/*.yaml"))[:40]:
        by = entry.read_text().split("\nby: ", 1)[1].split("\n", 1)[0]
        author = subprocess.run(
            ["git", "-C", str(tmp_path / "c"), "log", "--format=%ae", "--", str(entry)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert author.stdout.split() == [f"{by}@example.com"]  # committed by the person it names
    status = subprocess.run(
        ["git", "-C", str(tmp_path / "c"), "status", "--porcelain"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert status.stdout == ""  # the last commit's tree is exactly what is on disk


def test_corpus_is_deterministic(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert a == b and len(a) > 900
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", [str(p) for p in a], shallow=False)
    assert mismatch == [] and errors == []


def test_measure_counts_the_whole_process_tree(tmp_path: Path) -> None:
    """bench/measure.py: a parent that forks a child holding 200 MB is measured with
    the child's memory (ru_maxrss of the parent alone would say a few MB), and CPU time
    includes the child's."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("measure", CORPUS.parent / "measure.py")
    assert spec is not None and spec.loader is not None
    measure = importlib.util.module_from_spec(spec)
    sys.modules["measure"] = measure  # dataclasses look their module up there
    spec.loader.exec_module(measure)
    script = tmp_path / "tree.py"
    script.write_text(
        "import os, time\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    block = bytearray(200 * 1024 * 1024)\n"
        "    for i in range(0, len(block), 4096): block[i] = 1\n"
        "    end = time.process_time() + 0.3\n"
        "    while time.process_time() < end: pass\n"
        "    time.sleep(0.3)\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
    )
    sample = measure.run([sys.executable, str(script)], tmp_path)
    assert sample.returncode == 0
    assert sample.peak_mb > 150
    assert sample.cpu >= 0.25
