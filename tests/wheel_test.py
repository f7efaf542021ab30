"""The built wheel carries the schemas: installed into a fresh virtual environment,
with no checkout around, it validates documents."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from clearance import __version__

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_and_validates_without_a_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "clearance/schemas/role.schema.json" in names
    assert "clearance/schemas/common.schema.json" in names
    assert not any(name.startswith(("tests/", "policies/")) for name in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True
    )

    version = subprocess.run(
        [str(env_dir / "bin" / "clearance"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"clearance {__version__}\n"
    as_module = subprocess.run(
        [str(python), "-m", "clearance", "--version"], capture_output=True, text=True, check=True
    )
    assert as_module.stdout == version.stdout

    repo = tmp_path / "governance"
    (repo / "policies" / "roles").mkdir(parents=True)
    (repo / "policies" / "roles" / "scribe.yaml").write_text(
        "kind: role\nid: scribe\ntitle: Scribe\nowner: scribe\nstatus: active\n"
        "classification: internal\nresponsibilities: [Keeps the log.]\nmembers: [ada]\n"
        "review: {every: P1Y, last: 2026-02-30}\n"
    )
    done = subprocess.run(
        [str(env_dir / "bin" / "clearance"), "check"], cwd=repo, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1, done.stderr
    assert 'policies/roles/scribe.yaml:9:28: SCH001 error: "2026-02-30" is not a valid date' in done.stdout
    assert "REF001" in done.stdout  # ada is not a known person: cross-references work too
    located = subprocess.run(
        [str(python), "-c", "import clearance.schemas as s; print(s.schema_dir())"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "site-packages" in located.stdout
