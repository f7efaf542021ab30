"""The scanner on text nobody here wrote (issue 18): one test per failure kind the
issue lists, each with fresh examples (not the held-out set's), plus the bounds on
cost: input cap, hit cap, overlap resolution.

Card numbers and IBANs are built here with valid check digits from invented
digits, so no test depends on a published test number."""

from __future__ import annotations

import io
import itertools
import json
import shutil
import sys
from pathlib import Path

import pytest
from stdnum import luhn

from clearance import config as config_mod
from clearance import engine
from clearance.index import Index
from clearance.scan import Scanner, scanner_for
from clearance.scan.detectors import RawHit, resolve_overlaps, run_all
from clearance.scan.secrets import is_placeholder
from conftest import DATA, Run, edit, run_cli

REPO = DATA / "scan" / "repo"


@pytest.fixture(scope="module")
def index() -> Index:
    return engine.load_repository(config_mod.load(REPO.resolve())).index


@pytest.fixture(scope="module")
def scanner(index: Index) -> Scanner:
    return scanner_for(index)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(REPO, target)
    return target


def card(prefix: str, length: int, sep: str = " ", group: int = 4) -> str:
    body = (prefix + "73019284561203948576")[: length - 1]
    digits = body + luhn.calc_check_digit(body)
    return sep.join(digits[i : i + group] for i in range(0, length, group))


def iban(country: str, bban: str) -> str:
    moved = bban + country + "00"
    check = 98 - int("".join(str(int(c, 36)) for c in moved)) % 97
    return f"{country}{check:02d}{bban}"


def found(text: str, region: str | None = None) -> list[tuple[str, str, str]]:
    return [(h.detector, text[h.start : h.end], h.confidence) for h in run_all(text, region)]


# --- phones ---------------------------------------------------------------------


def test_a_possible_phone_number_is_a_hit_even_when_not_valid() -> None:
    # +1 555 area code: possible (ten digits) but no valid US number.
    assert found("ring her on +1 555 610 2284 after lunch") == [("phone", "+1 555 610 2284", "plausible")]


def test_local_numbers_are_read_for_the_texts_region() -> None:
    text = "Ring mig på 070-612 33 48 i kväll."
    (hit,) = [h for h in run_all(text, "SE") if h.detector == "phone"]
    assert (text[hit.start : hit.end], hit.kind, hit.confidence) == ("070-612 33 48", "se", "validated")
    # The region is taken from a locale as people write it.
    assert [h.name for h in Scanner(None).scan(text, region="sv_SE")] == ["se"]


def test_a_number_after_a_dot_abbreviation_is_still_a_phone() -> None:
    assert [d for d, _, _ in found("Tel.+44 161 496 0311 or Tel.0161 496 0311")] == ["phone", "phone"]


@pytest.mark.parametrize(
    "written",
    ["001-734-555-0162x4471", "(734)555-0162x447", "734.555.0162", "+1-734-555-0162", "+44 (0)161 496 0875"],
)
def test_phone_formats_of_generated_data_with_extensions(written: str) -> None:
    assert found(f"contact {written} today") == [("phone", written, found(written)[0][2])]


def test_numbers_that_are_not_phones_stay_quiet() -> None:
    for text in (
        "Receipt no. 0045-2210-8836 from the Leeds store.",
        "The ISBN is 978-1-4028-9462-6.",
        "Invoice INV-2026-004417, due 2026-04-01.",
        "Tracking 1Z 999 AA1 01 2345 6784 is in transit.",
        "Reference numbers 2026-03-14-0001 to 2026-03-14-0450.",
        "Version 2.4.1, build 20260314117, is live.",
        "Record MRN 00482213 was merged.",
    ):
        assert found(text) == [], text


# --- cards and IBANs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        (card("6761", 12), "maestro"),
        (card("2131", 15, group=5), "jcb"),
        (card("1800", 15, sep="-", group=5), "jcb"),
        (card("4", 16, sep="."), "visa"),
        (card("51", 16, sep="/"), "mastercard"),
        (card("4", 16, sep="_"), "visa"),
        (card("62", 19), "unionpay"),
    ],
)
def test_cards_of_every_length_range_and_separator(number: str, kind: str) -> None:
    (hit,) = run_all(f"charged to {number} twice")
    assert (hit.detector, hit.kind, hit.confidence) == ("payment-card", kind, "validated")


