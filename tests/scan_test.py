"""The disclosure scanner: normalisation, detectors, classification, masking,
allowances, `clearance scan`, the DSC rules, and running with the network blocked."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clearance import config as config_mod
from clearance import engine
from clearance.index import Index
from clearance.model import Location
from clearance.scan import Allowance, Scanner, classes_in, scan_text, scanner_for
from clearance.scan.detectors import run_all
from clearance.scan.fields import align
from clearance.scan.normalise import normalise
from conftest import DATA, Run, edit, run_cli

REPO = DATA / "scan" / "repo"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def index() -> Index:
    return engine.load_repository(config_mod.load(REPO.resolve())).index


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(REPO, target)
    return target


def scan_stdin(monkeypatch: pytest.MonkeyPatch, text: str, *args: str) -> Run:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8")), encoding="utf-8"))
    return run_cli("--root", str(REPO), "scan", *args, "-")


# --- normalisation ---------------------------------------------------------------


def test_plain_ascii_is_returned_untouched() -> None:
    norm = normalise("Nothing to see here, 14:30 on 2026-03-14.")
    assert norm.offsets is None
    assert norm.span(8, 10) == (8, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nightjаr", "Nightjar"),  # Cyrillic a
        ("Prοject", "Project"),  # Greek omicron
        ("ＣＵ－００４５１２", "CU-004512"),  # fullwidth letters, digits and dash
        ("CU–004512 CU—1 CU−2", "CU-004512 CU-1 CU-2"),  # en dash, em dash, minus
        ("4111\u200b1111\u00ad1111\u20601111\ufeff", "4111111111111111"),  # invisible format characters
        ("caf\u00e9 cafe\u0301", "cafe cafe"),  # accents dropped, precomposed or not
        ("**CU-00**4512", "CU-004512"),
        ("_Nightjar_ and api_key and ghp_x", "Nightjar and api_key and ghp_x"),
        ("`10.0.0.1` ~~gone~~", "10.0.0.1 gone"),
        ("[Halcyon](https://x.example/h) page", "Halcyon https://x.example/h page"),
        ("jane&#64;example.com &amp; <b>bold</b>", "jane@example.com & bold"),
        ("CU\\-004512", "CU-004512"),
        ("5 * 3 = 15", "5 * 3 = 15"),
    ],
)
def test_normalisation(text: str, expected: str) -> None:
    assert normalise(text).text == expected


def test_offsets_point_back_to_the_original_characters() -> None:
    text = "x **Ni\u200bght**jаr y"
    norm = normalise(text)
    assert norm.text == "x Nightjar y"
    start = norm.text.index("Nightjar")
    ostart, oend = norm.span(start, start + len("Nightjar"))
    assert text[ostart:oend] == "Ni\u200bght**jаr"


def test_placeholders_are_blanked_only_when_asked() -> None:
    assert normalise("Hi {{ customer_email }}!", placeholders=True).text == "Hi  !"
    assert "customer_email" in normalise("Hi {{ customer_email }}!").text
    assert normalise("{{ name | upper }} {{ a.b }}", placeholders=True).text == "   "


def test_braces_do_not_hide_a_value(index: Index) -> None:
    hits = scan_text("Card {{ 4111 1111 1111 1111 }} and {{jane.doe@gmail.com}}", index)
    assert [h.detector for h in hits] == ["payment-card", "email"]


@pytest.mark.parametrize(
    ("source", "value"),
    [
        ('text: "a \\"b\\" c"\n', 'a "b" c'),
        ("text: 'it''s here'\n", "it's here"),
        ("text: |\n  one\n  two\n", "one\ntwo\n"),
        ("text: >-\n  one\n  two\n", "one two"),
    ],
)
def test_yaml_values_align_with_their_source(source: str, value: str) -> None:
    mapped = align(value, source, source.index(" ") + 1)
    for offset, char in enumerate(value):
        if not char.isspace():
            assert source[mapped[offset]] == char, (offset, char)


# --- detectors -------------------------------------------------------------------


def kinds(text: str) -> list[tuple[str, str]]:
    return [(h.detector, text[h.start : h.end]) for h in run_all(text)]


@pytest.mark.parametrize(
    ("text", "detector", "value"),
    [
        ("mail jane.doe@gmail.com now", "email", "jane.doe@gmail.com"),
        ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
        ("call (415) 555-2671 now", "phone", "(415) 555-2671"),
        ("card 4111-1111-1111-1111 now", "payment-card", "4111-1111-1111-1111"),
        ("amex 3782 822463 10005 now", "payment-card", "3782 822463 10005"),
        ("iban GB82 WEST 1234 5698 7654 32 THANKS", "iban", "GB82 WEST 1234 5698 7654 32"),
        ("ssn 536-90-2211 now", "national-id", "536-90-2211"),
        ("nino AB 12 34 56 C now", "national-id", "AB 12 34 56 C"),
        ("cf RSSMRA85T10A562S now", "national-id", "RSSMRA85T10A562S"),
        ("host 10.20.30.40 now", "ip-address", "10.20.30.40"),
        ("host 2001:db8::8a2e:370:7334 now", "ip-address", "2001:db8::8a2e:370:7334"),
        ("key AKIAIOSFODNN7EXAMPLE now", "secret", "AKIAIOSFODNN7EXAMPLE"),
        (
            "tok 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 now",
            "secret",
            "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",
        ),
        ("tok xoxb-123456789012-abcdefghij now", "secret", "xoxb-123456789012-abcdefghij"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "secret", "-----BEGIN OPENSSH PRIVATE KEY-----"),
        ("password=hunter22 now", "secret", "hunter22"),
        (
            "db postgres://app:pw123@db.example.net/x now",
            "url-credentials",
            "postgres://app:pw123@db.example.net",
        ),
    ],
)
def test_builtin_detectors_find(text: str, detector: str, value: str) -> None:
    assert (detector, value) in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails Luhn",
        "order 9111 1111 1111 1111 is no card (prefix 9)",
        "iban GB82 WEST 1234 5698 7654 33 has a bad check",
        "ssn 000-12-3456 and 666-12-3456 and 123-00-4567 are never issued",
        "ip 999.10.10.10 is not an address",
        "version 10.2.0.1 and v4.12.0.3 are versions",
        "at 10:30:45 on 2026-03-14",
        "please reset your password: the link is in the app",
        "password=******** and api_key=<redacted>",
        "order number 01234567 and case 12345678",
        "NINO prefixes GB 12 34 56 A and QQ123456C are never issued",
    ],
)
def test_builtin_detectors_stay_quiet(text: str) -> None:
    assert kinds(text) == []


def test_a_card_number_is_not_also_a_phone_number() -> None:
    assert [h.detector for h in run_all("card 4111 1111 1111 1111")] == ["payment-card"]


def test_url_credentials_win_over_the_email_inside_them() -> None:
    assert [h.detector for h in run_all("ftp://bob:secret1@files.example.net/x")] == ["url-credentials"]


# --- classification, masking, allowances -------------------------------------------


def test_builtin_hits_map_to_every_class_that_lists_them(index: Index) -> None:
    (hit,) = scan_text("mail jane.doe@gmail.com", index)
    assert hit.classes == ("customer-personal-data",)
    (hit,) = scan_text("card 4111 1111 1111 1111", index)
    assert hit.classes == ("payment-data",)


def test_without_data_classes_hits_are_unclassified_not_silent() -> None:
    (hit,) = scan_text("mail jane.doe@gmail.com")
    assert hit.classes == ("unclassified",)


def test_terms_match_whole_words_case_insensitively(index: Index) -> None:
    assert [h.classes for h in scan_text("the NIGHTJAR launch", index)] == [("proprietary-information",)]
    # A plural is the term (issue 18); a longer word that merely starts with it is not.
    assert [h.matched for h in scan_text("nightjars sing at dusk", index)] == ["nightjars"]
    assert scan_text("Nightjarvis and kestrelling are other words", index) == []
    assert [h.normalised for h in scan_text("Project\n  Halcyon", index)] == ["Project\n  Halcyon"]


def test_patterns_are_compiled_once_per_index(index: Index) -> None:
    assert scanner_for(index) is scanner_for(index)
    assert {p.name for p in scanner_for(index).patterns} >= {"customer-id", "internal-host"}


def test_classes_in_is_what_the_approval_rule_uses(index: Index) -> None:
    text = "CU-004512 paid with 4111 1111 1111 1111 during the Nightjar pilot; call +44 20 7946 0000."
    assert classes_in(text, index) == {"customer-personal-data", "payment-data", "proprietary-information"}
    assert classes_in("Call +44 20 7946 0000 for help.", index) == set()  # allowed public line


def test_masks_never_reveal_the_value(index: Index) -> None:
    masked = {
        h.detector: h.masked
        for h in scan_text(
            "CU-004512 4111 1111 1111 1111 AKIAIOSFODNN7EXAMPLE postgres://a:pw123@db.example.net", index
        )
    }
    assert masked["pattern"] == "CU•••••12"
    assert masked["payment-card"] == "••••••••••••1111"
    assert masked["secret"] == "<secret, 20 characters>"
    assert masked["url-credentials"] == "<url-credentials, 33 characters>"


def test_allowances_match_exact_text_and_respect_their_detector(index: Index) -> None:
    scanner = scanner_for(index)
    here = Location("x.md", 1, 1)
    hits = scanner.scan("Mail jane.doe@gmail.com or call +44 20 7946 0958.")
    by_email = Allowance("jane.doe@gmail.com", "carol", "Her own published contact.", "email", here)
    by_phone_detector = Allowance("jane.doe@gmail.com", "carol", "Wrong detector named.", "phone", here)
    by_class = Allowance("+44 20 7946 0958", "carol", "Class-wide.", "customer-personal-data", here)
    counted, allowed = scanner.split(hits, [by_email, by_class])
    assert counted == [] and [a.detector for _, a in allowed] == ["email", "customer-personal-data"]
    counted, allowed = scanner.split(hits, [by_phone_detector])
    assert [h.detector for h in counted] == ["email", "phone"] and allowed == []
    # A near miss is not an allowance.
    assert scanner.split(hits, [Allowance("jane.doe@gmail.co", "carol", "Typo.", None, here)])[1] == []


def test_requirements_come_from_the_disclosure_rule_and_chain(index: Index) -> None:
    scanner = scanner_for(index)
    personal = scanner.requirement("customer-personal-data")
    # The chain's security-lead step applies only to security-details: not listed.
    assert personal.roles == ("legal-counsel", "privacy-officer")
    assert (
        personal.describe()
        == "needs approval: legal-counsel, privacy-officer (chain personal-data-statement)"
    )
    assert scanner.requirement("payment-data").describe() == "must not be published (disclosure rule 'never')"


def test_a_bad_pattern_is_reported_not_fatal(repo: Path) -> None:
    edit(repo / "policies/data-classes/payment-data.yaml", r"regex: '\bMID-\d{9}\b'", "regex: '(unclosed'")
    result = engine.check(config_mod.load(repo))
    dsc007 = [f for f in result.findings if f.rule == "DSC007"]
    assert [(f.location.path, f.location.line) for f in dsc007] == [
        ("policies/data-classes/payment-data.yaml", 14)
    ]
    assert "does not compile" in dsc007[0].message
    assert Scanner(result.repository.index).scan("card 4111 1111 1111 1111")  # the rest still works


# --- clearance scan ------------------------------------------------------------------

STATEMENT = (
    "Update on the incident.\n"
    "We have contacted customer CU-004512 and press@example.com.\n"
    "Refund to 4111 1111 1111 1111; the Nightjаr rollout is paused.\n"
)


def test_scan_stdin_prints_located_masked_hits_with_their_approvals(monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan_stdin(monkeypatch, STATEMENT)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[0] == (
        "<stdin>:2:28: customer-personal-data (pattern customer-id) 'CU•••••12' — needs approval: "
        "legal-counsel, privacy-officer (chain personal-data-statement)"
    )
    assert (
        lines[1]
        == "<stdin>:3:11: payment-data (payment-card) '••••••••••••1111' — must not be published (disclosure rule 'never')"
    )
    assert lines[2] == (
        "<stdin>:3:36: proprietary-information (term) 'Ni••••ar' — needs approval: legal-counsel, ceo "
        "(chain executive-statement)"
    )
    assert "Allowed (not counted):" in result.out
    assert "<stdin>:2:42: customer-personal-data (email) 'pr•••••••••••••om' — allowed by carol" in result.out
    assert result.out.rstrip().endswith("3 hits in 1 file (1 allowed)")
    for secret in ("CU-004512", "4111 1111 1111 1111", "Nightjаr"):
        assert secret not in result.out


def test_scan_clean_text_exits_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    result = scan_stdin(monkeypatch, "We are sorry. Update at 15:30; version 2.4.1 fixes it.\n")
    assert (result.code, result.out) == (0, "no hits in 1 file\n")


def test_scan_missing_file_is_a_usage_error() -> None:
    result = run_cli("--root", str(REPO), "scan", "nope.txt")
    assert result.code == 2
    assert result.err.strip() == "clearance: error: nope.txt: no such file"
    assert run_cli("--root", str(REPO), "scan").code == 2


def test_scan_json(monkeypatch: pytest.MonkeyPatch) -> None:
    payload = scan_stdin(monkeypatch, STATEMENT, "--format", "json").json()
    assert payload["summary"] == {"files": 1, "hits": 3, "listed": 3, "allowed": 1}
    first = payload["hits"][0]
    assert {k: first[k] for k in ("path", "line", "column", "detector", "name", "masked", "classes")} == {
        "path": "<stdin>",
        "line": 2,
        "column": 28,
        "detector": "pattern",
        "name": "customer-id",
        "masked": "CU•••••12",
        "classes": ["customer-personal-data"],
    }
    assert first["requires"][0]["roles"] == ["legal-counsel", "privacy-officer"]
    assert payload["allowed"][0]["allowed_by"] == "carol"
    assert "CU-004512" not in json.dumps(payload)


def test_scan_sarif(monkeypatch: pytest.MonkeyPatch) -> None:
    log = scan_stdin(monkeypatch, STATEMENT, "--format", "sarif").json()
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["DSC001"]
    results = run["results"]
    assert len(results) == 4
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 28}
    assert next(r for r in results if "suppressions" in r)["suppressions"][0]["kind"] == "inSource"
    assert "4111 1111 1111 1111" not in json.dumps(log)


def test_scan_log_entries_points_into_the_yaml_file(repo: Path) -> None:
    log = repo / "incidents/ex-2026-breach/log"
    (log / "20260314T101500Z-q1w2.yaml").write_text(
        textwrap.dedent(
            """\
            kind: log-entry
            type: draft
            at: "2026-03-14T10:15:00Z"
            by: alice
            channel: x-social
            text: "Escaped \\u00e9 then \\"quoted\\" CU-004512 here"
            """
        ),
        "utf-8",
    )
    os.chdir(repo)
    result = run_cli(
        "scan", "--format", "json", *sorted(str(p.relative_to(repo)) for p in log.glob("*.yaml"))
    )
    places = {(Path(h["path"]).name, h["line"], h["column"], h["detector"]) for h in result.json()["hits"]}
    assert ("20260314T091500Z-a1b2.yaml", 8, 32, "email") in places  # literal block, line 2 of the value
    assert ("20260314T093000Z-c3d4.yaml", 6, 25, "pattern") in places  # double-quoted
    assert ("20260314T093000Z-c3d4.yaml", 6, 52, "pattern") in places
    assert ("20260314T094500Z-e5f6.yaml", 9, 15, "payment-card") in places  # folded block
    assert ("20260314T101500Z-q1w2.yaml", 6, 39, "pattern") in places  # after escapes
    assert "publication" not in result.out
    assert "1 of 5 documents have no statement text to scan" not in result.err
    assert "20260314T100000Z-g7h8.yaml: no statement text to scan" in result.err


def test_scan_template_skips_placeholders_and_applies_allowances() -> None:
    result = run_cli("--root", str(REPO), "scan", str(REPO / "protocols/templates/holding-statement.md"))
    assert result.code == 0
    assert (
        "holding-statement.md:32:1: customer-personal-data (phone) '08•••••••••67' — allowed by carol"
        in result.out
    )
    leaky = run_cli("--root", str(REPO), "scan", str(REPO / "protocols/templates/leaky-update.md"))
    assert leaky.code == 1
    assert ":21:51: customer-personal-data (pattern customer-id)" in leaky.out
    assert ":22:10: proprietary-information (term)" in leaky.out


def test_scan_with_incident_allowances(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Call our drill hotline on +1 212 555 0199.\n"
    assert scan_stdin(monkeypatch, text).code == 1
    allowed = scan_stdin(monkeypatch, text, "--incident", "ex-2026-breach")
    assert allowed.code == 0
    assert "allowed by carol: The exercise's fictional hotline number" in allowed.out
    assert scan_stdin(monkeypatch, text, "--incident", "nope").code == 2


def test_scan_broken_yaml_as_plain_text(tmp_path: Path) -> None:
    draft = tmp_path / "draft.yaml"
    draft.write_text("text: [unclosed\nwrite to jane.doe@gmail.com\n", "utf-8")
    result = run_cli("--root", str(REPO), "scan", str(draft))
    assert result.code == 1
    assert f"{draft}:2:10: customer-personal-data (email)" in result.out
    assert "scanned as plain text" in result.err


def test_scan_rejects_non_utf8(tmp_path: Path) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_bytes(b"caf\xe9\n")
    result = run_cli("--root", str(REPO), "scan", str(draft))
    assert result.code == 2
    assert "is not valid UTF-8" in result.err


# --- the DSC rules -------------------------------------------------------------------


def dsc(repo: Path) -> list[tuple[str, str, int, int]]:
    result = engine.check(config_mod.load(repo))
    return [
        (f.rule, f.location.path.rsplit("/", 1)[-1], f.location.line, f.location.col)
        for f in result.findings
        if f.rule.startswith("DSC")
    ]


def test_check_reports_disclosure_findings(repo: Path) -> None:
    assert dsc(repo) == [
        ("DSC006", "20260314T091500Z-a1b2.yaml", 9, 21),  # allowed by the incident, listed
        ("DSC001", "20260314T093000Z-c3d4.yaml", 6, 25),  # customer id, class not declared
        ("DSC001", "20260314T093000Z-c3d4.yaml", 6, 52),  # internal host, class not declared
        ("DSC005", "20260314T094500Z-e5f6.yaml", 9, 15),  # published card number
        ("DSC006", "holding-statement.md", 32, 1),
        ("DSC004", "leaky-update.md", 17, 5),  # allowance matching nothing
        ("DSC002", "leaky-update.md", 19, 13),  # reason "ok"
        ("DSC001", "leaky-update.md", 21, 51),
        ("DSC001", "leaky-update.md", 22, 10),
    ]


def test_declaring_the_classes_clears_the_draft_finding(repo: Path) -> None:
    entry = repo / "incidents/ex-2026-breach/log/20260314T093000Z-c3d4.yaml"
    edit(
        entry,
        "channel: x-social\n",
        "channel: x-social\ndata_classes: [customer-personal-data, security-details]\n",
    )
    assert [r for r in dsc(repo) if r[1] == entry.name] == []


def test_unclassified_hits_in_drafts_are_warned(repo: Path) -> None:
    edit(
        repo / "policies/data-classes/security-details.yaml",
        "builtin: [ip-address, secret, url-credentials]",
        "builtin: [secret, url-credentials]",
    )
    edit(
        repo / "incidents/ex-2026-breach/log/20260314T093000Z-c3d4.yaml",
        "see db-07",
        "see 10.20.30.40 and db-07",
    )
    findings = engine.check(config_mod.load(repo)).findings
    (warning,) = [f for f in findings if f.rule == "DSC003"]
    assert (warning.location.line, warning.location.col) == (6, 52)
    assert "ip-address '10•••••••40', which no data class covers" in warning.message


def test_the_reference_repository_has_no_unexplained_hits() -> None:
    result = engine.check(config_mod.load(ROOT))
    bad = [
        f"{f.location}: {f.rule} {f.message}"
        for f in result.findings
        if f.rule in ("DSC001", "DSC003", "DSC005")
    ]
    assert bad == []


# --- offline ---------------------------------------------------------------------------

BLOCK_NETWORK = """\
import socket

