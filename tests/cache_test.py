"""The cache is a shortcut only: stale, corrupt or foreign caches are never trusted,
a cached run reports exactly what a fresh one does, and after a change it checks
again only the units whose inputs changed."""

from __future__ import annotations

import dataclasses
import os
import pickle
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearance import config, engine
from clearance.incremental import run as incremental
from clearance.incremental import store as cache
from conftest import DATA, edit

BROKEN = DATA / "broken"
CORPUS = Path(__file__).resolve().parent.parent / "bench" / "corpus.py"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(BROKEN, target)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target


def run(repo: Path, use_cache: bool = True) -> engine.Result:
    return incremental.check(config.load(repo), cache=use_cache)


def key(repo: Path) -> str:
    settings = config.load(repo)
    resolved = dataclasses.replace(settings, root=settings.root.resolve())
    return cache.fingerprint(settings.max_file_bytes, repr(resolved))


def same(first: engine.Result, second: engine.Result) -> None:
    assert first.findings == second.findings
    assert first.suppressed == second.suppressed


def age(path: Path, seconds: int = 10) -> None:
    """Move a file's mtime into the past so the racy-time rule does not apply."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - seconds * 1_000_000_000))


def age_all(repo: Path) -> None:
    for path in repo.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            age(path)


def test_cache_lives_in_git_dir_and_reports_the_same(repo: Path) -> None:
    age_all(repo)
    fresh = run(repo, use_cache=False)
    first = run(repo)
    assert cache.location(repo) == repo / ".git" / "clearance" / "state.sqlite"
    assert cache.location(repo).is_file()
    store = cache.Store.open(repo, key(repo))
    assert len(store.table) == len(first.repository.documents) > 0
    assert first.evaluated == len(store.units) > 0
    second = run(repo)
    same(first, fresh)
    same(second, fresh)
    assert second.evaluated == 0  # nothing changed: every unit's findings were reused
    assert len(second.repository.documents) == len(first.repository.documents)
    assert sorted(d.path for d in second.repository.documents) == sorted(
        d.path for d in fresh.repository.documents
    )


def test_a_changed_file_is_reloaded_even_inside_the_racy_window(repo: Path) -> None:
    age_all(repo)
    run(repo)
    target = repo / "policies/roles/crisis-lead.yaml"
    edit(target, "classification: internal", "classification: secret")
    # same size class and possibly the same mtime tick: content hashing decides
    result = run(repo)
    assert any(
        f.rule == "SCH001" and f.location.path == "policies/roles/crisis-lead.yaml" for f in result.findings
    )
    edit(target, "classification: secret", "classification: internal")
    same(run(repo), run(repo, use_cache=False))


def test_a_same_size_edit_with_its_mtime_put_back_is_noticed(repo: Path) -> None:
    """touch -d can put a modification time back; the change time and git's other
    fields cannot be, so the edit is seen (it was missed when only size and mtime
    were compared)."""
    target = repo / "policies/roles/crisis-lead.yaml"
    rel = "policies/roles/crisis-lead.yaml"
    age_all(repo)
    time.sleep(0.01)
    first = run(repo)
    store = cache.Store.open(repo, key(repo))
    before = target.stat()
    store.written_ns = before.st_ctime_ns + cache.RACY_NS + 1  # recorded long after the file was written
    assert store.unchanged(rel, before, str(target)) is store.table[rel]  # untouched: trusted as it is
    text = target.read_text().replace("status: active", "status: retire")
    assert len(text.encode()) == before.st_size
    target.write_text(text)
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # forge the old mtime
    after = target.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    store.written_ns = after.st_ctime_ns + cache.RACY_NS + 1  # even long after the edit
    assert store.unchanged(rel, after, str(target)) is None  # the bytes differ: reloaded
    edited = run(repo)
    same(edited, run(repo, use_cache=False))
    assert edited.findings != first.findings


def test_corrupt_or_foreign_cache_is_ignored(repo: Path) -> None:
    age_all(repo)
    expected = run(repo, use_cache=False)
    path = cache.location(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all")
    same(run(repo), expected)
    assert cache.Store.open(repo, key(repo)).table  # replaced by a good one
    with sqlite3.connect(path) as db:  # a state written by another build
        db.execute("UPDATE meta SET value = ? WHERE name = 'key'", (b"another clearance",))
    assert not cache.Store.open(repo, key(repo)).table
    result = run(repo)
    same(result, expected)
    assert result.evaluated > 0
    with sqlite3.connect(path) as db:  # right key, unreadable state
        db.execute("UPDATE meta SET value = ? WHERE name = 'state'", (b"garbage",))
    same(run(repo), expected)
    with sqlite3.connect(path) as db:  # a cached document that is not the one recorded
        db.execute("UPDATE docs SET loaded = ?", (pickle.dumps("not a document"),))
    age_all(repo)
    (repo / "policies/roles/crisis-lead.yaml").write_text(
        (repo / "policies/roles/crisis-lead.yaml").read_text() + "\n"
    )
    same(run(repo), run(repo, use_cache=False))


def test_cli_uses_the_cache_only_in_git_work_trees(
    repo: Path,
    tmp_path: Path,
    cli,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    result = cli("--root", str(repo), "check", "--format", "json")
    assert result.code == 1 and cache.location(repo).is_file()
    cache.location(repo).unlink()
    cli("--root", str(repo), "check", "--no-cache")
    assert not cache.location(repo).exists()
    plain = tmp_path / "plain"
    shutil.copytree(BROKEN, plain)
    assert cli("--root", str(plain), "check").code == 1
    # outside a git work tree nothing is cached; the only thing in the user's cache
    # folder is the sealing key the git run made
    assert not cache.location(plain).exists()
    assert sorted(p.name for p in (tmp_path / "xdg").rglob("*") if p.is_file()) == ["cache.key"]
    assert ((tmp_path / "xdg" / "clearance" / "cache.key").stat().st_mode & 0o077) == 0


def test_derived_data_is_kept_beside_the_cache_and_reused(repo: Path) -> None:
    from clearance import schemas

    run(repo)
    folder = cache.location(repo).parent
    paths = cache.load_memo(repo, "reference-paths", key(repo))
    assert [(tuple(p), kind) for p, kind in paths["protocol"]] == list(schemas.reference_paths("protocol"))
    # rules remember through the memo the wing hands them (checks.Context.memo)
    remembered = cache.load_memo(repo, "rules", key(repo))
    assert remembered == {"regex-verdicts:10000:1.0": {r"CUST-\d{6}": False}}
    assert cache.load_memo(repo, "reference-paths", "another key") == {}
    (folder / "rules.json").write_bytes(b"garbage")
    assert cache.load_memo(repo, "rules", key(repo)) == {}
    same(run(repo), run(repo, use_cache=False))


def test_a_changed_configuration_or_build_is_another_key(repo: Path) -> None:
    before = key(repo)
    edit(repo / "clearance.yaml", "today: 2026-11-26", "today: 2026-11-27")
    assert key(repo) != before
    settings = config.load(repo)
    assert cache.fingerprint(settings.max_file_bytes, "x") != cache.fingerprint(settings.max_file_bytes, "y")


# -- the focused re-check: after a change, only units whose inputs changed run -----


@pytest.fixture(scope="module")
def corpus_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "repo"
    subprocess.run(
        [sys.executable, str(CORPUS), str(out), "--documents", "300", "--entries", "1500", "--seed", "5"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return out


@pytest.fixture
def corpus(corpus_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "corpus"
    shutil.copytree(corpus_template, target)
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def first(corpus: Path, pattern: str) -> Path:
    return sorted(corpus.glob(pattern))[0]


def cited_policy(corpus: Path) -> Path:
    protocol = first(corpus, "protocols/playbooks/protocol-*.yaml").read_text()
    policy = protocol.split("cites: ['", 1)[1].split("#", 1)[0]
    return corpus / "policies" / f"{policy}.md"


EDITS = [
    # (what, edit, the rules expected somewhere in the result afterwards)
    (
        "retire a cited policy",
        lambda c: replace(cited_policy(c), "status: active", "status: retired"),
        {"REF002"},
    ),
    (
        "empty a role",
        lambda c: replace(c / "policies/roles/role-3.yaml", "members: [", "members: [] #"),
        {"PPL001"},
    ),
    (
        "delete a person who acts in incidents",
        lambda c: (c / "policies/people/person-0.yaml").unlink(),
        {"REF001"},
    ),
    (
        # active -> closed skips stable: a transition the state machine does not allow
        "log a status change that skips a stage",
        lambda c: (
            first(c, "incidents/*/incident.yaml").parent / "log/20260101T090000Z-skip01.yaml"
        ).write_text(
            "kind: log-entry\ntype: status-change\nat: 2026-01-01T09:00:00+00:00\nby: person-1\n"
            "from: active\nto: closed\n"
        ),
        {"INC001"},
    ),
    (
        # The rules are judged from the policy's unit: the template's units read no policy
        "add a policy with wording and notice rules for one template",
        lambda c: (c / "policies/template-rules.md").write_text(
            "---\nkind: policy\nid: template-rules\ntitle: Template rules\nowner: role-0\nstatus: active\n"
            "classification: internal\nreview: {every: P1Y, last: '2026-06-01'}\nsummary: Rules.\n"
            "clauses:\n  - {id: c-1, text: Say how to reach us.}\n"
            "template_rules:\n  - {id: helpline, says: name the helpline, stages: [update], require: ['\\bhelpline\\b']}\n"
            "notice_elements:\n  - obligation: regulation-0#notify\n    jurisdiction: EU\n    cite: Art. 1\n"
            "    templates: [template-0]\n    elements:\n"
            "      - {id: contact, says: a contact point, patterns: ['\\bcontact point\\b']}\n"
            "---\nTemplates name the helpline.\n"
        ),
        {"TPW002", "NTC001"},
    ),
    (
        "a template edited to meet them: the policy's unit reads it again",
        lambda c: (c / "protocols/templates/template-0.md").write_text(
            (c / "protocols/templates/template-0.md").read_text()
            + "\nCall the helpline, our contact point.\n"
        ),
        set(),
    ),
    (
        "shorten a public channel",
        lambda c: replace(c / "protocols/channels/channel-1.yaml", "max_length: 2000", "max_length: 20"),
        {"TPL003"},
    ),
    (
        "break a template's YAML",
        lambda c: replace(first(c, "protocols/templates/*.md"), "stage: update", "stage: [update"),
        {"LD005"},
    ),
    (
        "copy a policy under another file name",
        lambda c: shutil.copy(first(c, "policies/policy-*.md"), c / "policies/copy-of-a-policy.md"),
        {"IDX001"},
    ),
    (
        "make a data-class pattern invalid",
        lambda c: replace(first(c, "policies/data-classes/*.yaml"), "regex: 'ZX", "regex: '(ZX"),
        {"DCL001"},
    ),
    ("restore the person", lambda c: None, set()),
    (
        "rename an incident's folder",
        lambda c: first(c, "incidents/*").rename(c / "incidents/renamed"),
        {"LAY002"},
    ),
]


def test_after_each_change_a_cached_run_reports_what_a_fresh_run_does(corpus: Path) -> None:
    settings = config.load(corpus)
    assert settings.today is not None  # the corpus fixes the date, so runs are comparable
    person = (corpus / "policies/people/person-0.yaml").read_text()
    age_all(corpus)
    warm = run(corpus)
    same(warm, run(corpus, use_cache=False))
    assert warm.evaluated == len(cache.Store.open(corpus, key(corpus)).units)
    total = warm.evaluated
    for what, change, expected in EDITS:
        if what == "restore the person":
            (corpus / "policies/people/person-0.yaml").write_text(person)
        else:
            change(corpus)
        cached = run(corpus)
        fresh = run(corpus, use_cache=False)
        assert cached.findings == fresh.findings, what
        assert cached.suppressed == fresh.suppressed, what
        assert expected <= {f.rule for f in cached.findings}, what
        if what.startswith("a template edited to meet them"):
            met = [f for f in cached.findings if f.location.path == "protocols/templates/template-0.md"]
            assert not {"TPW002", "NTC001"} & {f.rule for f in met}, what
            assert "TPW002" in {f.rule for f in cached.findings}, what  # the other update templates
        assert cached.evaluated < total, f"{what}: {cached.evaluated} of {total} units checked again"
        again = run(corpus)
        assert again.evaluated == 0 and again.findings == fresh.findings, what


def test_a_body_edit_checks_only_that_document_and_those_that_read_it(corpus: Path) -> None:
    age_all(corpus)
    run(corpus)
    policy = cited_policy(corpus)
    policy.write_text(policy.read_text() + "\nEdited.\n")
    result = run(corpus)
    readers = [
        p
        for p in corpus.glob("protocols/playbooks/*.yaml")
        if f"'{policy.stem}#" in p.read_text() or f" {policy.stem}]" in p.read_text()
    ]
    assert 1 + len(readers) <= result.evaluated <= 1 + len(readers) + 2
    same(result, run(corpus, use_cache=False))


def test_rules_run_in_worker_processes_report_what_one_process_does(
    corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = config.load(corpus)
    alone = incremental.check(settings, jobs=1)
    monkeypatch.setattr(incremental, "PARALLEL_THRESHOLD", 10)  # small enough for this corpus
    shared = incremental.check(settings, jobs=2)
    same(shared, alone)
    age_all(corpus)
    warm = incremental.check(settings, jobs=2, cache=True)
    same(warm, alone)
    # every incident's log names person-0: all incidents are checked again, by workers
    # that read the unchanged documents from the cache
    replace(corpus / "policies/people/person-0.yaml", "name: Person 0", "name: Person Zero")
    again = incremental.check(settings, jobs=2, cache=True)
    same(again, incremental.check(settings, jobs=1))
    assert 0 < again.evaluated < warm.evaluated


def test_findings_that_depend_on_the_clock_expire(repo: Path) -> None:
    edit(repo / "clearance.yaml", "today: 2026-11-26\n", "")  # run by the real clock
    assert config.load(repo).today is None
    age_all(repo)
    first_run = run(repo)
    store = cache.Store.open(repo, key(repo))
    dated = {unit: record.expires for unit, record in store.units.items() if record.expires is not None}
    assert dated, "the fixture has reviews and open incidents whose findings change with time"
    assert all(expires > 0 for expires in dated.values())
    unit = sorted(dated)[0]
    # a record whose time has passed is not reused
    units = {**store.units, unit: store.units[unit]._replace(expires=1.0)}
    store.save(store.table, units, [], store.written_ns)
    store.close()
    again = run(repo)
    assert again.evaluated >= 1
    same(again, first_run)


def test_a_rule_cannot_read_the_whole_index_behind_the_cache(repo: Path) -> None:
    from clearance.index import Index, Reads

    result = run(repo, use_cache=False)
    reads = Reads(result.repository.index)
    assert isinstance(reads, Index)
    for name in ("documents", "references", "by_kind", "parts"):
        with pytest.raises(RuntimeError):
            getattr(reads, name)
    reads.of_kind("role")
    reads.get("person", "nobody")
    assert reads.tokens == {("kind", "role"), ("doc", "person", "nobody")}


# -- an adversary with write access to .git/ -------------------------------------------


def _erase_findings(path: Path) -> int:
    """Rewrite every unit record in the state with no findings, as someone who can
    write .git/ but not the user's key would: returns how many findings were erased."""
    import json

    erased = 0
    with sqlite3.connect(path) as db:
        for name, value in list(db.execute("SELECT name, value FROM chunks WHERE name LIKE 'units:%'")):
            chunk = json.loads(value)
            for record in chunk.values():
                erased += len(record[2])
                record[2] = []
            db.execute("UPDATE chunks SET value = ? WHERE name = ?", (json.dumps(chunk).encode(), name))
    return erased


