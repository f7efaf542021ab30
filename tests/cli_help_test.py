"""Every command's help ends with an example, including nested actions, and every
example runs as written against a copy of this repository.

The examples run through bash, exactly as ``--help`` prints them, in a private copy of
the repository (:func:`readme_test.reference_copy`: the tracked files in a git
repository with two signed commits, ``pbpaste`` printing a statement, ``HOME`` holding
``~/trusted/allowed_signers`` and ``~/q1.checkpoint``, the first commit, as an earlier
audit recorded it). They run in the order of :data:`EXAMPLES`, which is a story: the
``incident`` examples open ``2026-03-14-leaked-export-rumour`` (the id comes from
``--detected``), log, draft a statement at a fixed time, approve, publish, assess,
notify, show the status, close and review it. ``approve``, ``reject`` and ``publish``
name the draft by the prefix of its id that ``--at`` fixes (the random suffix cannot
be known) and ``approve`` gives the full sha256 ``draft`` prints for the template text;
if either changed the example would be refused and this test would fail. The other
way, a waiting draft added to the reference incidents for the examples to name, would
put an invented open incident into the reference record.

Each example runs as the person who would type it: their email is the copy's
``git config user.email``, as on their own machine. Between ``approve`` (legal) and
``publish`` the test approves the other steps the chain needs (:data:`ALSO_APPROVE`),
because one example shows one approver. ``reject`` runs in a second copy, after the
``new`` and ``draft`` examples there, because a rejected draft would block the story's
``publish``. ``init`` runs in an empty folder: it starts a new repository. None is
skipped; each must give the exit code and output listed here."""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from clearance.cli import COMMANDS, build_parser
from conftest import run_cli
from readme_test import Copy, Result, reference_copy


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append((*prefix, name))
                found.extend(_commands(sub, (*prefix, name)))
    return found


ALL = _commands(build_parser(everything=True))


def test_every_registered_command_is_reachable() -> None:
    assert {path[0] for path in ALL} == {command.name for command in COMMANDS}
    assert ("hook", "append-only") in ALL
    assert ("init",) in ALL


def test_top_level_help_has_an_example() -> None:
    result = run_cli("--help")
    assert result.code == 0
    assert "example: clearance check" in result.out
    for name in [command.name for command in COMMANDS]:
        assert name in result.out


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_each_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = run_cli(*path, "--help")
    assert result.code == 0, result.err
    example = [line for line in result.out.splitlines() if line.startswith("example: ")]
    assert example, f"'clearance {' '.join(path)} --help' gives no example"
    assert f"clearance {path[0]}" in example[0]


INCIDENT = "2026-03-14-leaked-export-rumour"
DRAFT = "20260314T085000Z"  # the draft example's --at, and so the prefix of its id
SHA = "ca7cda21c631d21d73ebd63b68b8d08e08862ebd62098881a98e5dc6117d71e8"
# what felix-achterberg (PR) adds to the story's incident.yaml before 'allowance list':
# the press office's address, which its class's chain must approve before it counts
STORY_ALLOW = {"match": "press@example.com", "by": "felix-achterberg",
               "reason": "the press office's public address, on the contact page"}
ALLOWANCE = "504d8493959fc28a3ab296eb8963c45652f8e8184ea9015a376186f795c7eed4"

