"""The README works as written.

Every ```sh block of README.md runs, command by command and exactly as written, through
bash in a private copy of this repository: the tracked files of the checkout as they are
now, committed into a fresh git repository with fixed, signed history (see
:func:`reference_copy`). Shell variables the README sets (``I=...``, ``D=$(...)``) carry
from one command to the next; ids come from ``--detected`` or from what a command
printed, never from the test. Each command's exit code and key output are asserted, and
each block must hold exactly the commands listed here, so a new, changed or broken
README command fails a test.

What the test provides, and nothing else:

* ``PATH`` starts with this virtual environment's ``bin`` and the copy has a ``.venv``
  link to it (``make`` creates ``.venv`` in a checkout), so both ``clearance`` and
  ``.venv/bin/clearance`` are this checkout's;
* ``pbpaste`` (the clipboard) is a shell function printing :data:`STATEMENT`;
* ``HOME`` is a temporary folder holding ``~/trusted/allowed_signers`` for the keys that
  signed the copy's commits.

Not run here, on purpose: the ``make`` targets under "Two commands" (one serves forever,
the other runs this suite; a test checks that section shows no ``clearance`` command)
and ``pip install clearance`` (it downloads from PyPI; tests/init_test.py and
tests/wheel_test.py install the built wheel and run ``clearance init`` from it)."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

STATEMENT = (
    "We are looking into the post.\n"
    "The account in the screenshot, CUST-104233, is a test account.\n"
    "Card 4111 1111 1111 1111 was never stored.\n"
)
# (name, email) of the two people who commit in the copy, and their commit dates.
INES = ("Ines Marlowe", "ines.marlowe@example.com")
KARIM = ("Karim Haddad", "karim.haddad@example.com")
IMPORTED = "2026-01-15T10:00:00+00:00"
AMENDED = "2026-03-05T10:00:00+00:00"
AMENDMENT = "\nAfter the Q1 tabletop: screenshots of internal tools count as internal data.\n"

NOT_RUN = {"Starting your own governance repository": ("pip install clearance",)}
NOT_RUN_SECTION = "Two commands"  # make targets only: one serves forever, one runs this suite


# --- the README's shell blocks --------------------------------------------------------------


def blocks(language: str = "sh") -> dict[str, list[str]]:
    """The ```<language> blocks of the README by section (## heading), in order."""
    found: dict[str, list[str]] = {}
    section, fence, lines = "", None, []
    for line in README.read_text("utf-8").splitlines():
        if fence is None and line.startswith("## "):
            section = line[3:].strip()
        elif fence is None and line.startswith("```"):
            fence, lines = line[3:].strip(), []
        elif fence is not None and line.startswith("```"):
            if fence == language:
                found.setdefault(section, []).append("\n".join(lines))
            fence = None
        elif fence is not None:
            lines.append(line)
    return found


def commands(section: str) -> list[str]:
    """The commands of a section's shell blocks; a backslash continues a command."""
    out: list[str] = []
    for block in blocks()[section]:
        pending = ""
        for line in block.splitlines():
            if not line.strip() and not pending:
                continue
            pending += line + "\n"
            if not line.endswith("\\"):
                out.append(pending.rstrip("\n"))
                pending = ""
        assert not pending, f"{section}: a command ends in a backslash"
    return out


def output_block(section: str) -> str:
    """The first block without a language in a section: output the README shows."""
    return blocks("")[section][0]


# --- a private copy of the repository ----------------------------------------------------------