def test_erasing_findings_in_the_cache_does_not_hide_them(repo: Path) -> None:
    age_all(repo)
    expected = run(repo, use_cache=False)
    assert expected.findings
    run(repo)
    assert _erase_findings(cache.location(repo)) > 0
    result = run(repo)
    same(result, expected)
    assert result.evaluated > 0  # the forged state was not used


def test_a_state_pieced_together_from_an_older_one_is_not_used(repo: Path) -> None:
    """Chunks from an earlier state put back beside a newer table: the seal covers
    the whole table, so the replay is refused."""
    age_all(repo)
    run(repo)
    path = cache.location(repo)
    with sqlite3.connect(path) as db:
        old = dict(db.execute("SELECT name, value FROM chunks"))
    target = repo / "policies/roles/crisis-lead.yaml"
    edit(target, "status: active", "status: retired")
    age(target)
    after_edit = run(repo)
    with sqlite3.connect(path) as db:
        db.executemany("UPDATE chunks SET value = ? WHERE name = ?", [(v, n) for n, v in old.items()])
    assert not cache.Store.open(repo, key(repo)).table
    same(run(repo), after_edit)


def test_the_cache_never_runs_code_it_finds(repo: Path, tmp_path: Path) -> None:
    """A pickle that would create a file when loaded, planted everywhere the state
    keeps blobs: nothing loads it, and the package does not import pickle at all."""
    import ast

    age_all(repo)
    expected = run(repo, use_cache=False)
    run(repo)
    canary = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (open, (str(canary), "w"))

    blob = pickle.dumps(Payload())
    with sqlite3.connect(cache.location(repo)) as db:
        db.execute("UPDATE chunks SET value = ?", (blob,))
        db.execute("UPDATE docs SET loaded = ?", (blob,))
    for memo in cache.location(repo).parent.glob("*.json"):
        memo.write_bytes(blob)
    same(run(repo), expected)
    assert not canary.exists()
    package = Path(cache.__file__).resolve().parent.parent
    for module in package.rglob("*.py"):
        tree = ast.parse(module.read_text("utf-8"))
        names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not names & {"pickle", "marshal", "shelve", "dill"}, module
