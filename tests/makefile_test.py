"""The Makefile's set-up, run for real with make on a copy of it: 'make handbook'
installs only what the handbook needs, 'make test' adds the test tools, and a browser
that cannot be installed is one line locally and a failure under CI=true."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make") or "make"  # the README's first requirement, with Python and git
TEST_TOOLS = ("playwright", "mypy", "ruff", "check-jsonschema", "pytest")


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and pyproject.toml, with no virtual environment yet."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


def make(checkout: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("CI", "MAKEFLAGS", "MAKELEVEL", "VENV")}
    return subprocess.run(
        [MAKE, "--no-print-directory", *args], cwd=checkout, env={**environ, **(env or {})},
        capture_output=True, text=True, check=False, timeout=60,
    )


def installs(dry_run: str) -> list[str]:
    return [line for line in dry_run.splitlines() if " pip install " in line and "--upgrade pip" not in line]


def test_handbook_installs_only_what_the_handbook_needs(checkout: Path) -> None:
    runtime = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    assert not [d for d in runtime if d.split(">")[0].split("<")[0].split("=")[0].lower() in TEST_TOOLS]
    done = make(checkout, "-n", "handbook")
    assert done.returncode == 0, done.stderr
    assert installs(done.stdout) == [".venv/bin/python -m pip install --progress-bar on -e ."]
    # progress: a line per phase, and pip's own lines (not --quiet) while it installs
    assert 'echo "==> Installing Clearance and what the handbook needs into .venv"' in done.stdout


def test_test_adds_the_extras_after_handbook(checkout: Path) -> None:
    (checkout / ".venv" / "bin").mkdir(parents=True)
    (checkout / ".venv" / "bin" / "python").touch()
    (checkout / ".venv" / ".clearance-runtime").touch()  # as 'make handbook' leaves it
    handbook = make(checkout, "-n", "handbook")
    assert installs(handbook.stdout) == [], handbook.stdout
    test = make(checkout, "-n", "test")
    assert installs(test.stdout) == [".venv/bin/python -m pip install --progress-bar on -e '.[test,bench]'"]
    assert "python3 -m venv" not in test.stdout
    assert test.stdout.rstrip().splitlines()[-1] == ".venv/bin/python -m pytest"


def test_test_fast_leaves_out_slow_and_browser_tests(checkout: Path) -> None:
    done = make(checkout, "-n", "test-fast")
    assert done.stdout.rstrip().splitlines()[-1] == '.venv/bin/python -m pytest -m "not slow and not browser"'
    assert "apt-get" not in done.stdout
    readme = (ROOT / "README.md").read_text("utf-8").split("\n## ", 2)[1]
    assert readme.startswith("Two commands") and "make test-fast" in readme


def _no_apt(tmp_path: Path) -> dict[str, str]:
    """A PATH with what the recipe uses but neither apt-get nor chromium."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("id",):
        found = shutil.which(tool)
        assert found
        (bin_dir / tool).symlink_to(found)
    return {"PATH": str(bin_dir), "CLEARANCE_CHROMIUM": str(tmp_path / "no-chromium")}


def test_browser_without_apt_says_what_to_install_in_one_line(checkout: Path, tmp_path: Path) -> None:
    done = make(checkout, "browser", env=_no_apt(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert re.fullmatch(r"Browser tests will skip: install Chromium \(Debian: sudo apt-get install chromium\)"
                        r" or set CLEARANCE_CHROMIUM to its path\.\n", done.stdout)


def test_browser_without_apt_fails_under_ci(checkout: Path, tmp_path: Path) -> None:
    done = make(checkout, "browser", env={**_no_apt(tmp_path), "CI": "true"})
    assert done.returncode != 0
    assert done.stdout == ""
    assert done.stderr.splitlines()[0] == (
        f"make browser: '{tmp_path / 'no-chromium'}' not found and apt-get cannot install it; "
        "CI runs the browser tests, so this fails"
    )


def test_browser_found_is_silent(checkout: Path, tmp_path: Path) -> None:
    done = make(checkout, "browser", env={**_no_apt(tmp_path), "CLEARANCE_CHROMIUM": shutil.which("id") or "id",
                                          "CI": "true"})
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
