"""The disclosure scanner against a labelled corpus of crisis statements.

Recall is measured over the sentences that must trigger plus the evasions (the same
leaks written with look-alike letters, invisible characters, Markdown, fullwidth
digits); the false-positive rate over the sentences that must not trigger. The
thresholds are the issue's: recall at least 0.98, false positives at most 2 %.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance import config as config_mod
from clearance import engine
from clearance.scan import Hit, Scanner, scanner_for

DATA = Path(__file__).parent / "data" / "scan"
MIN_RECALL = 0.98
MAX_FALSE_POSITIVE_RATE = 0.02


@pytest.fixture(scope="module")
def corpus() -> dict[str, Any]:
    loaded = yaml.safe_load((DATA / "corpus.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    repo = engine.load_repository(config_mod.load((DATA / "repo").resolve()))
    assert not repo.findings, [str(f.location) + " " + f.message for f in repo.findings]
    return scanner_for(repo.index)


def _counted(scanner: Scanner, text: str) -> list[Hit]:
    counted, _allowed = scanner.split(scanner.scan(text))
    return counted


def _caught(scanner: Scanner, item: dict[str, str]) -> bool:
    expect = item["expect"]
    return any(expect in hit.classes or expect == hit.detector for hit in _counted(scanner, item["text"]))


def test_corpus_is_large_enough(corpus: dict[str, Any], scanner: Scanner) -> None:
    assert len(corpus["trigger"]) >= 150
    assert len(corpus["no_trigger"]) >= 150
    assert len(corpus["evasion"]) >= 30
    # Every expectation names a data class of the fixture repository.
    known = set(scanner.requirements)
    for item in corpus["trigger"] + corpus["evasion"]:
        assert item["expect"] in known, item


def test_recall_and_false_positive_rate(corpus: dict[str, Any], scanner: Scanner) -> None:
    positives = corpus["trigger"] + corpus["evasion"]
    missed = [item["text"] for item in positives if not _caught(scanner, item)]
    evasions_missed = [item["text"] for item in corpus["evasion"] if not _caught(scanner, item)]
    flagged = {
        text: [f"{h.label} {h.masked}" for h in _counted(scanner, text)] for text in corpus["no_trigger"]
    }
    false_positives = {text: hits for text, hits in flagged.items() if hits}
    recall = 1 - len(missed) / len(positives)
    fp_rate = len(false_positives) / len(corpus["no_trigger"])
    print(
        f"\ndisclosure scanner: recall {recall:.3f} ({len(positives) - len(missed)}/{len(positives)}, "
        f"evasions {len(corpus['evasion']) - len(evasions_missed)}/{len(corpus['evasion'])}), "
        f"false positives {fp_rate:.3%} ({len(false_positives)}/{len(corpus['no_trigger'])})"
    )
    for text in missed:
        print(f"  missed: {text!r}")
    for text, hits in false_positives.items():
        print(f"  false positive: {text!r} -> {hits}")
    assert recall >= MIN_RECALL, missed
    assert fp_rate <= MAX_FALSE_POSITIVE_RATE, false_positives


def test_every_evasion_is_caught_and_located_in_the_original(
    corpus: dict[str, Any], scanner: Scanner
) -> None:
    for item in corpus["evasion"]:
        hits = [h for h in _counted(scanner, item["text"]) if item["expect"] in h.classes]
        assert hits, item
        for hit in hits:
            # Offsets and the 1-based column refer to the text as written.
            assert item["text"][hit.start : hit.end] == hit.matched
            assert hit.col == hit.start + 1


def test_public_numbers_are_allowed_not_ignored(scanner: Scanner) -> None:
    # The support line is found, then set aside by a justified allowance: it is
    # listed, never silently skipped.
    hits = scanner.scan("Call us on +44 20 7946 0000.")
    counted, allowed = scanner.split(hits)
    assert counted == []
    assert [(h.detector, a.by) for h, a in allowed] == [("phone", "carol")]
    assert "published customer support line" in allowed[0][1].reason
