"""Pre-cleared templates: a holding statement whose words and allowed values were approved
in peacetime publishes with only the steps the clearance leaves open; anything else falls
back to the full chain; clearances that expired, whose text changed or whose signatures do
not verify are flagged by check and never count. Real git copies of this repository,
people acting with their own SSH keys."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from clearance.incidents import preclearance
from cli_help_test import act_as
from conftest import run_cli
from readme_test import Copy, reference_copy

INCIDENT = "2026-12-07-signals-drill"
TEMPLATE = "protocols/templates/holding-x.md"
VALUES = (
    "issue=posts claiming a customer export is online",
    "unknown=whether the claim is accurate",
    "advice=No action is needed right now.",
    "next_update=10:30 UTC",
    "link=https://www.example.com/newsroom",
)
PEACETIME = "2026-12-01T10:00:00Z"


def cli(copy: Copy, person: str, *args: str, code: int = 0) -> str:
    act_as(copy, person)
    done = run_cli("--root", str(copy.root), *args)
    assert done.code == code, (args, done.out, done.err)
    return done.out + done.err


def unsigned(copy: Copy) -> None:
    """The reference templates' clearances as they stood before anyone signed them, so each
    test has its approvers sign (the reference repository's own approvals are its
    exercise's)."""
    for name in ("holding-x", "holding-newsroom"):
        path = copy.root / "protocols" / "templates" / f"{name}.md"
        path.write_text(preclearance.without_approvals(path.read_text("utf-8")), "utf-8")


def opened(tmp_path: Path) -> Copy:
    copy = reference_copy(tmp_path)
    unsigned(copy)
    pull = str(copy.root / "tests" / "data" / "signals" / "viral-leak-first-pull.csv")
    cli(copy, "oskar-lindqvist", "signals", "evaluate", pull, "--open", "--exercise", "--slug", "signals-drill",
        "--now", "2026-12-07T09:25:00Z")  # fmt: skip
    return copy


def preclear(copy: Copy, *people: tuple[str, str], now: str = PEACETIME) -> None:
    for person, step in people:
        out = cli(copy, person, "signals", "preclear", "holding-x", "--step", step, "--now", now)
        assert f"cleared holding-x for step {step!r}" in out


def draft(copy: Copy, person: str, *values: str, at: str = "2026-12-07T09:27:00Z") -> tuple[str, str, str]:
    args = [a for v in values for a in ("--set", v)]
    out = cli(copy, person, "incident", "draft", INCIDENT, "--channel", "x", "--template", "holding-x", *args,
              "--now", at)  # fmt: skip
    ident = re.search(r"drafted (\S+)", out).group(1)  # type: ignore[union-attr]
    sha = re.search(r"sha256 ([0-9a-f]{64})", out).group(1)  # type: ignore[union-attr]
    return ident, sha, out


def entry(copy: Copy, ident: str) -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((copy.root / "incidents" / INCIDENT / "log" / f"{ident}.yaml").read_text("utf-8"))


def test_cleared_holding_statement_publishes_with_only_the_open_step(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"))
    check = run_cli("--root", str(copy.root), "check", str(copy.root / TEMPLATE))
    assert check.code == 0, check.out
    ident, sha, out = draft(copy, "mira-castellanos", *VALUES)
    needs = re.findall(r"needs 1 approval\(s\) for step '(\w+)'", out)
    assert needs == ["lead"]  # what the clearance leaves open
    cleared = re.findall(r"step '(\w+)' \([a-z-]+\) approved in peacetime: clearance holding-x-2027h1", out)
    assert cleared == ["pr", "legal", "privacy"]
    assert entry(copy, ident)["clearance"] == "holding-x-2027h1"  # the record names the clearance
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T09:28:00Z",
                     "--format", "json").json()  # fmt: skip
    waiting = {s["step"] for d in status["waiting"] for s in d["steps"]}
    assert waiting == {"lead"}  # only what the clearance leaves open
    refused = cli(copy, "mira-castellanos", "incident", "publish", INCIDENT, ident, "--now", "2026-12-07T09:29:00Z",
                  code=1)  # fmt: skip
    assert "step 'lead'" in refused and "step 'pr'" not in refused
    cli(copy, "ines-marlowe", "incident", "approve", INCIDENT, ident, "--step", "lead", "--sha256", sha,
        "--now", "2026-12-07T09:29:30Z")  # fmt: skip
    out = cli(copy, "mira-castellanos", "incident", "publish", INCIDENT, ident, "--link",
              "https://x.com/example/status/2", "--now", "2026-12-07T09:30:00Z")  # fmt: skip
    assert f"published {ident}" in out
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T09:31:00Z",
                     "--format", "json").json()  # fmt: skip
    metrics = status["metrics"]
    assert metrics["time_to_first_statement_seconds"] == 14 * 60  # 09:16 signal, 09:30 statement
    assert metrics["time_to_first_statement_state"] == "met"


