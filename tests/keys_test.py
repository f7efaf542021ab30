"""``clearance keys``: a person registers their own SSH key (never someone else's), and
the list prints fingerprints or allowed-signers lines. Real ssh-keygen keys."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import Run, acting_as, run_cli

DATA = Path(__file__).parent / "data" / "incidents" / "repo"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(DATA, target)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=target, check=True)
    return target


def key(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(path)], check=True)
    return path


def keys(root: Path, who: str | None, *args: str) -> Run:
    with acting_as(root, who):
        return run_cli("--root", str(root), "keys", *args)


def test_add_puts_the_key_in_your_own_entry_and_list_shows_it(root: Path, tmp_path: Path) -> None:
    first, second = key(tmp_path, "one"), key(tmp_path, "two")
    added = keys(root, "lena", "add", "--key", str(first.with_suffix(".pub")))
    assert added.code == 0 and "policies/people/lena.yaml" in added.out, added.err
    again = keys(root, "lena", "add", "--key", str(first))  # the private key: same public half
    assert again.code == 0 and "already holds" in again.out
    assert keys(root, "lena", "add", "--key", str(second.with_suffix(".pub"))).code == 0
    data = yaml.safe_load((root / "policies" / "people" / "lena.yaml").read_text("utf-8"))
    publics = [" ".join(p.with_suffix(".pub").read_text().split()[:2]) for p in (first, second)]
    assert data["signing_keys"] == publics
    report = run_cli("--root", str(root), "check", "--format", "json").json()
    assert [f for f in report["findings"] if f["path"] == "policies/people/lena.yaml"] == []  # still valid
    listed = keys(root, None, "list", "lena", "--format", "allowed-signers")
    assert listed.out.splitlines() == [f'lena namespaces="clearance-decision" {p}' for p in publics]


def test_a_key_is_never_added_for_someone_you_are_not(root: Path, tmp_path: Path) -> None:
    one = key(tmp_path, "one")
    result = keys(root, "stranger", "add", "--key", str(one))
    assert result.code == 2 and "no one's in the people register" in result.err
    assert "signing_keys" not in "".join(p.read_text() for p in (root / "policies" / "people").glob("*.yaml"))


def test_add_refuses_what_is_not_an_ssh_key(root: Path, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pub"
    bogus.write_text("not a key\n")
    result = keys(root, "lena", "add", "--key", str(bogus))
    assert result.code == 2 and "not an SSH public key" in result.err and "Traceback" not in result.err
    missing = keys(root, "lena", "add", "--key", str(tmp_path / "nope"))
    assert missing.code == 2 and "no such file" in missing.err
