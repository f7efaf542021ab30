from __future__ import annotations

import pytest

from clearance import loading
from clearance.loading import LoadFailed, load_file, load_text

BOTH = pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "pure-python"])


def problems(text: str, path: str = "doc.yaml", fast: bool = True) -> list[tuple[str, int, int]]:
    with pytest.raises(LoadFailed) as info:
        load_text(text, path, fast=fast)
    return [(p.rule, p.location.line, p.location.col) for p in info.value.problems]


@BOTH
def test_json_like_typing_keeps_ambiguous_scalars_as_text(fast: bool) -> None:
    doc = load_text(
        "a: [2026-03-14, NO, on, 010, 1:20, 1.10, 1e3, yes, 0x1F]\nb: [1, -2, 2.5, true, null, ~, FALSE]\nc:\n",
        "x.yaml",
        fast=fast,
    )
    assert doc.data["a"] == ["2026-03-14", "NO", "on", "010", "1:20", "1.10", "1e3", "yes", "0x1F"]
    assert doc.data["b"] == [1, -2, 2.5, True, None, None, False]
    assert doc.data["c"] is None


@BOTH
def test_positions_point_at_values_and_keys(fast: bool) -> None:
    doc = load_text("kind: role\nsteps:\n  - id: a\n    role: b\n", "x.yaml", fast=fast)
    assert doc.positions[("steps", 0, "role")] == (4, 11)
    assert doc.key_positions[("steps", 0, "role")] == (4, 5)
    assert str(doc.where(("steps", 0, "missing"))) == "x.yaml:3:5"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb:\n  c: 1\n  c: 2\n", [("LD006", 4, 3)]),
        ("a: 1\na: 2\nb: 1\nb: 2\n", [("LD006", 2, 1), ("LD006", 4, 1)]),
        ("a: &anchor 1\n", [("LD007", 1, 4)]),
        ("a: 1\nb: *x\n", [("LD007", 2, 4)]),
        ("<<: {a: 1}\nb: 2\n", [("LD008", 1, 1)]),
        ("a: !!python/object:os.system x\n", [("LD009", 1, 4)]),
        ("a: !!binary aGVsbG8=\n", [("LD009", 1, 4)]),
        ("a: !!set {x}\n", [("LD009", 1, 4)]),
        ("a: !custom x\n", [("LD009", 1, 4)]),
        ("a: 1\n1: x\n", [("LD010", 2, 1)]),
        ("a: 1\ntrue: x\n", [("LD010", 2, 1)]),
        ("? [a, b]\n: 1\n", [("LD010", 1, 3)]),
        ("a: 1\n---\nb: 2\n", [("LD011", 2, 1)]),
        ("- a\n- b\n", [("LD012", 1, 1)]),
        ("just text\n", [("LD012", 1, 1)]),
        ("a:\n\tb: 1\n", [("LD015", 2, 1)]),
        ("a: [1,\n", [("LD005", 2, 1)]),
        ("a: 'unterminated\n", [("LD005", 2, 1)]),
        ("a: x\u200by\n", [("LD002", 1, 5)]),
        ("a: safe\nb: \u202eevil\n", [("LD002", 2, 4)]),
        ("a: nul\x00\n", [("LD002", 1, 7)]),
        ("a: bell\x07\n", [("LD002", 1, 8)]),
        ("   \n\n", [("LD004", 1, 1)]),
    ],
)
@BOTH
def test_each_hazard_is_located(text: str, expected: list[tuple[str, int, int]], fast: bool) -> None:
    assert problems(text, fast=fast) == expected


def test_alias_bomb_is_refused_at_the_first_anchor() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 12):
        prev = chr(ord("a") + n - 1)
        cur = chr(ord("a") + n)
        lines.append(f"{cur}: &{cur} [{', '.join(['*' + prev] * 9)}]")
    assert problems("\n".join(lines) + "\n") == [("LD007", 1, 4)]


def test_pathological_nesting_is_refused() -> None:
    deep = "a: " + "[" * 200 + "]" * 200 + "\n"
    rules = {rule for rule, _, _ in problems(deep)}
    assert rules == {"LD013"}


def test_reasonable_nesting_loads() -> None:
    assert load_text("a: " + "[" * 30 + "1" + "]" * 30 + "\n", "x.yaml").data["a"]


def test_markdown_front_matter_and_body_lines() -> None:
    doc = load_text("---\nkind: policy\nid: p\n---\n# Title\n\nBody\n", "p.md")
    assert doc.data == {"kind": "policy", "id": "p"}
    assert doc.body == "# Title\n\nBody\n"
    assert doc.body_line == 5
    assert doc.positions[("id",)] == (3, 5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# No front matter\n", [("LD014", 1, 1)]),
        ("\n---\nkind: policy\n---\n", [("LD014", 1, 1)]),
        ("---\nkind: policy\nid: p\n", [("LD014", 1, 1)]),
        ("---\nkind: policy\nkind: role\n---\nbody\n", [("LD006", 3, 1)]),
        ("---\n---\nbody\n", [("LD014", 2, 1)]),
        ("---\nkind: policy\n---\nbody with \u2066hidden\u2069 text\n", [("LD002", 4, 11)]),
        ("---\nkind: [\n---\nbody\n", [("LD005", 3, 1)]),
    ],
)
def test_markdown_hazards(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert problems(text, "p.md") == expected


def test_tabs_are_fine_in_a_markdown_body() -> None:
    assert load_text("---\nkind: policy\n---\n\tcode\n", "p.md").body == "\tcode\n"


def test_encodings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    utf16 = tmp_path / "u16.yaml"
    utf16.write_bytes("a: 1\n".encode("utf-16"))
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbfa: 1\n")
    for path, expected in ((utf16, ("LD001", 1, 1)), (bad, ("LD001", 2, 7))):
        with pytest.raises(LoadFailed) as info:
            load_file(path, path.name)
        problem = info.value.problems[0]
        assert (problem.rule, problem.location.line, problem.location.col) == expected
    assert load_file(bom, "bom.yaml").data == {"a": 1}


def test_size_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * 5000 + "\n")
    with pytest.raises(LoadFailed) as info:
        load_file(big, "big.yaml", max_bytes=1024)
    assert info.value.problems[0].rule == "LD003"
    assert load_file(big, "big.yaml", max_bytes=10_000).data["a"].startswith("xxx")


def test_inline_ignores_are_collected() -> None:
    doc = load_text("a: 1  # clearance: ignore[REV001] reviewed in the March board\n", "x.yaml")
    assert doc.extra["ignores"] == {1: [("REV001", "reviewed in the March board")]}


def test_libyaml_is_used_when_available() -> None:
    import yaml

    assert yaml.__with_libyaml__ == loading.HAVE_LIBYAML
