"""The disclosure scanner against two labelled sets.

``corpus.yaml`` is the original set, written alongside the detectors. ``heldout.yaml``
was written and committed before the detectors of issue 18 changed, in the formats
public text comes in (support posts, social posts, press statements, paste-bin
dumps), and is never used to tune them. Both are scored per detector kind (the
original set's recall per section); the thresholds are the issue's: recall at least
0.98 and false positives at most 2 % for every kind, on both sets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from clearance import config as config_mod
from clearance import engine
from clearance.scan import Scanner, scanner_for
from clearance.scan.evaluate import KindScore, counted, score_corpus, score_heldout

DATA = Path(__file__).parent / "data" / "scan"
MIN_RECALL = 0.98
MAX_FALSE_POSITIVE_RATE = 0.02
# Every failure kind the issue lists must be represented in the held-out set.
HELDOUT_KINDS = {"phone", "payment-card", "iban", "national-id", "term", "email", "secret", "claim"}


@pytest.fixture(scope="module")
def corpus_source() -> str:
    return (DATA / "corpus.yaml").read_text("utf-8")


@pytest.fixture(scope="module")
def corpus(corpus_source: str) -> dict[str, Any]:
    loaded = yaml.safe_load(corpus_source)
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def heldout() -> dict[str, Any]:
    loaded = yaml.safe_load((DATA / "heldout.yaml").read_text("utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    repo = engine.load_repository(config_mod.load((DATA / "repo").resolve()))
    assert not repo.findings, [str(f.location) + " " + f.message for f in repo.findings]
    return scanner_for(repo.index)


def _report(name: str, scores: dict[str, KindScore]) -> list[str]:
    failures = []
    print(f"\n{name}:")
    for key, score in scores.items():
        print(
            f"  {key:32} recall {score.recall:.3f} ({score.caught}/{score.positives})  "
            f"false positives {score.fp_rate:.3%} ({score.flagged}/{score.negatives})"
        )
        for text in score.missed:
            print(f"    missed: {text!r}")
        for text in score.false_positives:
            print(f"    false positive: {text!r}")
        if score.positives and score.recall < MIN_RECALL:
            failures.append(f"{name} {key}: recall {score.recall:.3f} < {MIN_RECALL}: {score.missed}")
        if score.negatives and key != "fp:any" and score.fp_rate > MAX_FALSE_POSITIVE_RATE:
            failures.append(f"{name} {key}: false positives {score.fp_rate:.3%}: {score.false_positives}")
    return failures


def test_sets_are_large_enough(corpus: dict[str, Any], heldout: dict[str, Any], scanner: Scanner) -> None:
    assert len(corpus["trigger"]) >= 150
    assert len(corpus["no_trigger"]) >= 150
    assert len(corpus["evasion"]) >= 30
    assert len(heldout["positives"]) >= 100
    assert len(heldout["negatives"]) >= 90
    known = set(scanner.requirements)
    for item in corpus["trigger"] + corpus["evasion"]:
        assert item["expect"] in known, item
    kinds = set()
    for item in heldout["positives"]:
        for kind, data_class in item["expect"].items():
            assert data_class == "*" or data_class in known, item
            kinds.add(kind)
    assert kinds >= HELDOUT_KINDS


def test_original_set_recall_and_false_positives_per_kind(
    corpus: dict[str, Any], corpus_source: str, scanner: Scanner
) -> None:
    failures = _report("original set", score_corpus(scanner, corpus, corpus_source))
    assert not failures, failures


def test_heldout_set_recall_and_false_positives_per_kind(heldout: dict[str, Any], scanner: Scanner) -> None:
    failures = _report("held-out set", score_heldout(scanner, heldout))
    assert not failures, failures


def test_every_evasion_is_caught_and_located_in_the_original(
    corpus: dict[str, Any], scanner: Scanner
) -> None:
    for item in corpus["evasion"]:
        hits = [h for h in counted(scanner, item["text"]) if item["expect"] in h.classes]
        assert hits, item
        for hit in hits:
            # Offsets and the 1-based column refer to the text as written.
            assert item["text"][hit.start : hit.end] == hit.matched
            assert hit.col == hit.start + 1


def test_heldout_hits_point_into_the_text_as_written(heldout: dict[str, Any], scanner: Scanner) -> None:
    for item in heldout["positives"]:
        for hit in counted(scanner, item["text"], item.get("locale")):
            assert item["text"][hit.start : hit.end] == hit.matched


def test_public_numbers_are_allowed_not_ignored(scanner: Scanner) -> None:
    # The support line is found, then set aside by a justified allowance: it is
    # listed, never silently skipped.
    hits = scanner.scan("Call us on +44 20 7946 0000.")
    found, allowed = scanner.split(hits)
    assert found == []
    assert [(h.detector, a.by) for h, a in allowed] == [("phone", "carol")]
    assert "published customer support line" in allowed[0][1].reason
