"""The project is called Clearance. The old name, which belongs to another project on
PyPI, may appear in one place only: the CHANGELOG line that records the rename.

One kind of file is exempt, because changing it would break a stronger promise: an
incident log entry that has landed is append-only (``clearance verify`` reports any
rewrite as VER001), so an entry written before the rename keeps its bytes. The test
proves each exempt entry is exactly what first landed, so the exemption cannot hide a
new use of the old name."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANDED_ENTRY = re.compile(r"^incidents/[^/]+/log/[^/]+\.ya?ml$")
# Spelled in pieces so this file does not itself carry the name it looks for.
OLD = re.compile(("char" + "ter").encode(), re.IGNORECASE)


def _hits(name: str, data: bytes) -> list[str]:
    return [
        f"{name}:{number}: {line.decode('utf-8', 'replace').strip()}"
        for number, line in enumerate(data.splitlines(), 1)
        if OLD.search(line)
    ]


def test_the_old_name_is_gone_from_the_tree_but_one_changelog_line() -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    hits: list[str] = []
    for raw in filter(None, listed):
        name = raw.decode()
        path = ROOT / name
        if not path.exists():  # deleted in the work tree, not yet in the index
            continue
        if OLD.search(raw):
            hits.append(f"{name}: the path itself")
        if path.is_file() and not path.is_symlink():
            hits.extend(_hits(name, path.read_bytes()))
    changelog = [hit for hit in hits if hit.startswith("CHANGELOG.md:")]
    assert len(changelog) == 1, changelog
    assert "now Clearance" in changelog[0]
    others = [hit for hit in hits if not hit.startswith("CHANGELOG.md:")]
    frozen = {hit.split(":", 1)[0] for hit in others if LANDED_ENTRY.match(hit.split(":", 1)[0])}
    for name in frozen:
        assert _as_first_landed(name) == (ROOT / name).read_bytes(), f"{name} was changed after it landed"
    assert [hit for hit in others if hit.split(":", 1)[0] not in frozen] == []


def _as_first_landed(name: str) -> bytes:
    """The bytes of ``name`` in the commit that added it."""
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", name],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert added, f"{name} has never been committed: a new entry may not use the old name"
    return subprocess.run(
        ["git", "show", f"{added[-1]}:{name}"], cwd=ROOT, capture_output=True, check=True
    ).stdout


@pytest.mark.slow
def test_the_old_name_is_gone_from_the_built_wheel(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("clearance-*.whl"))
    hits: list[str] = []
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert "clearance/cli.py" in names
        for name in names:
            if OLD.search(name.encode()):
                hits.append(f"{name}: the path itself")
            hits.extend(_hits(name, archive.read(name)))
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert hits == []
    assert "clearance = clearance.cli:main" in entry_points
    assert "clearance = clearance.site.plugin:ClearancePlugin" in entry_points