def test_a_value_outside_the_allowed_ones_falls_back_to_the_full_chain(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"))
    changed = tuple(
        "issue=posts claiming 5,000 customers were hacked" if v.startswith("issue=") else v for v in VALUES
    )
    ident, sha, _ = draft(copy, "mira-castellanos", *changed)
    assert "clearance" not in entry(copy, ident)
    cli(copy, "ines-marlowe", "incident", "approve", INCIDENT, ident, "--step", "lead", "--sha256", sha,
        "--now", "2026-12-07T09:29:30Z")  # fmt: skip
    refused = cli(copy, "mira-castellanos", "incident", "publish", INCIDENT, ident, "--now", "2026-12-07T09:30:00Z",
                  code=1)  # fmt: skip
    for step in ("pr", "legal", "privacy"):
        assert f"step {step!r}" in refused


def test_a_hand_written_draft_with_edited_text_gets_no_clearance(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"))
    ident, _sha, _ = draft(copy, "mira-castellanos", *VALUES)
    folder = copy.root / "incidents" / INCIDENT / "log"
    text = (folder / f"{ident}.yaml").read_text("utf-8")
    # same template and values on record, one word of the text changed by hand
    forged = text.replace("looking into it now", "looking into it later").replace(ident[-6:], "zzzzzz")
    (folder / f"{ident[:-6]}zzzzzz.yaml").write_text(forged, "utf-8")
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T09:28:00Z",
                     "--format", "json").json()  # fmt: skip
    steps = {d["draft"]: {s["step"] for s in d["steps"]} for d in status["waiting"]}
    assert steps[ident] == {"lead"}
    assert steps[f"{ident[:-6]}zzzzzz"] == {"pr", "legal", "privacy", "lead"}


def test_the_author_never_covers_their_own_draft_and_only_signers_count(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"))
    # not a member of the role: refused, nothing written
    before = (copy.root / TEMPLATE).read_text("utf-8")
    out = cli(copy, "felix-achterberg", "signals", "preclear", "holding-x", "--step", "privacy", code=1)
    assert (
        "is not a member of 'privacy-officer'" in out and (copy.root / TEMPLATE).read_text("utf-8") == before
    )
    # someone else's name: a clearance is a decision, taken only by the person
    out = cli(copy, "felix-achterberg", "signals", "preclear", "holding-x", "--step", "privacy",
              "--as", "sunniva-aas", code=1)  # fmt: skip
    assert "recorded only by the person taking it" in out
    # delphine (pr-lead) drafts herself: her peacetime approval does not approve her own draft
    ident, _, _ = draft(copy, "delphine-arceneaux", *VALUES)
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T09:28:00Z",
                     "--format", "json").json()  # fmt: skip
    assert {s["step"] for d in status["waiting"] for s in d["steps"]} == {"pr", "privacy", "lead"}
    assert entry(copy, ident).get("clearance") == "holding-x-2027h1"  # legal was still covered
    # an approval edited to name another person no longer verifies: CLR001, and it never counts
    text = (copy.root / TEMPLATE).read_text("utf-8")
    (copy.root / TEMPLATE).write_text(text.replace("- by: rafael-quintero", "- by: adaeze-nwankwo"), "utf-8")
    check = run_cli("--root", str(copy.root), "check", str(copy.root / TEMPLATE))
    assert check.code == 1 and "CLR001" in check.out and "adaeze-nwankwo" in check.out
    ident2, _, _ = draft(copy, "mira-castellanos", *VALUES, at="2026-12-07T09:29:00Z")
    status = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T09:30:00Z",
                     "--format", "json").json()  # fmt: skip
    steps = {d["draft"]: {s["step"] for s in d["steps"]} for d in status["waiting"]}
    assert steps[ident2] == {"legal", "privacy", "lead"}