@dataclass
class Copy:
    root: Path
    home: Path
    commits: list[str]

    def env(self) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GIT_", "CLEARANCE_")) and k != "NO_MKDOCS_2_WARNING"  # the README sets it
        }
        return {
            **keep,
            "HOME": str(self.home),
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "GIT_CONFIG_NOSYSTEM": "1",
            "PYTHONIOENCODING": "utf-8",
            "STATEMENT": STATEMENT,
        }

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        done = subprocess.run(
            ["git", *args], cwd=self.root, env={**self.env(), **(env or {})},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
        return done.stdout

    def commit(self, message: str, who: tuple[str, str], when: str) -> str:
        key = self.home / "keys" / who[1]
        self.git("add", "-A")
        self.git(
            "-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "commit", "-q", "-S", "--no-verify",
            "-m", message,
            env={
                "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1], "GIT_AUTHOR_DATE": when,
                "GIT_COMMITTER_NAME": who[0], "GIT_COMMITTER_EMAIL": who[1], "GIT_COMMITTER_DATE": when,
            },
        )  # fmt: skip
        sha = self.git("rev-parse", "HEAD").strip()
        self.commits.append(sha)
        return sha


def reference_copy(tmp_path: Path) -> Copy:
    """This checkout's tracked files (as they are in the working tree) in a new git
    repository with signed commits: Ines imports everything on 2026-01-15, Karim
    amends policies/sensitive-data-disclosure.md on 2026-03-05, then each self-recorded
    reading record (an acknowledgement with ``method: signed-commit``, which ACK003
    requires to be committed by the person it names) is committed by that person at
    the time it records. Their SSH keys are in ``~/trusted/allowed_signers``; the copy's
    ``.venv`` links to this environment."""
    root, home = tmp_path / "reference", tmp_path / "home"
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode("utf-8")
    own_records: list[tuple[str, tuple[str, str], str]] = []  # (path, (name, email), when)
    for rel in filter(None, listed.split("\0")):
        source = ROOT / rel
        if not source.is_file():  # tracked but deleted in the working tree: left out
            continue
        reader = _self_recorded(rel, source)
        if reader is not None:
            own_records.append((rel, *reader))
            continue
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, root / rel)
    (root / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    (home / "keys").mkdir(parents=True)
    (home / "trusted").mkdir()
    signers = []
    for _name, email in dict.fromkeys([INES, KARIM, *(who for _rel, who, _when in own_records)]):
        key = home / "keys" / email
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", email, "-f", str(key)], check=True
        )
        signers.append(f"{email} {key.with_suffix(key.suffix + '.pub').read_text().strip()}")
    (home / "trusted" / "allowed_signers").write_text("\n".join(signers) + "\n")
    copy = Copy(root, home, [])
    copy.git("init", "-q", "-b", "main")
    copy.commit("Import the reference handbook\n\nReason: start of the audited period", INES, IMPORTED)
    policy = root / "policies" / "sensitive-data-disclosure.md"
    policy.write_text(policy.read_text("utf-8") + AMENDMENT, "utf-8")
    copy.commit("Disclosure: screenshots of internal tools\n\nReason: Q1 tabletop finding", KARIM, AMENDED)
    for rel, who, when in sorted(own_records, key=lambda record: record[2]):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, root / rel)
        copy.commit(f"{who[0]} records what they read\n\nReason: own reading record", who, when)
    return copy


def _self_recorded(rel: str, source: Path) -> tuple[tuple[str, str], str] | None:
    """For a reading record its person commits themselves: (their name and first email
    from the people register, the latest time it records); else None."""
    if not rel.endswith((".yaml", ".yml")) or "acknowledgement" not in source.read_text("utf-8"):
        return None
    data = yaml.safe_load(source.read_text("utf-8"))
    if not isinstance(data, dict) or (data.get("kind"), data.get("method")) != ("acknowledgement", "signed-commit"):
        return None
    people = {str(record["person"]) for record in data["records"]}
    assert len(people) == 1, f"{rel}: one person commits a self-recorded file, not {sorted(people)}"
    person = yaml.safe_load((ROOT / "policies" / "people" / f"{people.pop()}.yaml").read_text("utf-8"))
    return (str(person["name"]), str(person["emails"][0])), max(str(r["at"]) for r in data["records"])


@dataclass
class Result:
    command: str
    code: int
    out: str
    err: str


def run_section(copy: Copy, section: str, cwd: Path | None = None) -> list[Result]:
    """Run a section's commands, as written, one after another in one bash process."""
    steps = [c for c in commands(section) if not c.startswith(NOT_RUN.get(section, ()))]
    results = copy.root.parent / "results"
    shutil.rmtree(results, ignore_errors=True)
    results.mkdir()
    script = ['pbpaste() { printf %s "$STATEMENT"; }']
    for n, command in enumerate(steps):
        script.append(
            f"{{\n{command}\n}} >'{results}/{n}.out' 2>'{results}/{n}.err'\necho $? >'{results}/{n}.rc'"
        )
    subprocess.run(
        ["bash", "-c", "\n".join(script)], cwd=cwd or copy.root, env=copy.env(), check=True, timeout=600
    )
    return [
        Result(
            command,
            int((results / f"{n}.rc").read_text()),
            (results / f"{n}.out").read_text("utf-8"),
            (results / f"{n}.err").read_text("utf-8"),
        )
        for n, command in enumerate(steps)
    ]


