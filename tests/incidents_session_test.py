"""How incident commands name things and who is acting: every unknown protocol, channel,
template, regulation, obligation, person, role, draft or incident id gets "did you mean
...?" and the short list of valid values; the acting person is found from --as,
clearance.yaml 'actor:' or git user.email, and a fresh 'clearance init' repository
explains that once."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from conftest import Run, run_cli
from incidents_workflow_test import INCIDENT, Desk, desk  # noqa: F401
from init_test import GIT_ENV, init

NOW = "2026-03-14T09:30:00Z"
NOTE = re.compile(r"clearance: acting as '([^']+)'.*This note is shown once per repository")


def refused(result: Run) -> str:
    assert result.code == 2, result
    assert "Traceback" not in result.err and "internal error" not in result.err, result.err
    return result.err


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (
            ("new", "--protocol", "social-media-crisi", "--severity", "sev3", "--title", "T"),
            "no protocol 'social-media-crisi' (did you mean 'social-media-crisis'?); "
            "protocols: social-media-crisis",
        ),
        (
            ("new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title", "T",
             "--channel", "crisis-rom"),
            "no channel 'crisis-rom' (did you mean 'crisis-room'?); "
            "channels: crisis-room, office-chat, website, x",
        ),
        (
            ("new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title", "T",
             "--role", "crisis-led=cleo"),
            "no role 'crisis-led' (did you mean 'crisis-lead'?); roles: crisis-lead, data-protection-officer,",
        ),
        (
            ("new", "--protocol", "social-media-crisis", "--severity", "sev3", "--title", "T",
             "--role", "crisis-lead=cleoo"),
            "no person 'cleoo' (did you mean 'cleo'?); people: carl, cleo, dan,",
        ),
        (
            ("status", "2026-03-14-app-outage-rumor"),
            "no incident '2026-03-14-app-outage-rumor' (did you mean '2026-03-14-app-outage-rumour'?); "
            f"incidents: {INCIDENT}",
        ),
        (
            ("draft", INCIDENT, "--channel", "websit", "--template", "holding"),
            "no channel 'websit' (did you mean 'website'?); channels: crisis-room, office-chat, website, x",
        ),
        (
            ("draft", INCIDENT, "--channel", "x", "--template", "holdng"),
            "no template 'holdng' (did you mean 'holding'?); templates: holding",
        ),
        (
            ("assess", INCIDENT, "gdrp#breach", "--applies", "no", "--rationale", "r"),
            "no obligation 'gdrp#breach'; there is no regulation 'gdrp' (did you mean 'gdpr'?); "
            "regulations: dora, gdpr, hipaa, nis2, sec-8k",
        ),
        (
            ("assess", INCIDENT, "gdpr#art-33", "--applies", "no", "--rationale", "r"),
            "no obligation 'gdpr#art-33' (did you mean 'gdpr#art33'?); obligations of 'gdpr': gdpr#art33, gdpr#art34",
        ),
        (
            ("notify", INCIDENT, "gdpr", "--recipient", "DPC"),
            "no obligation 'gdpr': write regulation-id#obligation-id; obligations of 'gdpr': gdpr#art33, gdpr#art34",
        ),
        (
            ("log", INCIDENT, "decision", "--text", "x", "--cite", "trainin#1"),
            "--cite 'trainin#1': no such clause (did you mean 'training#1'?)",
        ),
    ],
    ids=["protocol", "channel", "role", "person", "incident", "draft-channel", "template", "regulation",
         "obligation", "obligation-without-#", "clause"],
)
def test_an_unknown_name_gets_did_you_mean_and_the_short_list(desk: Desk, args: tuple[str, ...], said: str) -> None:  # noqa: F811
    desk.open()
    assert said in refused(desk(*args, who="cleo", now=NOW))


def test_an_unknown_person_with_as_lists_the_people(desk: Desk) -> None:  # noqa: F811
    desk.open()
    err = refused(desk("log", INCIDENT, "observation", "--text", "x", who="sma"))
    assert "--as 'sma' is not a known person (did you mean 'sam'?); people: carl, cleo, dan, dora," in err


def test_an_unknown_draft_suggests_its_short_id(desk: Desk) -> None:  # noqa: F811
    desk.open()
    draft, _ = desk.holding()
    nothing = refused(desk("approve", INCIDENT, "zzzzzz", "--step", "legal", who="lars", now=NOW))
    assert f"no draft 'zzzzzz' in this incident; drafts in this incident: {draft}" in nothing
    suffix = draft.rpartition("-")[2]
    typo = suffix[:-1] + ("a" if suffix[-1] != "a" else "b")
    close = refused(desk("approve", INCIDENT, typo, "--step", "legal", who="lars", now=NOW))
    assert f"no draft {typo!r} in this incident (did you mean {suffix!r}?)" in close


def test_a_missing_name_says_which_option_gives_it(desk: Desk) -> None:  # noqa: F811
    desk.open()
    for args, said in (
        (("role-change", "--role", "pr-lead"), "a role-change needs --role ROLE and --person PERSON"),
        (("correction", "--text", "x"), "a correction needs --corrects ENTRY"),
        (("override-review", "--rationale", "x"), "an override review needs --override ENTRY"),
    ):
        err = refused(desk("log", INCIDENT, *args, who="cleo", now=NOW))
        assert said in err and "None" not in err


def test_an_unknown_entry_suggests_its_short_id(desk: Desk) -> None:  # noqa: F811
    desk.open()
    first = sorted(p.stem for p in (desk.root / "incidents" / INCIDENT / "log").glob("*.yaml"))[0]
    suffix = first.rpartition("-")[2]
    typo = suffix[:-1] + ("a" if suffix[-1] != "a" else "b")
    err = refused(desk("log", INCIDENT, "correction", "--text", "x", "--corrects", typo, who="cleo", now=NOW))
    assert f"no entry {typo!r} in this incident (did you mean {suffix!r}?); entries in this incident: {first}" in err


def test_an_incident_with_no_drafts_says_so(desk: Desk) -> None:  # noqa: F811
    desk.open()
    err = refused(desk("publish", INCIDENT, "ab12cd", who="cleo", now=NOW))
    assert "no draft 'ab12cd' in this incident; there are no drafts in this incident yet" in err


# --- who is acting, in a repository made by 'clearance init' ---------------------------


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key, value in GIT_ENV.items():  # no global git identity: only the repository's own
        monkeypatch.setenv(key, value)
    return init(tmp_path, "acme", "--org", "Acme Ltd", "--domain", "acme.example", "--ci", "none")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def act(repo: Path, *args: str) -> Run:
    return run_cli("--root", str(repo), "incident", *args, "--now", NOW)


def open_incident(repo: Path, *extra: str) -> tuple[Run, str]:
    result = act(
        repo, "new", "--protocol", "compromised-social-account", "--severity", "sev2",
        "--title", "Hijacked account", *extra,
    )
    assert result.code == 0, result.err
    match = re.search(r"opened incident (\S+)", result.out)
    assert match
    return result, match.group(1)


def test_a_fresh_repository_explains_once_how_the_actor_is_found(fresh: Path) -> None:
    # --as names the person outright: nothing to explain, and nothing remembered
    chosen, ident = open_incident(fresh, "--as", "crisis-lead-2")
    assert chosen.err == ""
    git(fresh, "config", "user.email", "Crisis-Lead-1@acme.example")
    first = act(fresh, "log", ident, "observation", "--text", "Posts we did not write")
    assert first.code == 0, first.err
    note = NOTE.search(first.err)
    assert note and note.group(1) == "crisis-lead-1"
    assert "'crisis-lead-1@acme.example'" in first.err.lower()
    for way in ("--as PERSON", "'actor:' in clearance.yaml", "git user.email matched to a person's emails"):
        assert way in first.err
    assert "note" not in first.out and first.out.startswith("logged observation ")
    again = act(fresh, "log", ident, "observation", "--text", "Password reset requested")
    assert again.code == 0 and again.err == ""
    logged = [p.read_text("utf-8") for p in (fresh / "incidents" / ident / "log").glob("*.yaml")]
    assert sum("by: crisis-lead-1\n" in text for text in logged) == 2
    # remembered inside .git, never in a tracked or untracked file of the work tree
    assert (fresh / ".git" / "clearance" / "actor-explained").is_file()
    assert git(fresh, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        f"?? incidents/{ident}/{path.relative_to(fresh / 'incidents' / ident).as_posix()}"
        for path in sorted((fresh / "incidents" / ident).rglob("*.yaml"))
    ]


def test_the_note_goes_to_stderr_so_json_stays_clean(fresh: Path) -> None:
    git(fresh, "config", "user.email", "crisis-lead-1@acme.example")
    opened, ident = open_incident(fresh)
    assert NOTE.search(opened.err) and not NOTE.search(opened.out)
    status = act(fresh, "status", ident, "--format", "json")
    assert status.code == 0 and status.json()["incident"] == ident


def test_no_acting_person_lists_the_three_ways_every_time(fresh: Path) -> None:
    for _ in range(2):
        err = refused(act(fresh, "new", "--protocol", "compromised-social-account", "--severity", "sev2",
                          "--title", "T"))
        assert "who is acting? git user.email is not set; pass --as PERSON, set 'actor: PERSON' in " \
               "clearance.yaml, or set git user.email to an address in that person's 'emails'" in err
    git(fresh, "config", "user.email", "stranger@else.example")
    err = refused(act(fresh, "new", "--protocol", "compromised-social-account", "--severity", "sev2",
                      "--title", "T"))
    assert "git user.email 'stranger@else.example' matches no person in the register; pass --as PERSON" in err
    assert [p.name for p in (fresh / "incidents").iterdir()] == [".gitkeep"]  # nothing opened