class _Blocked(OSError):
    pass

def _refuse(*args, **kwargs):
    raise _Blocked("network access is blocked in this test")

class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        _refuse()

socket.socket = _NoSocket
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
"""


def _offline_env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(BLOCK_NETWORK, "utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT / "tools")])
    env["NO_COLOR"] = "1"
    return env


def test_scanner_works_with_the_network_blocked(tmp_path: Path) -> None:
    env = _offline_env(tmp_path)
    probe = subprocess.run(
        [sys.executable, "-c", "import socket; socket.socket()"], env=env, capture_output=True, text=True
    )
    assert probe.returncode != 0 and "network access is blocked" in probe.stderr
    command = [sys.executable, "-m", "clearance", "--root", str(REPO), "scan", "-"]
    done = subprocess.run(command, env=env, input=STATEMENT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "customer-personal-data (pattern customer-id) 'CU•••••12'" in done.stdout
    assert "3 hits in 1 file" in done.stdout


@pytest.mark.skipif(shutil.which("unshare") is None, reason="unshare is not installed")
def test_scanner_works_in_a_network_namespace(tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode != 0:
        pytest.skip("unprivileged network namespaces are not available here")
    env = _offline_env(tmp_path)
    command = ["unshare", "-rn", sys.executable, "-m", "clearance", "--root", str(REPO), "scan", "-"]
    done = subprocess.run(command, env=env, input=STATEMENT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "payment-data (payment-card) '••••••••••••1111'" in done.stdout