def test_a_luhn_run_outside_known_ranges_is_plausible_unless_labelled_as_a_reference() -> None:
    number = card("9", 16)
    assert found(f"the number {number} was read out") == [("payment-card", number, "plausible")]
    assert found(f"order number {number} shipped") == []


def test_an_iban_beats_the_card_like_digits_inside_it() -> None:
    # A Belgian IBAN whose twelve digits also pass Luhn, as a 12-digit card would.
    for n in range(100000, 200000):
        bban = f"{n:010d}"[:10]
        bban += f"{(int(bban) % 97) or 97:02d}"
        if luhn.is_valid(bban):
            break
    value = iban("BE", bban)
    spaced = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
    assert found(f"refund to {spaced} please") == [("iban", spaced, "validated")]


def test_a_lower_case_or_mixed_case_iban_is_found() -> None:
    value = iban("GB", "NWBK60161331926819")
    for written in (
        value.lower(),
        value.title(),
        " ".join(value.lower()[i : i + 4] for i in range(0, 22, 4)),
    ):
        assert [d for d, _, _ in found(f"iban: {written}")] == ["iban"], written


# --- national ids ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DNI 87654321A en el correo", "es-dni"),  # check letter wrong (X)
        ("SSN 932-18-4470 was printed", "us-ssn"),  # area 9xx: an ITIN, never a valid SSN
        ("HKID B765432(1) on the label", "hk-id"),  # no stdnum module
        ("NRIC T0412345Z leaked", "sg-nric"),  # check letter wrong
        ("CPF 123.456.789-00 no recibo", "br-cpf"),  # check digits wrong
        ("passport no. 812204773 at the desk", "passport"),
    ],
)
def test_shape_plausible_ids_are_hits_whatever_their_checksum(text: str, kind: str) -> None:
    hits = [h for h in run_all(text) if h.detector == "national-id"]
    assert [h.kind for h in hits] == [kind]
    assert hits[0].confidence in ("plausible", "contextual")


def test_a_valid_checksum_raises_confidence() -> None:
    (hit,) = run_all("BSN 123456782 in the export")
    assert (hit.kind, hit.confidence) == ("nl-bsn", "validated")


# --- terms -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "#SentinelVault",
        "SentinelVault",
        "Sentinel-Vault",
        "sentinel_vault",
        "Sentinel  vault",
        "SENTINEL.VAULT",
        "Sentinel\u200bVault",
        "Senti<!-- x -->nel Vault",
        "#SentinelVaults",
    ],
)
def test_terms_survive_social_media_spelling(scanner: Scanner, written: str) -> None:
    text = f"rumour: {written} is down"
    hits = [h for h in scanner.scan(text) if h.detector == "term"]
    assert [h.classes for h in hits] == [("security-details",)], written
    # Positions point into the original text.
    assert text[hits[0].start : hits[0].end] == hits[0].matched
    assert hits[0].matched.lstrip("#").lower().startswith("senti")


def test_an_html_comment_between_words_is_still_scanned(scanner: Scanner) -> None:
    text = "Update below. <!-- db_password = Kq7!vR2z --> More soon."
    assert [(h.detector, h.matched) for h in scanner.scan(text)] == [("secret", "Kq7!vR2z")]


def test_inflections_hashtag_joins_and_boundaries(scanner: Scanner) -> None:
    assert [h.matched for h in scanner.scan("two ironclades and #IroncladLaunch")] == [
        "ironclades",
        "Ironclad",
    ]
    assert scanner.scan("ironcladding and unironclad are other words") == []


