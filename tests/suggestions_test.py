"""'Did you mean ...?' and the list of valid values, shared by findings and commands."""

from __future__ import annotations

from clearance import suggestions


def test_closest_needs_a_close_enough_match() -> None:
    assert suggestions.closest("legal-counsl", ["pr-lead", "legal-counsel"]) == "legal-counsel"
    assert suggestions.closest("zzz", ["pr-lead", "legal-counsel"]) is None
    assert suggestions.closest(3, ["3"]) is None  # only text is matched
    assert suggestions.closest("contnet", ["content"], cutoff=0.7) == "content"


def test_did_you_mean_is_a_hint_or_nothing() -> None:
    assert suggestions.did_you_mean("chek", ["check", "rules"]) == "did you mean 'check'?"
    assert suggestions.did_you_mean("xyz", ["check", "rules"]) is None


def test_hint_lists_a_short_list_in_the_order_given() -> None:
    assert suggestions.hint("x-lead", ["pr-lead", "crisis-lead"], "roles") == (
        " (did you mean 'pr-lead'?); roles: pr-lead, crisis-lead"
    )
    assert suggestions.hint("zzz", ["a", "b"], "roles") == "; roles: a, b"


def test_hint_leaves_out_a_long_list_but_still_suggests() -> None:
    many = [f"person-{n}" for n in range(suggestions.SHORT + 1)]
    assert suggestions.hint("person-1x", many, "people") == " (did you mean 'person-1'?)"
    assert suggestions.hint("zzz", many, "people") == ""
    assert suggestions.hint("zzz", many[: suggestions.SHORT], "people").startswith("; people: person-0,")


def test_hint_says_when_there_is_nothing_yet() -> None:
    assert suggestions.hint("holding", [], "templates") == "; there are no templates yet"


def test_other_accepted_spellings_are_suggested_but_not_listed() -> None:
    ids = ["20260314T091000Z-ab12cd"]
    said = suggestions.hint("ab12cx", ids, "drafts", also=["ab12cd"])
    assert said == " (did you mean 'ab12cd'?); drafts: 20260314T091000Z-ab12cd"
