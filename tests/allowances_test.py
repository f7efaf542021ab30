"""Standing allowances (issue 15): an ``allow:`` entry lets its data class through only
once every step of that class's disclosure chain approved that exact allowance, signed
and bound to the committer like every decision; a ``never`` class takes none at all.

Real git repositories with several committers and real SSH keys (the fixture of
tests/approvals_bypass_test.py): sam writes drafts and asks for allowances, priya (PR)
and lena (legal) approve drafts, dan is the data protection officer whose chain
(privacy-review) an email address in a statement needs."""

from __future__ import annotations

import pytest
import yaml

from approvals_bypass_test import INCIDENT, Repo, approve_all
from approvals_bypass_test import repo as repo
from clearance import signing
from clearance.incidents import allowances
from conftest import Run, acting_as, run_cli

PRESS = "press@fixture.example"  # an email address: customer-personal-data, chain privacy-review
REASON = "the press office's public address, printed on the contact page"


def allow(repo: Repo, match: str, by: str = "sam", reason: str = REASON) -> dict[str, str]:
    item = {"match": match, "by": by, "reason": reason}
    path = repo.root / "incidents" / INCIDENT / "incident.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data.setdefault("allow", []).append(item)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), "utf-8")
    return item


def allowance(repo: Repo, who: str, *args: str, now: str) -> Run:
    """``clearance allowance ...`` as ``who`` on their machine (approve: with their key)."""
    extra = ["--key", str(repo.keys / who), "--now", now] if args[0] == "approve" else []
    with acting_as(repo.root, who):
        return run_cli("--root", str(repo.root), "allowance", *args, *extra)


def drafted(repo: Repo, text: str) -> tuple[str, str]:
    body = repo.root.parent / "statement.txt"
    body.write_text(text, "utf-8")
    out = repo.ok("sam", "draft", INCIDENT, "--channel", "x", "--file", str(body), now="2026-03-14T09:10:00Z")
    repo.commit("sam", "2026-03-14T09:10:30+00:00", "draft")
    return out.split()[1], out.split("sha256 ")[1].split()[0]


def publish(repo: Repo, draft: str) -> Run:
    return repo.act("sam", "publish", INCIDENT, draft, now="2026-03-14T09:30:00Z")


def rules(repo: Repo, rule: str) -> list[dict[str, object]]:
    return repo.findings(rule)


def test_an_allowance_nobody_approved_lowers_nothing_and_check_says_so(repo: Repo) -> None:
    item = allow(repo, PRESS)
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the press address")  # the draft's own author
    draft, sha = drafted(repo, f"Journalists can reach us at {PRESS}.")
    approve_all(repo, draft, sha)
    refused = publish(repo, draft)
    assert refused.code == 1, refused.out
    assert "'dpo'" in refused.err and "data-protection-officer" in refused.err
    [pending] = rules(repo, "ALW001")
    assert allowances.digest(INCIDENT, item)[:12] in str(pending["message"])
    assert "step 'dpo'" in str(pending["message"])
    listed = allowance(repo, "sam", "list", INCIDENT, now="2026-03-14T09:20:00Z")
    assert "NOT effective" in listed.out and allowances.digest(INCIDENT, item) in listed.out


def test_approved_by_the_class_chain_the_allowed_match_needs_no_privacy_step(repo: Repo) -> None:
    item = allow(repo, PRESS)
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the press address")
    sha256 = allowances.digest(INCIDENT, item)
    done = allowance(repo, "dan", "approve", INCIDENT, sha256, "--role", "data-protection-officer",
                     now="2026-03-14T09:06:00Z")  # fmt: skip
    assert done.code == 0, done.err
    repo.commit("dan", "2026-03-14T09:06:30+00:00", "dan approves the allowance")
    [entry] = [yaml.safe_load(p.read_text("utf-8")) for p in repo.log().glob("*.yaml")
               if "allowance-approval" in p.read_text("utf-8")]  # fmt: skip
    assert entry["allowance"] == sha256 and "BEGIN SSH SIGNATURE" in entry["signature"]
    draft, sha = drafted(repo, f"Journalists can reach us at {PRESS}.")
    approve_all(repo, draft, sha)  # PR and legal only: no data protection officer
    published = publish(repo, draft)
    assert published.code == 0, published.err
    repo.commit("sam", "2026-03-14T09:30:30+00:00", "publish")
    result = repo.check()
    assert [f for f in result.json()["findings"] if f["severity"] == "error"] == [], result.out
    assert not rules(repo, "ALW001")


def test_only_the_allowed_match_is_let_through(repo: Repo) -> None:
    item = allow(repo, PRESS)
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the press address")
    done = allowance(repo, "dan", "approve", INCIDENT, allowances.digest(INCIDENT, item), "--role",
                     "data-protection-officer", now="2026-03-14T09:06:00Z")  # fmt: skip
    assert done.code == 0, done.err
    repo.commit("dan", "2026-03-14T09:06:30+00:00")
    draft, sha = drafted(repo, f"Write to {PRESS} or to jane.doe@fixture.example.")
    approve_all(repo, draft, sha)
    refused = publish(repo, draft)
    assert refused.code == 1 and "'dpo'" in refused.err, refused.out


