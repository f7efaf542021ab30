"""clearance signals evaluate: exports read as they come (CSV with a preamble, JSON read
element by element, JSON Lines), bad rows named with file:line and skipped, structured
triggers evaluated, and --open opening the right incident at the right severity through
the incident workflow (a real git copy of this repository, people acting with their own
keys)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml

from clearance import config as config_mod
from clearance import signals
from clearance.incidents.session import open_session
from clearance.signals import rows, triggers
from cli_help_test import act_as
from conftest import run_cli
from readme_test import ROOT, Copy, reference_copy

DATA = Path(__file__).parent / "data" / "signals"
EXPORT = DATA / "viral-leak-mentions.csv"
FIRST_PULL = DATA / "viral-leak-first-pull.csv"
TICKETS = DATA / "helpdesk-tickets.json"
PROTOCOL = "viral-data-exposure-allegation"


@pytest.fixture(scope="module")
def index():  # type: ignore[no-untyped-def]
    return open_session(config_mod.load(ROOT)).index


def evaluate(index, *files: Path, root: Path = ROOT, fmt: str | None = None, until=None):  # type: ignore[no-untyped-def]
    return signals.evaluate([(f, f.name) for f in files], index, signals.settings(root), fmt, (), until)


def test_sample_export_meets_the_viral_protocol_at_sev2_with_its_rows(index) -> None:  # type: ignore[no-untyped-def]
    result = evaluate(index, EXPORT)
    assert result.rows == 764 and result.bad_count == 2 and result.notes_count == 1
    top = result.protocols[0]
    assert (top.protocol, top.severity) == (PROTOCOL, "sev2")
    met = {m.trigger.id: m for m in top.met}
    assert set(met) == {"high-reach-post", "mention-velocity", "negative-sentiment"}
    reach = met["high-reach-post"]
    assert reach.value == 182400 and reach.rows[0].where == "viral-leak-mentions.csv:28"
    assert reach.met_at == dt.datetime(2026, 12, 7, 9, 16, tzinfo=dt.UTC)
    volume = met["mention-velocity"]
    assert volume.value >= 500 and volume.severity == "sev2"  # below 2x the threshold: not sev1
    # every bad row is named with its line, none silently dropped
    assert [(b.line, b.skipped) for b in result.bad] == [(308, True), (428, True), (508, False)]
    assert "is not ISO 8601" in result.bad[0].reason and result.bad[1].reason == "no text"
    # only one protocol is met: a leak allegation is not a confirmed breach
    assert [p.protocol for p in result.protocols] == [PROTOCOL]


def test_cli_prints_protocol_severity_and_evidence_and_names_bad_rows(tmp_path: Path) -> None:
    done = run_cli("--root", str(ROOT), "signals", "evaluate", str(EXPORT))
    assert done.code == 0, done.err
    assert f"protocol {PROTOCOL}: sev2" in done.out
    assert "trigger high-reach-post (reach) met at 2026-12-07T09:16:00Z" in done.out
    assert "tests/data/signals/viral-leak-mentions.csv:28 2026-12-07T09:16:00Z reach 182,400" in done.out
    assert "viral-leak-mentions.csv:308: skipped: time 'yesterday'" in done.err
    assert "viral-leak-mentions.csv:508: reach 'n/a' is not a number; kept without reach" in done.err
    as_json = run_cli("--root", str(ROOT), "signals", "evaluate", str(EXPORT), "--output", "json").json()
    assert as_json["protocols"][0]["severity"] == "sev2" and as_json["skipped"] == 2


def test_double_the_threshold_escalates_to_sev1(index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = EXPORT.read_text("utf-8").replace(
        "@datawatchdog,Datawatchdog,182400", "@datawatchdog,Datawatchdog,250000"
    )
    bigger = tmp_path / "bigger.csv"
    bigger.write_text(text, "utf-8")
    top = evaluate(index, bigger).protocols[0]
    assert top.severity == "sev1"
    assert next(m for m in top.met if m.trigger.id == "high-reach-post").severity == "sev1"


def test_personal_data_in_leak_posts_is_found_by_the_scanner(index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = EXPORT.read_text("utf-8").splitlines()
    header = lines[:7]
    posts = [
        f"2026-12-07 09:3{n}:00,,https://x.com/u{n}/status/{n},x.com,negative,Twitter,en,United Kingdom,@u{n},U,10,,"
        f"the leaked export has customer{n}.name@northwind-traders.example in it"
        for n in range(4)
    ]
    sample = tmp_path / "sample.csv"
    sample.write_text("\n".join(header + posts) + "\n", "utf-8")
    result = evaluate(index, sample)
    top = result.protocols[0]
    assert top.protocol == PROTOCOL and top.severity == "sev1"
    assert [m.trigger.id for m in top.met] == ["sample-posted"]
    # the same texts without an address: the scanner finds nothing, no trigger
    sample.write_text("\n".join(header + [p.split(" has ")[0] + " is fake" for p in posts]) + "\n", "utf-8")
    assert evaluate(index, sample).protocols == ()


def test_json_export_streams_in_chunks_with_lines(index, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    whole = evaluate(index, TICKETS)
    assert whole.rows == 3 and [(b.line, b.reason[:10]) for b in whole.bad] == [(26, "time 'not ")]
    monkeypatch.setattr(rows, "CHUNK", 7)  # every value cut by a chunk boundary somewhere
    chunked = evaluate(index, TICKETS)
    assert (chunked.rows, [b.line for b in chunked.bad]) == (3, [26])
    got = list(rows.read(TICKETS, "t.json", signals.settings(ROOT)))
    kinds = [s.author_kind for s in got if isinstance(s, rows.Signal)]
    assert kinds == ["end-user", "journalist", "journalist"]
    assert [s.channel for s in got if isinstance(s, rows.Signal)] == ["email", "web", "email"]


def test_json_lines_bad_line_is_reported_and_the_rest_read(index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.jsonl"
    path.write_text(
        '{"created_at": "2026-12-07T09:00:00Z", "description": "leak?"}\n'
        '{"created_at": "2026-12-07T09:01:00Z", "description": \n'
        "\n"
        "[1, 2]\n"
        '{"created_at": 1796634120, "description": "epoch seconds"}\n',
        "utf-8",
    )
    got = list(rows.read(path, "t.jsonl", signals.settings(ROOT)))
    assert [(type(i).__name__, i.line) for i in got] == [
        ("Signal", 1),
        ("BadRow", 2),
        ("BadRow", 4),
        ("Signal", 5),
    ]
    assert got[-1].moment == dt.datetime.fromtimestamp(1796634120, dt.UTC)


def test_a_mapping_in_clearance_yaml_reads_another_export(index, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "clearance.yaml").write_text(
        "signals:\n  formats:\n    support-desk:\n      columns:\n        at: Opened\n        text: [Body, Summary]\n"
        "        author_kind: Reporter type\n      timezone: Europe/London\n      author_kinds: {Media: journalist}\n",
        "utf-8",
    )
    export = tmp_path / "desk.csv"
    export.write_text(
        "Opened;Summary;Reporter type\n"
        "07/12/2026 09:00;leak?;Media\n"
        "2026-12-07 09:05;Is customer data exposed in the leak?;Media\n"
        "2026-12-07 09:06;;Media\n",
        "utf-8",
    )
    got = list(rows.read(export, "desk.csv", signals.settings(tmp_path)))
    assert [(type(i).__name__, i.line) for i in got] == [("BadRow", 2), ("Signal", 3), ("BadRow", 4)]
    signal = got[1]
    assert isinstance(signal, rows.Signal) and signal.author_kind == "journalist"
    assert signal.moment == dt.datetime(2026, 12, 7, 9, 5, tzinfo=dt.UTC)  # London is UTC in December


def test_unreadable_exports_are_clear_errors_not_tracebacks(tmp_path: Path) -> None:
    missing = run_cli("--root", str(ROOT), "signals", "evaluate", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "nope.csv: no such file" in missing.err
    other = tmp_path / "other.csv"
    other.write_text("a,b,c\n1,2,3\n", "utf-8")
    headless = run_cli("--root", str(ROOT), "signals", "evaluate", str(other))
    assert headless.code == 2 and "other.csv:1:1: no header row with a time and a text column" in headless.err
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"tickets": [{"created_at": "2026-12-07T09:00:00Z", "description": "x"},\n  {"oops"\n', "utf-8"
    )
    bad = run_cli("--root", str(ROOT), "signals", "evaluate", str(broken))
    assert bad.code == 2 and "broken.json:3:1: not valid JSON" in bad.err
    utf16 = tmp_path / "utf16.csv"
    utf16.write_text(EXPORT.read_text("utf-8"), "utf-16")
    assert run_cli("--root", str(ROOT), "signals", "evaluate", str(utf16)).code == 0
    unknown = run_cli("--root", str(ROOT), "signals", "evaluate", str(EXPORT), "--format", "brandwatch")
    assert unknown.code == 2 and "--format 'brandwatch': no such format" in unknown.err
    flag = run_cli("--root", str(ROOT), "signals", "evaluate", str(EXPORT), "--exercise")
    assert flag.code == 2 and "go with --open" in flag.err


def test_rows_after_now_are_skipped_as_bad_rows(index) -> None:  # type: ignore[no-untyped-def]
    result = evaluate(index, EXPORT, until=dt.datetime(2026, 12, 7, 9, 24, tzinfo=dt.UTC))
    assert result.rows == 130 and result.bad_count > 600
    assert "after now" in result.bad[0].reason
    assert [m.trigger.id for m in result.protocols[0].met] == ["high-reach-post", "negative-sentiment"]


def test_velocity_compares_a_window_with_the_one_before() -> None:
    trigger = triggers.Trigger("p", "v", "velocity", 3.0, 600, "sev2", min_rows=5)
    acc = triggers.Accumulator(trigger)
    start = 1_796_630_400
    for n in range(4):  # 4 rows in the first ten minutes
        acc.add(rows.Signal("f", n, start + n * 60, "x"), lambda _t: frozenset())
    assert acc.result() is None
    for n in range(12):  # 12 in the next ten: three times as many
        acc.add(rows.Signal("f", 10 + n, start + 600 + n * 30, "x"), lambda _t: frozenset())
    met = acc.result()
    assert met is not None and met.value >= 3.0


# ----------------------------------------------------------------- --open, end to end


def _run(copy: Copy, person: str, *args: str) -> str:
    act_as(copy, person)
    done = run_cli("--root", str(copy.root), *args)
    assert done.code == 0, (args, done.err)
    return done.out


def test_open_opens_the_right_incident_at_the_right_severity_and_escalates_later(tmp_path: Path) -> None:
    copy = reference_copy(tmp_path)
    pull = str(copy.root / "tests" / "data" / "signals" / FIRST_PULL.name)  # as the repository holds it
    out = _run(
        copy, "oskar-lindqvist", "signals", "evaluate", pull, "--open", "--exercise",
        "--slug", "signals-drill", "--now", "2026-12-07T09:25:00Z",
    )  # fmt: skip
    ident = "2026-12-07-signals-drill"
    assert f"opened incident {ident} at sev2" in out
    incident = yaml.safe_load((copy.root / "incidents" / ident / "incident.yaml").read_text("utf-8"))
    assert incident["protocol"] == PROTOCOL and incident["severity"] == "sev2" and incident["exercise"]
    assert incident["timestamps"]["detected"] == "2026-12-07T09:16:00Z"  # the first signal
    logs = sorted((copy.root / "incidents" / ident / "log").glob("*.yaml"))
    entries = [yaml.safe_load(p.read_text("utf-8")) for p in logs]
    observations = [e for e in entries if e["type"] == "observation"]
    assert {o["trigger"]["trigger"] for o in observations} == {"high-reach-post", "negative-sentiment"}
    reach = next(o for o in observations if o["trigger"]["trigger"] == "high-reach-post")
    assert reach["evidence"][0] == {
        "row": "tests/data/signals/viral-leak-first-pull.csv:28",
        "at": "2026-12-07T09:16:00Z",
        "url": "https://x.com/datawatchdog/status/1865000000000000020",
        "reach": 182400,
    }
    assert "AGAIN" not in json.dumps(entries)  # rows are linked; their text stays in the export
    # the same pull again writes nothing new
    again = _run(
        copy, "oskar-lindqvist", "signals", "evaluate", pull, "--open", "--exercise",
        "--now", "2026-12-07T09:26:00Z",
    )  # fmt: skip
    assert f"updated incident {ident} at sev2" in again and "already logged: high-reach-post" in again
    assert len(list((copy.root / "incidents" / ident / "log").glob("*.yaml"))) == len(logs)
    # a later pull in which the post reached twice the threshold escalates the open incident
    later = tmp_path / "later.csv"
    later.write_text(
        EXPORT.read_text("utf-8").replace(
            "@datawatchdog,Datawatchdog,182400", "@datawatchdog,Datawatchdog,250000"
        ),
        "utf-8",
    )
    esc = _run(
        copy, "oskar-lindqvist", "signals", "evaluate", str(later), "--open", "--exercise",
        "--now", "2026-12-07T10:20:00Z",
    )  # fmt: skip
    assert f"escalated incident {ident} at sev1" in esc and "logged observation" in esc
    status = run_cli("--root", str(copy.root), "incident", "status", ident, "--now", "2026-12-07T10:21:00Z",
                     "--format", "json").json()  # fmt: skip
    assert status["severity"] == "sev1"
    assert status["metrics"]["first_signal"] == "2026-12-07T09:16:00+00:00"
    assert status["metrics"]["time_to_page_seconds"] == 9 * 60
    assert status["metrics"]["time_to_page_state"] == "met"
    check = run_cli("--root", str(copy.root), "check", f"incidents/{ident}")
    assert "SCH" not in check.out and "APR" not in check.out, check.out


def test_open_refuses_nothing_met_and_a_scribe_cannot_hide_who_opened(tmp_path: Path) -> None:
    copy = reference_copy(tmp_path)
    quiet = tmp_path / "quiet.csv"
    quiet.write_text("\n".join(EXPORT.read_text("utf-8").splitlines()[:20]) + "\n", "utf-8")
    act_as(copy, "oskar-lindqvist")
    before = sorted((copy.root / "incidents").iterdir())
    done = run_cli(
        "--root", str(copy.root), "signals", "evaluate", str(quiet), "--open", "--now", "2026-12-07T09:30:00Z"
    )
    assert done.code == 1 and "meet no protocol's trigger; nothing was opened" in done.err
    assert sorted((copy.root / "incidents").iterdir()) == before
    # recorded for someone else: a scribe's record, with the scribe named
    out = _run(
        copy, "oskar-lindqvist", "signals", "evaluate", str(FIRST_PULL), "--open", "--exercise",
        "--as", "ines-marlowe", "--slug", "scribe-drill", "--now", "2026-12-07T09:25:00Z",
    )  # fmt: skip
    assert "opened incident" in out
    folder = copy.root / "incidents" / "2026-12-07-scribe-drill"
    observation = next(
        yaml.safe_load(p.read_text("utf-8"))
        for p in sorted((folder / "log").glob("*.yaml"))
        if "trigger" in p.read_text("utf-8")
    )
    assert observation["by"] == "ines-marlowe" and observation["recorded_by"] == "oskar-lindqvist"


@pytest.mark.parametrize("fault", ["after-write:1", "after-write:2", "after-write:3"])
def test_open_killed_between_writes_finishes_exactly_once_when_run_again(tmp_path: Path, fault: str) -> None:
    """Killed after incident.yaml, after the declaration, after the first observation: the
    same command again leaves one incident, one declaration, one observation per trigger."""
    import subprocess

    copy = reference_copy(tmp_path)
    act_as(copy, "oskar-lindqvist")
    pull = str(copy.root / "tests" / "data" / "signals" / FIRST_PULL.name)
    command = ["clearance", "signals", "evaluate", pull, "--open", "--exercise", "--slug", "signals-drill",
               "--now", "2026-12-07T09:25:00Z"]  # fmt: skip
    killed = subprocess.run(command, cwd=copy.root, env={**copy.env(), "CLEARANCE_FAULT": fault},
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert killed.returncode == 86, killed.stderr
    again = subprocess.run(
        command, cwd=copy.root, env=copy.env(), capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stderr
    folder = copy.root / "incidents" / "2026-12-07-signals-drill"
    entries = [yaml.safe_load(p.read_text("utf-8")) for p in sorted((folder / "log").glob("*.yaml"))]
    assert [e["type"] for e in entries].count("status-change") == 1
    triggers_logged = sorted(e["trigger"]["trigger"] for e in entries if e["type"] == "observation")
    assert triggers_logged == ["high-reach-post", "negative-sentiment"]
    check = run_cli("--root", str(copy.root), "check", str(folder))
    assert "error" not in check.out.split("checked")[0], check.out