# command -> (who runs it, the exit code it is documented to give, texts it prints), in the
# order they run.
EXAMPLES: dict[tuple[str, ...], tuple[str | None, int, tuple[str, ...]]] = {
    ("check",): (None, 0, ()),
    ("rules",): (None, 0, ('"id": "APR001"',)),
    ("scan",): (None, 1, ("<stdin>:3:6: payment-data", "2 hits in 1 file")),
    ("audit",): (None, 0, ()),
    ("evidence",): (None, 0, ("wrote incident pack for 2026-10-14-viral-export-link-exercise",)),
    ("evidence", "incident"): (None, 0, ("(zip) to pack.zip",)),
    ("evidence", "changes"): (None, 0, ("wrote changes pack: 1 change(s)", "1 change(s) withheld for audience 'confidential'")),
    ("evidence", "verify"): (None, 0, ("OK: all",)),
    ("history",): (None, 0, ("policies/sensitive-data-disclosure.md", "Karim Haddad")),
    ("show",): (None, 0, ("id: sensitive-data-disclosure", "as of commit")),
    ("verify",): (None, 0, ("verified 3 commits: no findings",)),  # import, amendment, a reading record
    ("keys",): (None, 0, ('rafael-quintero namespaces="clearance-decision" ssh-ed25519 ',)),
    ("keys", "list"): (None, 0, ('rafael-quintero namespaces="clearance-decision" ssh-ed25519 ',)),
    ("keys", "add"): ("rafael-quintero", 0, ("already holds SHA256:",)),
    ("codeowners",): (None, 0, ("up to date",)),
    ("hook",): (None, 0, ()),
    ("hook", "append-only"): (None, 0, ()),
    ("hook", "trailing-whitespace"): (None, 0, ()),
    ("hook", "end-of-file"): (None, 0, ()),
    ("hook", "large-files"): (None, 0, ()),
    ("hook", "yaml-text"): (None, 0, ()),
    ("incident",): (None, 0, ("EXERCISE 2026-10-14-viral-export-link-exercise: ",)),
    ("incident", "new"): ("tomas-ferreira", 0, (f"opened incident {INCIDENT} ",)),
    ("incident", "log"): ("felix-achterberg", 0, ("logged observation ",)),
    ("incident", "draft"): ("felix-achterberg", 0, (f"drafted {DRAFT}-", f"sha256 {SHA}")),
    ("incident", "show"): ("rafael-quintero", 0, (f"sha256 {SHA}", "step legal (legal-counsel, quorum 1)")),
    ("incident", "approve"): ("rafael-quintero", 0, ("approved for step 'legal' as 'legal-counsel'",)),
    ("incident", "publish"): ("felix-achterberg", 0, (f"published {DRAFT}-",)),
    ("signals", "enquiry"): ("delphine-arceneaux", 0, ("logged enquiry 20260314T093200Z-",)),
    ("signals", "answer"): ("delphine-arceneaux", 0, ("logged enquiry-answer ",)),
    ("signals", "enquiries"): (None, 0, ('"answer": "statement"', '"outlet": "The Ledger"')),
    ("incident", "assess"): ("karim-haddad", 0, ("assessed gdpr#art-33",)),
    ("incident", "notify"): ("karim-haddad", 0, ("notified for gdpr#art-33",)),
    ("incident", "status"): ("tomas-ferreira", 0, (f'"incident": "{INCIDENT}"', '"waiting": []')),
    ("allowance", "list"): (None, 0, (f"{ALLOWANCE} (customer-personal-data): NOT effective",)),
    ("allowance", "approve"): ("karim-haddad", 0, ("approved allowance 504d8493959f... for step 'privacy'",)),
    ("allowance",): (None, 0, ("regulatory-statements", "NOT effective")),
    ("hold", "place"): ("rafael-quintero", 0, ("logged legal-hold ",)),
    ("hold", "list"): (None, 0, (f"{INCIDENT}: under legal hold by rafael-quintero",)),
    ("hold", "release"): ("rafael-quintero", 0, ("logged hold-release ",)),
    ("hold",): (None, 0, ("2026-12-07-counsel-tabletop: under legal hold by rafael-quintero",)),  # the reference exercise's
    ("stakeholders", "notify"): ("catherine-ashdown", 0, ("logged stakeholder-notice ", "(board#briefing)")),
    ("stakeholders", "not-applicable"): ("rafael-quintero", 0, ("(cyber-insurer#circumstances)",)),
    ("stakeholders", "status"): (None, 0, ()),
    ("stakeholders",): (None, 0, ()),
    ("incident", "close"): ("tomas-ferreira", 0, (f"closed {INCIDENT}: ",)),
    ("incident", "review"): ("tomas-ferreira", 0, (f"created incidents/{INCIDENT}/review.md",)),
    ("incident", "reject"): ("adaeze-nwankwo", 0, ("rejected for step 'legal' as 'legal-counsel'",)),
    # after the packs, history and the incident story: these write a new exercise and a template
    ("signals",): ("oskar-lindqvist", 0, ("opened incident 2026-12-07-", "logged observation ")),
    ("signals", "evaluate"): (None, 0, ("protocol viral-data-exposure-allegation: sev2",)),
    ("signals", "preclear"): ("adaeze-nwankwo", 0, ("cleared holding-x for step 'legal' as 'legal-counsel'",)),
    ("init",): (None, 0, ("cd handbook",)),
}
ALSO_APPROVE = (("pr", "delphine-arceneaux"), ("privacy", "karim-haddad"), ("lead", "tomas-ferreira"))
NOT_ASSESSED = re.compile(r"^obligation (\S+) \(.*was never assessed")


def ready_to_close(copy: Copy) -> None:
    """What the story does between 'status' and 'close' (close refuses until every gate
    is met): the lead calls it stable, counsel assesses every listed obligation the
    story did not, and the lead records that no resolution statement follows."""

    def incident(person: str, *args: str) -> None:
        act_as(copy, person)
        done = run_cli("--root", str(copy.root), "incident", *args)
        assert done.code == 0, done.err

    incident("tomas-ferreira", "log", INCIDENT, "status-change", "--to", "stable", "--text", "Contained")
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--format", "json")
    for item in json.loads(status.out)["to_close"]:
        found = NOT_ASSESSED.match(item["what"])
        if found:
            incident("karim-haddad", "assess", INCIDENT, found.group(1), "--applies", "no", "--rationale", "Story: out of scope")
    incident("tomas-ferreira", "log", INCIDENT, "resolution-decision", "--rationale", "The scoping message said it all")