def test_an_allowance_changed_after_approval_needs_new_approvals(repo: Repo) -> None:
    item = allow(repo, PRESS)
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the press address")
    done = allowance(repo, "dan", "approve", INCIDENT, allowances.digest(INCIDENT, item), "--role",
                     "data-protection-officer", now="2026-03-14T09:06:00Z")  # fmt: skip
    assert done.code == 0, done.err
    repo.commit("dan", "2026-03-14T09:06:30+00:00")
    path = repo.root / "incidents" / INCIDENT / "incident.yaml"
    path.write_text(path.read_text("utf-8").replace(PRESS, "ceo.private@fixture.example"), "utf-8")
    repo.commit("sam", "2026-03-14T09:07:00+00:00", "widen the allowance")
    draft, sha = drafted(repo, "Journalists can reach us at ceo.private@fixture.example.")
    approve_all(repo, draft, sha)
    assert publish(repo, draft).code == 1
    assert rules(repo, "ALW003") and rules(repo, "ALW001")


def test_an_approval_written_by_someone_else_does_not_count(repo: Repo) -> None:
    """sam writes dan's approval by hand, even signed with dan's key (stolen), and
    commits it: the commit's author is not dan, so it counts for nothing."""
    item = allow(repo, PRESS)
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the press address")
    entry = {
        "kind": "log-entry", "type": "allowance-approval", "at": "2026-03-14T09:06:00Z", "by": "dan",
        "allowance": allowances.digest(INCIDENT, item), "role": "data-protection-officer", "step": "dpo",
    }  # fmt: skip
    key = signing.resolve_key(str(repo.keys / "dan"), repo.root)
    entry["signature"] = signing.sign(signing.payload(INCIDENT, entry), key)
    (repo.log() / "20260314T090600Z-danaaa.yaml").write_text(yaml.safe_dump(entry), "utf-8")
    repo.commit("sam", "2026-03-14T09:06:30+00:00", "dan said yes")
    draft, sha = drafted(repo, f"Journalists can reach us at {PRESS}.")
    approve_all(repo, draft, sha)
    assert publish(repo, draft).code == 1
    assert [f for f in rules(repo, "APR007") if "dan" in str(f["message"])]
    assert rules(repo, "ALW001")


def test_the_person_who_asked_and_outsiders_cannot_approve(repo: Repo) -> None:
    item = allow(repo, PRESS, by="dan")
    repo.commit("dan", "2026-03-14T09:05:00+00:00", "allow the press address")
    sha256 = allowances.digest(INCIDENT, item)
    own = allowance(repo, "dan", "approve", INCIDENT, sha256, "--role", "data-protection-officer",
                    now="2026-03-14T09:06:00Z")  # fmt: skip
    assert own.code == 1 and "separation of duties" in own.err
    outsider = allowance(repo, "sam", "approve", INCIDENT, sha256, "--role", "data-protection-officer",
                         now="2026-03-14T09:06:00Z")  # fmt: skip
    assert outsider.code == 1 and "not a member" in outsider.err
    short = allowance(repo, "priya", "approve", INCIDENT, sha256[:12], "--role", "data-protection-officer",
                      now="2026-03-14T09:06:00Z")  # fmt: skip
    assert short.code == 2 and "full hash" in short.err


def test_a_never_class_takes_no_allowance(repo: Repo) -> None:
    item = allow(repo, "Bluefin", reason="the code name is out in the press already")
    repo.commit("sam", "2026-03-14T09:05:00+00:00", "allow the code name")
    [never] = rules(repo, "ALW002")
    assert never["severity"] == "error" and "never" in str(never["message"])
    refused = allowance(repo, "lena", "approve", INCIDENT, allowances.digest(INCIDENT, item), "--role",
                        "legal-counsel", now="2026-03-14T09:06:00Z")  # fmt: skip
    assert refused.code == 1 and "never" in refused.err
    # and it cannot be switched off: ALW002 is an enforcement rule
    config = repo.root / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "rules: {ALW002: off}\n", "utf-8")
    assert run_cli("--root", str(repo.root), "check", "--no-cache").code != 0


@pytest.mark.parametrize("field", ["match", "detector", "by", "reason"])
def test_the_hash_covers_every_field(field: str) -> None:
    item = {"match": PRESS, "detector": "email", "by": "sam", "reason": REASON}
    changed = {**item, field: "something else"}
    assert allowances.digest(INCIDENT, item) != allowances.digest(INCIDENT, changed)
    assert allowances.digest(INCIDENT, item) != allowances.digest("another-incident", item)