def expect(results: list[Result], table: list[tuple[str, int, tuple[str, ...]]]) -> None:
    """Each command starts as the table says, exits as it says and prints its texts."""
    assert [r.command.split("\n")[0][: len(t[0])] for r, t in zip(results, table, strict=False)] == [
        t[0] for t in table
    ], "the README's commands changed: update this test"
    assert len(results) == len(table), [r.command for r in results]
    for result, (_start, code, texts) in zip(results, table, strict=True):
        assert result.code == code, f"{result.command}\nexit {result.code}\n{result.out}\n{result.err}"
        assert "Traceback" not in result.err, result.err
        for text in texts:
            assert text in result.out + result.err, f"{result.command}\nprints no {text!r}:\n{result.out}"


@pytest.fixture
def copy(tmp_path: Path) -> Copy:
    return reference_copy(tmp_path)


# --- the tests ---------------------------------------------------------------------------------


def test_every_shell_block_is_run_here() -> None:
    run_here = {
        "Running an incident",
        "Scanning a statement before it goes out",
        "Validating a repository",
        "Starting your own governance repository",
        "The handbook",
        "Auditing the history",
        "Evidence packs for auditors and regulators",
        "The first hour: signals in, pre-cleared statements out",
        "For counsel: privilege, legal hold and stakeholders",
    }
    assert set(blocks()) == run_here | {NOT_RUN_SECTION}
    for section, starts in NOT_RUN.items():
        assert [c for c in commands(section) if c.startswith(starts)] == list(starts), section
    assert commands(NOT_RUN_SECTION)
    assert not any("clearance" in c.split("#")[0] for c in commands(NOT_RUN_SECTION))