def test_fuzzy_matching_only_where_a_class_opts_in(scanner: Scanner, repo: Path) -> None:
    # proprietary-information opts in: one edit away from a 6+ letter term matches.
    (hit,) = scanner.scan("the Bluefim launch")  # substitution
    assert (hit.classes, hit.confidence, hit.label) == (
        ("proprietary-information",),
        "plausible",
        "term (near match)",
    )
    assert [h.matched for h in scanner.scan("Projekt Halcyon and Nightar")] == ["Projekt Halcyon", "Nightar"]
    # security-details does not opt in: "Ironclda" is not Ironclad.
    assert scanner.scan("Ironcald rollout") == []
    # Terms shorter than six letters never match fuzzily.
    edit(repo / "policies/data-classes/security-details.yaml", "disclosure:", "  fuzzy: true\ndisclosure:")
    fuzzy = Scanner(engine.load_repository(config_mod.load(repo)).index)
    assert [h.matched for h in fuzzy.scan("Ironclaf rollout")] == ["Ironclaf"]


# --- obfuscated contacts --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "mail me: tomasz.wrona [at] example [dot] org",
        "mail me: tomasz.wrona(at)example(dot)org",
        "mail me: tomasz.wrona {at} example {dot} org",
        "email tomasz.wrona at example dot org",
        "write to tomasz at posteo dot de",
        "TOMASZ AT EXAMPLE DOT ORG",
        "tomasz.wrona @ example.org",
    ],
)
def test_obfuscated_email_addresses(text: str) -> None:
    assert [d for d, _, _ in found(text)] == ["email"], text


@pytest.mark.parametrize(
    "text",
    ["we meet at noon at the store", "tickets at example dot com slash events", "look at the dot on the map"],
)
def test_at_and_dot_in_prose_are_not_addresses(text: str) -> None:
    assert found(text) == []


# --- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "password_prod = hK8#vQ1z",
        "REDIS_PASSWORD_STAGING: 'Lm4!pX9w'",
        "dbPassword=(Gr33n-Tea)",
        "admin_pwd => [x9Y8-z7W6]",
        'private_key_pem: "{Ab3$cD4%}"',
        "the vpn password is Wq2*er5T",
        "secret_v3 = ['Zz9!aa1', 'Qq8@bb2']",
    ],
)
def test_keyword_assignments_with_suffixed_keys_and_any_value_shape(text: str) -> None:
    assert [d for d, _, _ in found(text)] == ["secret"], text


@pytest.mark.parametrize(
    ("token", "kind"),
    [
        ("glpat-Rt5yUi8oPa2sDf4gHj6k", "gitlab-token"),
        ("sk-proj-Zq8Wx2Cv6Bn0Mk4Lj7Hg5Fd3Sa1Qw9Er", "openai-key"),
        ("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", "sendgrid-key"),
        ("pypi-AgEIcHlwaS5vcmcCJDk1ZTY3ZjQ4LTI1ZGEtNGU2Mi1iNWQ3LWE4YzE0ZTcxZDM5OQ", "pypi-token"),
        ("ODc2NTQzMjEwOTg3NjU0MzIx.Gh7Kp2.Wq9Er3Ty5Ui7Op1As3Df5Gh7Jk9Lz1Xc3V", "discord-token"),
        ("AC7e1d3c5b9a2f4e6d8c0b2a4f6e8d0c2b", "twilio-key"),
        ("ABIAQ7WE3RT5YU9IO2PA", "aws-access-key"),
        ("ACCAZ1XC3VB5NM7LK9JH", "aws-access-key"),
    ],
)
def test_bare_provider_tokens(token: str, kind: str) -> None:
    (hit,) = run_all(f"found this in the paste: {token} yikes")
    assert (hit.detector, hit.kind) == ("secret", kind)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("chimp key 5f2a9c0b7d3e4f1a8b6c2d9e0f7a3b4c-us14 leaked", "mailchimp-key"),
        ("bot token 7712345678:AAGk2pLq9ZxY3wVb8NcR1tS5uQ7eD0fH4jM here", "telegram-token"),
        ("AccountKey=" + "Qz8/xV2+" * 11 + ";EndpointSuffix=core.windows.net", "azure-storage-key"),
    ],
)
def test_formats_from_the_detect_secrets_library(text: str, kind: str) -> None:
    assert [(h.detector, h.kind) for h in run_all(text)] == [("secret", kind)]


