"""Media enquiries: logged with outlet, journalist, channel, received, deadline and
questions; answered by a published statement, an approved Q&A line or a recorded
decline; listed by deadline; overdue ones are open items before close. Real git copies
of this repository, people acting with their own keys."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from conftest import run_cli
from preclearance_test import INCIDENT, VALUES, cli, draft, opened, preclear
from readme_test import Copy

RECEIVED = "2026-12-07T09:31:12Z"
DEADLINE = "2026-12-07T12:00:00Z"


def enquiry(copy: Copy, *extra: str, code: int = 0) -> str:
    return cli(
        copy, "delphine-arceneaux", "signals", "enquiry", INCIDENT, "--outlet", "The Morning Ledger",
        "--journalist", "Hannah Price", "--channel", "x", "--received", RECEIVED, "--deadline", DEADLINE,
        "--question", "Is the export in the screenshot yours?",
        "--question", "Has the exposure been reported to a regulator?", "--now", "2026-12-07T09:33:00Z", *extra,
        code=code,
    )  # fmt: skip


def status(copy: Copy, now: str) -> dict:  # type: ignore[type-arg]
    done = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", now, "--format", "json")
    assert done.code == 0, done.err
    return done.json()  # type: ignore[no-any-return]


def test_an_enquiry_is_tracked_to_its_answer_by_the_published_statement(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    out = enquiry(copy)
    ident = out.split("logged enquiry ")[1].split()[0]
    again = enquiry(copy)
    assert f"enquiry {ident} already records it; nothing was written" in again
    entry = yaml.safe_load((copy.root / "incidents" / INCIDENT / "log" / f"{ident}.yaml").read_text("utf-8"))
    assert (
        entry["outlet"] == "The Morning Ledger"
        and entry["deadline"] == DEADLINE
        and len(entry["questions"]) == 2
    )
    listed = run_cli(
        "--root", str(copy.root), "signals", "enquiries", INCIDENT, "--now", "2026-12-07T10:00:00Z"
    )
    assert f"open     {ident}  The Morning Ledger (Hannah Price) via x, due {DEADLINE}" in listed.out
    # past the deadline with no answer: overdue, and an open item before close
    late = status(copy, "2026-12-07T12:30:00Z")
    assert late["enquiries"][0]["answer"] is None
    assert any(f"media enquiry {ident}" in item["what"] for item in late["to_close"])
    text = run_cli("--root", str(copy.root), "incident", "status", INCIDENT, "--now", "2026-12-07T12:30:00Z")
    assert f"{ident} The Morning Ledger (Hannah Price) via x" in text.out and "[OVERDUE]" in text.out
    # the answer is the published holding statement; an unpublished draft is refused
    preclear(copy, ("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"))
    draft_id, sha, _ = draft(copy, "mira-castellanos", *VALUES, at="2026-12-07T09:35:00Z")
    refused = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "statement",
                  "--draft", draft_id, "--now", "2026-12-07T09:40:00Z", code=1)  # fmt: skip
    assert "is not published" in refused
    cli(copy, "ines-marlowe", "incident", "approve", INCIDENT, draft_id, "--step", "lead", "--sha256", sha,
        "--now", "2026-12-07T09:36:00Z")  # fmt: skip
    cli(copy, "mira-castellanos", "incident", "publish", INCIDENT, draft_id, "--now", "2026-12-07T09:37:00Z")
    out = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "statement",
              "--draft", draft_id, "--now", "2026-12-07T09:40:00Z")  # fmt: skip
    assert "logged enquiry-answer" in out
    done = status(copy, "2026-12-07T12:30:00Z")
    assert done["enquiries"][0]["answer"] == "statement"
    assert not any("media enquiry" in item["what"] for item in done["to_close"])
    twice = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "decline",
                "--rationale", "x", "--now", "2026-12-07T09:41:00Z")  # fmt: skip
    assert "already answered (statement); nothing was written" in twice
    listed = run_cli("--root", str(copy.root), "signals", "enquiries", INCIDENT, "--format", "json",
                     "--now", "2026-12-07T12:30:00Z").json()  # fmt: skip
    assert listed[0]["state"] == "answered" and listed[0]["answered_at"] == "2026-12-07T09:40:00Z"


def test_a_q_and_a_line_must_be_approved_and_a_decline_needs_a_reason(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    ident = enquiry(copy).split("logged enquiry ")[1].split()[0]
    qa = tmp_path / "qa.txt"
    qa.write_text("We're looking into the post now and will update at 10:30 UTC.\n", "utf-8")
    out = cli(copy, "delphine-arceneaux", "incident", "draft", INCIDENT, "--channel", "press-statement",
              "--file", str(qa), "--now", "2026-12-07T09:34:00Z")  # fmt: skip
    qa_id = out.split("drafted ")[1].split()[0]
    refused = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "qa-line",
                  "--draft", qa_id, "--now", "2026-12-07T09:40:00Z", code=1)  # fmt: skip
    assert f"Q&A line {qa_id} is not approved" in refused
    no_reason = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "decline",
                    "--now", "2026-12-07T09:40:00Z", code=2)  # fmt: skip
    assert "a decline needs --rationale" in no_reason
    early = cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "decline",
                "--rationale", "no comment", "--at", "2026-12-07T09:30:00Z", "--now", "2026-12-07T09:40:00Z",
                code=2)  # fmt: skip
    assert "before the enquiry was received" in early
    cli(copy, "delphine-arceneaux", "signals", "answer", INCIDENT, ident, "--answer", "decline",
        "--rationale", "We do not comment while security verifies the claim", "--now", "2026-12-07T09:40:00Z")  # fmt: skip
    assert status(copy, "2026-12-07T12:30:00Z")["enquiries"][0]["answer"] == "decline"


def test_bad_enquiries_are_refused_and_hand_written_ones_checked(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    backwards = cli(
        copy, "delphine-arceneaux", "signals", "enquiry", INCIDENT, "--outlet", "Ledger", "--channel", "x",
        "--received", "2026-12-07T09:31:00Z", "--deadline", "2026-12-07T09:00:00Z", "--question", "?",
        "--now", "2026-12-07T09:33:00Z", code=2,
    )  # fmt: skip
    assert "is not after --received" in backwards
    unknown = cli(
        copy, "delphine-arceneaux", "signals", "enquiry", INCIDENT, "--outlet", "Ledger", "--channel", "fax",
        "--received", "2026-12-07T09:31:00Z", "--question", "?", "--now", "2026-12-07T09:33:00Z", code=2,
    )  # fmt: skip
    assert "no channel 'fax'" in unknown
    none = cli(
        copy, "delphine-arceneaux", "signals", "enquiry", INCIDENT, "--outlet", "Ledger", "--channel", "x",
        "--received", "2026-12-07T09:31:00Z", "--now", "2026-12-07T09:33:00Z", code=2,
    )  # fmt: skip
    assert "at least one --question" in none
    log = copy.root / "incidents" / INCIDENT / "log"
    (log / "20261207T093500Z-handwr.yaml").write_text(
        "kind: log-entry\ntype: enquiry\nat: '2026-12-07T09:35:00Z'\nby: delphine-arceneaux\n"
        "outlet: Ledger\nchannel: x\n",
        "utf-8",
    )
    check = run_cli("--root", str(copy.root), "check", str(log / "20261207T093500Z-handwr.yaml"))
    assert check.code == 1 and "received_at" in check.out and "questions" in check.out, check.out
    assert json.dumps(status(copy, "2026-12-07T09:40:00Z")["enquiries"])  # status still renders it


def test_talking_points_declare_facts_and_a_contradicting_statement_is_flagged() -> None:
    from clearance.incidents import talkingpoints
    from clearance.loading import load_text

    def points(ident: str, at: str, value: str, supersedes: str | None = None):  # type: ignore[no-untyped-def]
        extra = f"supersedes: {supersedes}\n" if supersedes else ""
        return load_text(
            f"kind: log-entry\ntype: talking-points\nat: '{at}'\nby: delphine-arceneaux\n{extra}"
            "points: [Say only what security confirmed.]\n"
            f"declares:\n  affected customers: {{value: '{value}', terms: [customers, accounts]}}\n"
            "  detected: {value: '2026-12-07', terms: [discovered, detected]}\n",
            f"incidents/x/log/{ident}.yaml",
        )

    first = points("20261207T092600Z-aaaaaa", "2026-12-07T09:26:00Z", "1,240")
    later = points("20261207T100000Z-bbbbbb", "2026-12-07T10:00:00Z", "1,300", "20261207T092600Z-aaaaaa")
    text = "About 1,300 customers were affected. We detected it on 2026-12-06. Call 0800 123 4567."
    at_0930 = talkingpoints.current(
        [first, later], __import__("datetime").datetime.fromisoformat("2026-12-07T09:30:00+00:00")
    )
    found = talkingpoints.contradictions(text, at_0930)
    assert [(c.fact, c.stated) for c in found] == [
        ("affected customers", ("1,300",)),
        ("detected", ("2026-12-06",)),
    ]
    at_1030 = talkingpoints.current(
        [first, later], __import__("datetime").datetime.fromisoformat("2026-12-07T10:30:00+00:00")
    )
    assert [e.data["declares"]["affected customers"]["value"] for e in at_1030] == ["1,300"]
    assert [c.fact for c in talkingpoints.contradictions(text, at_1030)] == ["detected"]
    # the declared value, written another way, is no contradiction; a sentence without a number neither
    assert talkingpoints.contradictions("1240 customers were affected. Customers are safe.", at_0930) == []


def test_check_flags_a_published_statement_against_the_talking_points(tmp_path: Path) -> None:
    copy = opened(tmp_path)
    log = copy.root / "incidents" / INCIDENT / "log"
    (log / "20261207T092600Z-tpoint.yaml").write_text(
        "kind: log-entry\ntype: talking-points\nat: '2026-12-07T09:26:00Z'\nby: delphine-arceneaux\n"
        "points: [No customer data was exposed.]\n"
        "declares:\n  exposed accounts: {value: '0', terms: [accounts]}\n",
        "utf-8",
    )
    text = tmp_path / "s.txt"
    text.write_text("We checked the post: 12 accounts were in the screenshot.\n", "utf-8")
    out = cli(copy, "mira-castellanos", "incident", "draft", INCIDENT, "--channel", "x", "--file", str(text),
              "--now", "2026-12-07T09:27:00Z")  # fmt: skip
    ident = out.split("drafted ")[1].split()[0]
    sha = out.split("sha256 ")[1].split()[0]
    for person, step in (("delphine-arceneaux", "pr"), ("rafael-quintero", "legal"), ("sunniva-aas", "privacy"),
                         ("ines-marlowe", "lead")):  # fmt: skip
        cli(copy, person, "incident", "approve", INCIDENT, ident, "--step", step, "--sha256", sha,
            "--now", "2026-12-07T09:28:00Z")  # fmt: skip
    cli(copy, "mira-castellanos", "incident", "publish", INCIDENT, ident, "--now", "2026-12-07T09:29:00Z")
    check = run_cli("--root", str(copy.root), "check", str(copy.root / "incidents" / INCIDENT))
    assert "TPT001" in check.out and "says 12 in" in check.out and "'exposed accounts' = '0'" in check.out, (
        check.out
    )