def test_incident_walkthrough(copy: Copy) -> None:
    incident = "2026-03-14-viral-post-about-a-leaked-export"  # from --detected and the title
    results = run_section(copy, "Running an incident")
    expect(
        results,
        [
            ("me() {", 0, ()),
            ("me tomas-ferreira", 0, ()),
            ("clearance incident new", 0, (f"opened incident {incident} ",)),
            ("I=", 0, ()),
            ("me felix-achterberg", 0, ()),
            ("OUT=$(clearance incident draft", 0, ("drafted 2", "sha256 ", "step 'legal'", "step 'privacy'")),
            ("D=", 0, ()),
            ("SHA=", 0, ()),
            ("me delphine-arceneaux", 0, ()),
            ("clearance incident show $I $D", 0, ("sha256 ", "may still approve: ")),
            ("clearance incident approve $I $D --step pr", 0, ("approved for step 'pr' as 'pr-lead'",)),
            ("me rafael-quintero && clearance incident approve", 0, ("approved for step 'legal'",)),
            ("me karim-haddad && clearance incident approve", 0, ("approved for step 'privacy'",)),
            ("me tomas-ferreira && clearance incident approve", 0, ("approved for step 'lead'",)),
            ("me felix-achterberg && clearance incident publish", 0, ("published ",)),
            ("me karim-haddad", 0, ()),
            ("clearance incident assess", 0, ("assessed gdpr#art-33",)),
            (
                "clearance incident status",
                0,
                (
                    f"{incident}: Viral post about a leaked export",
                    "Waiting for approval:\n  nothing",
                    "gdpr#art-33 (",
                    "Next public update:\n  due ",
                    "GMT",  # times in Europe/Dublin
                ),
            ),
        ],
    )
    printed = re.search(r"drafted (\S+)\n  sha256 ([0-9a-f]{64})", results[5].out)
    assert printed
    draft, sha = printed.groups()
    log = copy.root / "incidents" / incident / "log"
    assert f"published {draft}:" in results[14].out  # the id draft printed reached publish
    approvals = [p.read_text("utf-8") for p in log.glob("*.yaml") if "type: approval" in p.read_text("utf-8")]
    assert len(approvals) == 4 and all(f"sha256: {sha}" in a and f"draft: {draft}" in a for a in approvals)
    # each approver acted as themselves and signed: no scribe records, every decision signed
    decisions = [p.read_text("utf-8") for p in log.glob("*.yaml") if "type: approval" in p.read_text("utf-8")
                 or "type: publication" in p.read_text("utf-8")]  # fmt: skip
    assert len(decisions) == 5 and all("BEGIN SSH SIGNATURE" in d and "recorded_by" not in d for d in decisions)
    check = subprocess.run(
        ["clearance", "check"], cwd=copy.root, env=copy.env(), capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_first_hour(copy: Copy) -> None:
    incident = "2026-12-07-first-hour-drill"
    results = run_section(copy, "The first hour: signals in, pre-cleared statements out")
    cleared = "approved in peacetime: clearance holding-x-2027h1"
    expect(
        results,
        [
            ("me() {", 0, ()),
            ("clearance signals evaluate tests/data/signals/viral-leak-first-pull.csv --now", 0,
             ("protocol viral-data-exposure-allegation: sev2", "trigger high-reach-post (reach) met at 2026-12-07T09:16:00Z")),
            ("me tomas-ferreira", 0, ()),
            ("clearance signals evaluate tests/data/signals/viral-leak-first-pull.csv --open", 0,
             (f"opened incident {incident} at sev2", "logged observation ")),
            ("I=", 0, ()),
            ("me felix-achterberg", 0, ()),
            ("OUT=$(clearance incident draft", 0, (f"step 'pr' (pr-lead) {cleared}", "needs 1 approval(s) for step 'lead'")),
            ("D=", 0, ()),
            ("me tomas-ferreira && clearance incident approve", 0, ("approved for step 'lead'",)),
            ("me felix-achterberg && clearance incident publish", 0, ("published ",)),
            ("me delphine-arceneaux", 0, ()),
            ("clearance signals enquiry", 0, ("logged enquiry 20261207T093300Z-",)),
            ("clearance signals answer", 0, ("logged enquiry-answer ",)),
            ("clearance incident status", 0,
             ("Media enquiries (by deadline):", "[answered: statement]", "time to page 9m (target PT15M: met)",
              "to first statement 14m (target PT30M: met)")),
        ],
    )  # fmt: skip
    assert "needs 1 approval(s) for step 'legal'" not in results[6].out


def test_scanning(copy: Copy) -> None:
    results = run_section(copy, "Scanning a statement before it goes out")
    hits = ("<stdin>:2:32: customer-personal-data", "<stdin>:3:6: payment-data")
    holding = len(list((copy.root / "protocols" / "templates").glob("holding-*.md")))
    assert holding >= 6
    expect(
        results,
        [
            ("pbpaste | .venv/bin/clearance scan -", 1, hits),
            (".venv/bin/clearance scan protocols/templates/holding-*.md", 0, (f"no hits in {holding} files",)),
            ("pbpaste | .venv/bin/clearance scan --incident", 1, hits),
            ("pbpaste | .venv/bin/clearance scan --format json", 1, ()),
        ],
    )
    assert results[0].out.strip("\n") == output_block("Scanning a statement before it goes out")
    assert results[2].out == results[0].out  # the exercise allows none of these values
    found = json.loads(results[3].out)
    assert [(h["line"], h["column"], h["masked"]) for h in found["hits"]] == [
        (2, 32, "CU•••••••33"),
        (3, 6, "••••••••••••1111"),
    ]


def test_validating(copy: Copy) -> None:
    results = run_section(copy, "Validating a repository")
    expect(
        results,
        [
            # infos only: legacy unsigned exercise entries (APR012) and allowed scanner hits (DSC006)
            (".venv/bin/clearance check", 0, (": 0 errors, 0 warnings, ",)),
            (".venv/bin/clearance check policies/roles", 0, ()),
            (".venv/bin/clearance check --format json", 0, ()),
            (".venv/bin/clearance rules", 0, ("APR001", "DSC001", "SCH001")),
        ],
    )
    assert isinstance(json.loads(results[2].out), dict | list)


def test_auditing(copy: Copy) -> None:
    imported, amended, *_own_records = copy.commits
    results = run_section(copy, "Auditing the history")
    expect(
        results,
        [
            ("clearance audit --since 2026-01-01", 0, ()),
            ("git rev-parse HEAD > ~/q1.checkpoint", 0, ()),
            ("clearance history policies/sensitive-data-disclosure.md", 0, (imported[:12], amended[:12])),
            (
                "clearance show policies/sensitive-data-disclosure.md --as-of 2026-03-02",
                0,
                (f"as of commit {imported[:12]}", "id: sensitive-data-disclosure"),
            ),
            ("clearance verify", 0, (f"verified {len(copy.commits)} commits: no findings",)),
            ("clearance codeowners --check", 0, ("up to date",)),
        ],
    )
    assert AMENDMENT.strip() not in results[3].out  # the text as it was on 2026-03-02
    assert (copy.home / "q1.checkpoint").read_text().strip() == copy.commits[-1]
    with (copy.root / "q1.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["commit"] for row in rows} == {imported, amended}
    assert any(r["path"] == "policies/sensitive-data-disclosure.md" and r["commit"] == amended for r in rows)


def test_evidence_packs(copy: Copy) -> None:
    results = run_section(copy, "Evidence packs for auditors and regulators")
    expect(
        results,
        [
            ("clearance evidence incident 2026-10-14-viral-export-link-exercise -o incident.pdf", 0,
             ("wrote incident pack for 2026-10-14-viral-export-link-exercise",)),
            ("clearance evidence incident 2026-10-14-viral-export-link-exercise --format zip", 0, ("(zip) to incident.zip",)),
            ("clearance evidence changes --since 2026-01-01", 0, ("wrote changes pack: ",)),
            ("clearance evidence verify incident.pdf", 0, ("OK: all ", copy.commits[-1][:12])),
        ],
    )  # fmt: skip
    for name in ("incident.pdf", "incident.zip", "q1-changes.pdf"):
        assert (copy.root / name).stat().st_size > 1000, name
    image = ROOT / ".github" / "readme" / "evidence-pack.png"
    assert image.read_bytes().startswith(b"\x89PNG"), "the README's picture of a pack"


def test_for_counsel(copy: Copy) -> None:
    results = run_section(copy, "For counsel: privilege, legal hold and stakeholders")
    incident = "2026-12-07-counsel-drill"
    expect(
        results,
        [
            ("me() {", 0, ()),
            ("me ines-marlowe", 0, ()),
            ("clearance incident new", 0, (f"opened exercise {incident} ",)),
            ("I=2026-12-07-counsel-drill", 0, ()),
            ("me rafael-quintero", 0, ()),
            ("clearance incident log $I observation", 0, ("logged observation ",)),
            ("clearance incident status $I --as ines-marlowe", 0,
             ("1 privileged entry withheld: only counsel (a legal role) reads them",)),
            ("clearance hold place $I", 0, ("logged legal-hold ",)),
            ("git add -A", 0, ()),
            ("git rm -q protocols/channels/crisis-room.yaml", 0, ()),
            ("clearance check | grep HLD001", 0,
             ("HLD001 error: protocols/channels/crisis-room.yaml deleted while incident "
              f"'{incident}' is under legal hold (hold by rafael-quintero)",)),
            ("git restore", 0, ()),
            ("me catherine-ashdown", 0, ()),
            ("clearance stakeholders notify $I board", 0, ("(board#briefing)",)),
            ("clearance stakeholders status $I", 0,
             ("board#briefing: sent at 2026-12-07T15:40:00+00:00",
              "cyber-insurer#circumstances: due by 2026-12-09T15:00:00+00:00",
              "regulator-dpc-contact#courtesy-call: due before the first public statement")),
        ],
    )  # fmt: skip
    entry = next((copy.root / "incidents" / incident / "log").glob("20261207T152000Z-*.yaml"))
    assert "privileged:\n  counsel: rafael-quintero\n" in entry.read_text("utf-8")


def test_starting_your_own_repository(copy: Copy, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # the reader's machine: an SSH key, and git's user.email is the one their (filled-in)
    # placeholder entry holds
    (copy.home / ".ssh").mkdir()
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(copy.home / ".ssh" / "id_ed25519")], check=True
    )
    (copy.home / ".gitconfig").write_text("[user]\n\tname = Lena Counsel\n\temail = legal-counsel-1@acme.example\n")
    results = run_section(copy, "Starting your own governance repository", cwd=elsewhere)
    expect(
        results,
        [
            ("clearance init acme-governance", 0, ("clearance keys add --key ~/.ssh/id_ed25519.pub",)),
            ("cd acme-governance", 0, ()),
            ("clearance keys add --key ~/.ssh/id_ed25519.pub", 0, ("to signing_keys of 'legal-counsel-1'",)),
        ],
    )
    made = elsewhere / "acme-governance"
    assert "Acme Ltd" in (made / "clearance.yaml").read_text("utf-8")
    assert (made / ".github" / "workflows").is_dir() and (made / ".git").is_dir()


def test_handbook_builds_for_each_audience(copy: Copy) -> None:
    results = run_section(copy, "The handbook")
    expect(
        results,
        [
            ("export NO_MKDOCS_2_WARNING=1", 0, ()),
            ("CLEARANCE_AUDIENCE=public ", 0, ("for audience 'public'",)),
            ("CLEARANCE_AUDIENCE=internal ", 0, ("for audience 'internal'",)),
            ("CLEARANCE_AUDIENCE=confidential ", 0, ("for audience 'confidential'",)),
        ],
    )
    for audience in ("public", "internal", "confidential"):
        assert (copy.root / f"site-{audience}" / "index.html").is_file()
    for result in results:  # the theme's banner is hidden, as the README says
        assert "end of life" not in result.out + result.err, result.command
    assert (copy.root / "site-internal" / "incidents").is_dir()
    assert not (copy.root / "site-public" / "incidents" / "2026-10-14-viral-export-link-exercise").exists()