def test_expired_or_changed_clearances_are_flagged_and_do_not_count(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"))
    path = copy.root / TEMPLATE
    cleared = path.read_text("utf-8")
    # expired: check warns, a draft needs the full chain again
    path.write_text(
        cleared.replace("expires: '2027-06-30T23:59:59Z'", "expires: '2026-12-07T09:00:00Z'"), "utf-8"
    )
    check = run_cli("--root", str(copy.root), "check", str(copy.root / TEMPLATE))
    assert "CLR002" in check.out and "expired" in check.out
    # (the signatures covered the old expiry, so they no longer verify either)
    assert "CLR001" in check.out
    ident, _, _ = draft(copy, "mira-castellanos", *VALUES)
    assert "clearance" not in entry(copy, ident)
    # the text changed after clearance: flagged, no coverage
    path.write_text(cleared.replace("looking into it now", "looking into it right now"), "utf-8")
    check = run_cli("--root", str(copy.root), "check", str(copy.root / TEMPLATE))
    assert "CLR003" in check.out
    ident, _, _ = draft(copy, "mira-castellanos", *VALUES, at="2026-12-07T09:28:00Z")
    assert "clearance" not in entry(copy, ident)
    # preclearing changed text is refused until the pinned hash is reviewed
    out = cli(copy, "sunniva-aas", "signals", "preclear", "holding-x", "--step", "privacy", code=1)
    assert "review the text and update the pinned sha256 first" in out


def test_each_approver_commits_their_own_clearance(tmp_path: Path) -> None:
    copy = reference_copy(tmp_path)
    unsigned(copy)

    def commit(person: str) -> None:
        address = f"{person.replace('-', '.', 1)}@example.com"
        name = person.replace("-", " ").title()
        copy.git("add", TEMPLATE)
        copy.git("commit", "-q", "--no-verify", "-m", f"Clearance by {person}", env={
            "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": address,
            "GIT_COMMITTER_NAME": name, "GIT_COMMITTER_EMAIL": address,
        })  # fmt: skip

    preclear(copy, ("delphine-arceneaux", "pr"))
    commit("delphine-arceneaux")  # her own commit: bound to her
    preclear(copy, ("rafael-quintero", "legal"))
    commit("felix-achterberg")  # someone else commits Rafael's signed approval
    check = run_cli("--root", str(copy.root), "check", str(copy.root / TEMPLATE))
    assert check.code == 1, check.out
    assert "approval by 'rafael-quintero' was committed by 'felix.achterberg@example.com'" in check.out
    assert "delphine-arceneaux" not in check.out


def test_slots_edited_by_hand_to_no_longer_match_the_body_are_flagged(tmp_path: Path) -> None:
    copy = reference_copy(tmp_path)
    path = copy.root / TEMPLATE
    text = path.read_text("utf-8")
    # a slot renamed by hand: the body's 'advice' loses its allowed values and 'advise'
    # names nothing in the body; the time pattern loses a parenthesis
    pattern = "pattern: '([01][0-9]|2[0-3]):[0-5][0-9] UTC'"
    assert "    advice:\n      values:" in text and pattern in text
    text = text.replace("    advice:\n      values:", "    advise:\n      values:")
    path.write_text(text.replace(pattern, "pattern: '([01][0-9]|2[0-3]:[0-5][0-9] UTC'"), "utf-8")
    lines = path.read_text("utf-8").splitlines()

    def line_of(needle: str) -> int:
        return next(n for n, line in enumerate(lines, 1) if line.startswith(needle))

    check = run_cli("--root", str(copy.root), "check", "--format", "json", str(path))
    assert check.code == 1, check.out
    found = [(f["path"], f["line"], f["message"]) for f in check.json()["findings"] if f["rule"] == "CLR004"]
    assert sorted(found) == sorted([
        # (a mapping is located where its value starts: the line after its key)
        (TEMPLATE, line_of("  slots:") + 1, "placeholder 'advice' has no allowed values or pattern"),
        (TEMPLATE, line_of("    advise:") + 1, "slot 'advise' is not a placeholder of the body"),
        (TEMPLATE, line_of("      pattern:"), found[-1][2]),
    ])  # fmt: skip
    assert found[-1][2].startswith("pattern is not a regex: ")
    # a draft from it is not covered ('advice' may be nothing; the signatures covered the old slots)
    cli(copy, "oskar-lindqvist", "signals", "evaluate",
        str(copy.root / "tests" / "data" / "signals" / "viral-leak-first-pull.csv"), "--open", "--exercise",
        "--slug", "signals-drill", "--now", "2026-12-07T09:25:00Z")  # fmt: skip
    ident, _, _ = draft(copy, "mira-castellanos", *VALUES)
    assert "clearance" not in entry(copy, ident)