@pytest.mark.parametrize(
    "text",
    [
        "api_key = insert_key_here",
        "password: changeme",
        "token=<your-token>",
        "SECRET=xxxxxxxxxxxx",
        "API_TOKEN=your_token_here",
        "password = ${DB_PASSWORD}",
        "export GITLAB_TOKEN=glpat-XXXXXXXXXXXXXXXXXXXX",
        "password_min_length = 12",
        "token_expiry_minutes: 30",
        "please reset your password: it takes a minute",
    ],
)
def test_placeholders_and_settings_are_not_secrets(text: str) -> None:
    assert found(text) == [], text


def test_placeholder_words() -> None:
    assert all(
        is_placeholder(v) for v in ("insert_key_here", "changeme", "<your-token>", "xxxx", "REPLACE_ME")
    )
    assert not any(is_placeholder(v) for v in ("hK8#vQ1z", "Summer2026!", "9f8e7d6c5b4a"))


# --- claims ----------------------------------------------------------------------------


def test_claims_need_the_declaring_class_approval(scanner: Scanner) -> None:
    text = "We can say today that no personal data was affected, and we have notified the regulator."
    hits = [h for h in scanner.scan(text) if h.detector == "claim"]
    assert [(h.name, h.classes) for h in hits] == [
        ("no-personal-data", ("customer-personal-data",)),
        ("regulator-notified", ("regulatory-statements",)),
    ]
    assert scanner.requirement("customer-personal-data").chain == "personal-data-statement"
    assert hits[0].masked == "no personal data"  # a sentence, shown as written
    # The claim data is reusable: what each claim says, and where it is declared.
    says = {c.name: c.says for c in scanner.claims}
    assert says["regulator-notified"] == "the regulator has been notified"


def test_statements_that_make_no_claim_stay_quiet(scanner: Scanner) -> None:
    for text in (
        "We are checking whether any personal data was involved.",
        "Our privacy notice explains how we use personal data.",
        "We will work with the regulator if asked.",
    ):
        assert [h for h in scanner.scan(text) if h.detector == "claim"] == [], text


def test_reference_content_declares_claims_for_personal_data_and_regulators() -> None:
    root = Path(__file__).resolve().parent.parent
    reference = scanner_for(engine.load_repository(config_mod.load(root)).index)
    text = "No customer data was exposed. The ICO has been notified."
    assert [h.classes for h in reference.scan(text) if h.detector == "claim"] == [
        ("customer-personal-data",),
        ("regulatory-statements",),
    ]


def test_claim_examples_are_checked(repo: Path) -> None:
    edit(repo / "policies/data-classes/customer-personal-data.yaml", "- All data is safe.", "- Data is fine.")
    result = run_cli("--root", str(repo), "check", "--format", "json")
    rules = [(f["rule"], f["path"]) for f in json.loads(result.out)["findings"]]
    assert ("DCL006", "policies/data-classes/customer-personal-data.yaml") in rules


def test_a_broken_claim_pattern_is_named(repo: Path) -> None:
    edit(repo / "policies/data-classes/regulatory-statements.yaml", "(?:has|have) been", "(?:has|have been")
    result = run_cli("--root", str(repo), "check", "--format", "json")
    found_rules = {f["rule"] for f in json.loads(result.out)["findings"]}
    assert "DSC007" in found_rules


# --- overlaps and bounded cost -------------------------------------------------------


def test_overlaps_resolve_by_confidence_then_specificity() -> None:
    hits = [
        RawHit(0, 20, "payment-card", "card", "plausible"),
        RawHit(5, 12, "phone", "gb", "validated"),
        RawHit(30, 52, "payment-card", "visa", "validated"),
        RawHit(28, 56, "iban", "iban", "validated"),
        RawHit(60, 70, "phone", "us", "plausible"),
    ]
    kept = resolve_overlaps(hits)
    assert [(h.detector, h.start) for h in kept] == [("phone", 5), ("iban", 28), ("phone", 60)]


def test_many_overlapping_hits_keep_a_consistent_answer() -> None:
    hits = [RawHit(i, i + 10, "phone", "gb", "plausible") for i in range(0, 20000, 3)]
    kept = resolve_overlaps(hits)
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))
    assert len(kept) == len(range(0, 20000, 12))