def example(path: tuple[str, ...]) -> str:
    found = [line for line in run_cli(*path, "--help").out.splitlines() if line.startswith("example: ")]
    assert len(found) == 1, path
    return found[0].removeprefix("example: ")


def email(copy: Copy, person: str) -> str:
    text = (copy.root / "policies" / "people" / f"{person}.yaml").read_text("utf-8")
    found = re.search(r"^emails:\n\s*- (\S+)$", text, re.MULTILINE)
    assert found, person
    return found.group(1)


KEYS = Path(__file__).parent / "data" / "exercise-keys"  # each example person's signing key


def act_as(copy: Copy, person: str) -> None:
    """Their email and their signing key, as on their own machine (decisions are signed)."""
    copy.git("config", "user.email", email(copy, person))
    copy.git("config", "user.signingkey", str(KEYS / person))


def run_example(copy: Copy, path: tuple[str, ...], cwd: Path | None = None) -> Result:
    person = EXAMPLES[path][0]
    if person:
        act_as(copy, person)
    command = example(path)
    done = subprocess.run(
        ["bash", "-c", 'pbpaste() { printf %s "$STATEMENT"; }\n' + command],
        cwd=cwd or copy.root, env=copy.env(), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    return Result(command, done.returncode, done.stdout, done.stderr)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], Result]:
    """Every example's result, run in the documented order (see the module docstring)."""
    copy = reference_copy(tmp_path_factory.mktemp("examples"))
    (copy.home / "q1.checkpoint").write_text(copy.commits[0] + "\n")
    (copy.home / ".ssh").mkdir()  # the key 'keys add' names: Rafael's, already registered
    shutil.copy(KEYS / "rafael-quintero.pub", copy.home / ".ssh" / "id_ed25519.pub")
    results: dict[tuple[str, ...], Result] = {}
    for path in EXAMPLES:
        if path == ("incident", "reject"):
            second = reference_copy(tmp_path_factory.mktemp("reject"))
            for step in (("incident", "new"), ("incident", "draft")):
                assert run_example(second, step).code == 0
            results[path] = run_example(second, path)
        elif path == ("incident", "close"):
            ready_to_close(copy)
            results[path] = run_example(copy, path)
        elif path == ("allowance", "list"):
            incident_yaml = copy.root / "incidents" / INCIDENT / "incident.yaml"
            allow = "allow:\n" + "".join(f"  {'-' if n == 0 else ' '} {k}: {json.dumps(v)}\n"
                                         for n, (k, v) in enumerate(STORY_ALLOW.items()))
            incident_yaml.write_text(incident_yaml.read_text("utf-8") + allow, "utf-8")
            results[path] = run_example(copy, path)
        elif path == ("init",):
            empty = tmp_path_factory.mktemp("init")
            results[path] = run_example(copy, path, cwd=empty)
        else:
            results[path] = run_example(copy, path)
        if path == ("incident", "approve"):
            for step, person in ALSO_APPROVE:
                act_as(copy, person)
                approved = run_cli(
                    "--root", str(copy.root), "incident", "approve", INCIDENT, DRAFT, "--step", step,
                    "--sha256", SHA,
                )
                assert approved.code == 0, approved.err
    return results


def test_every_command_has_an_example_that_runs() -> None:
    assert set(EXAMPLES) == set(ALL)


@pytest.mark.parametrize("path", list(EXAMPLES), ids=" ".join)
def test_each_example_runs_as_written(ran: dict[tuple[str, ...], Result], path: tuple[str, ...]) -> None:
    result = ran[path]
    _person, code, texts = EXAMPLES[path]
    assert result.code == code, f"{result.command}\nexit {result.code}\n{result.out}\n{result.err}"
    assert "Traceback" not in result.err, result.err
    for text in texts:
        assert text in result.out + result.err, f"{result.command}\nprints no {text!r}:\n{result.out}"


def test_hook_examples_name_files_that_exist() -> None:
    """The file hooks skip a missing file (pre-commit may pass one), so exit 0 alone
    would not show that an example's files exist."""
    root = Path(__file__).resolve().parent.parent
    for path in ALL:
        if path[0] == "hook" and len(path) == 2:
            words = example(path).split()[3:]
            files = [w for n, w in enumerate(words) if not w.startswith("-") and words[n - 1] != "--max-kb"]
            assert all((root / name).is_file() for name in files), (path, files)
            assert files or path == ("hook", "append-only"), path