def test_scan_refuses_input_over_the_configured_cap(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = repo / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "limits:\n  max_file_bytes: 2000\n", "utf-8")
    big = repo / "big.txt"
    big.write_text("Nothing here. " * 200, "utf-8")
    result = run_cli("--root", str(repo), "scan", str(big))
    assert result.code == 2
    assert "larger than the scan limit of 2,000 bytes" in result.err
    assert "limits.max_file_bytes" in result.err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"x" * 5000), encoding="utf-8"))
    result = run_cli("--root", str(repo), "scan", "-")
    assert result.code == 2 and "<stdin>: larger than the scan limit" in result.err


def test_hits_per_file_are_capped_with_a_summary_line(repo: Path) -> None:
    draft = repo / "dump.txt"
    draft.write_text("".join(f"api_key_{i} = Zq{i}x!Wv{i}\n" for i in range(250)), "utf-8")
    result = run_cli("--root", str(repo), "scan", str(draft))
    assert result.code == 1
    lines = result.out.splitlines()
    assert sum(1 for line in lines if "(secret assignment)" in line) == 200
    assert any("50 more hits not listed (security-details 50)" in line for line in lines)
    assert "250 hits in 1 file" in result.out
    every = run_cli("--root", str(repo), "scan", "--max-hits", "0", "--format", "json", str(draft))
    payload = json.loads(every.out)
    assert payload["summary"]["hits"] == payload["summary"]["listed"] == 250
    bad = run_cli("--root", str(repo), "scan", "--max-hits", "-1", str(draft))
    assert bad.code == 2 and "negative" in bad.err


def test_check_lists_a_capped_number_of_findings_per_template(repo: Path) -> None:
    template = repo / "protocols/templates/holding-statement.md"
    body = "".join(f"Contact CU-{i:06d} today, or call 0800 123 4567.\n" for i in range(130))
    template.write_text(template.read_text("utf-8") + body, "utf-8")
    result = run_cli("--root", str(repo), "check", "--format", "json", str(template))
    every = json.loads(result.out)["findings"]
    findings = [f for f in every if f["rule"] == "DSC001"]
    assert len(findings) == 101
    assert "30 more hits in this document" in findings[-1]["message"]
    # Allowed hits (the public support line) are listed for the record, capped the same way.
    allowed = [f for f in every if f["rule"] == "DSC006"]
    assert len(allowed) == 101
    assert "more hits in this document" in allowed[-1]["message"]


def test_locale_from_the_cli_and_the_incident(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Ring mig på 070-612 33 48 i kväll."

    def scan(*args: str) -> Run:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
        return run_cli("--root", str(repo), "scan", "--format", "json", *args, "-")

    assert [h["name"] for h in json.loads(scan("--locale", "sv-SE").out)["hits"]] == ["se"]
    incident = repo / "incidents/ex-2026-breach/incident.yaml"
    edit(incident, "exercise: true", "exercise: true\nlocale: sv-SE")
    assert [h["name"] for h in json.loads(scan("--incident", "ex-2026-breach").out)["hits"]] == ["se"]
    hit = json.loads(scan("--locale", "sv-SE").out)["hits"][0]
    assert hit["confidence"] == "validated"


def test_a_draft_making_a_claim_must_declare_the_class_that_needs_sign_off(repo: Path) -> None:
    log = repo / "incidents/ex-2026-breach/log"
    (log / "20260314T103000Z-k9m2.yaml").write_text(
        'kind: log-entry\ntype: draft\nat: "2026-03-14T10:30:00Z"\nby: alice\nchannel: x-social\n'
        "data_classes: []\ntext: |\n  Update: no customer data was taken,\n  and the ICO has been notified.\n",
        "utf-8",
    )
    result = run_cli(
        "--root", str(repo), "check", "--format", "json", str(log / "20260314T103000Z-k9m2.yaml")
    )
    found_here = [
        (f["rule"], f["line"], f["message"].split(" (")[0])
        for f in json.loads(result.out)["findings"]
        if f["rule"] == "DSC001"
    ]
    assert found_here == [
        ("DSC001", 8, "draft text touches 'customer-personal-data'"),
        ("DSC001", 9, "draft text touches 'regulatory-statements'"),
    ]
