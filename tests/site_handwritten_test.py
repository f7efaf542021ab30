"""Hand-written pages (docs/) are governed documents: real `mkdocs build` runs over the
leaky fixture in a real git repository.

Canaries are planted in pages above the audience and in every form a person writes a
link to a withheld document: inline, reference-style, raw HTML, relative to the
source or to the served URL, to the folder, to the .html file, to the document's
source file, with anchors, as an image."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from site_test import article, build, git, make_repo, site_files

# The restricted policy's id, its page and its source, in every link form.
LINK_FORMS = """---
classification: public
---
# Links

Inline: [CANARYLINKINLINE41](policies/canary-policy-rz/index.md) in a sentence.

Folder: [CANARYLINKFOLDER42](policies/canary-policy-rz/) and
served-relative [CANARYLINKSERVED43](../policies/canary-policy-rz/) and
the html file [CANARYLINKHTML44](policies/canary-policy-rz/index.html).

Anchor: [CANARYLINKANCHOR45](policies/canary-policy-rz/index.md#clause-1).

Source file: [CANARYLINKSOURCE46](../policies/plan.md).

Reference: [CANARYLINKREF47][plan], [plan][], and the shortcut [plan].

Raw: <a href="policies/canary-policy-rz/">CANARYLINKRAW48</a> and
<a href='../policies/canary-policy-rz/index.html#clause-1' title="x">CANARYLINKRAW49</a>.

Image: ![CANARYLINKIMG50](policies/canary-policy-rz/index.md) <img src="../policies/canary-policy-rz/x.png">

- [CANARYLINKITEM51](policies/canary-policy-rz/index.md): the item goes whole,
  CANARYLINKITEMTAIL52 with its continuation line.
- The [social media policy](policies/social-media/index.md) stays for internal readers.

Visible: [the regulation](registers/regulations/breach-law/index.md).

[plan]: policies/canary-policy-rz/index.md "CANARYLINKTITLE53"
"""


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path)


def _commit(root: Path, message: str = "Docs") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, date="2026-06-01T10:00:00+00:00")


@pytest.mark.parametrize("audience", ["public", "internal"])
def test_every_link_form_to_a_withheld_document_reads_restricted(repo: Path, audience: str) -> None:
    (repo / "docs" / "links.md").write_text(LINK_FORMS, "utf-8")
    _commit(repo)
    result = build(repo, audience=audience)
    assert result.returncode == 0, result.stderr
    site = repo / "site"
    for path, data in site_files(site):
        for canary in (b"canary-policy-rz", b"CANARYLINK"):
            assert canary not in data, f"{canary!r} in {path}"
        # (the fixture's policy shows an include marker naming plan.md as text)
        assert not re.search(rb"(?:href|src)=[\"']?[^\"'>]*plan\.md", data), path
    page = article((site / "links" / "index.html").read_text("utf-8"))
    assert page.count("<em>restricted</em>") >= 9
    assert 'href="../registers/regulations/breach-law/"' in page
    # A list item built around a withheld link is dropped whole; its sibling stays
    # where its own link can be opened.
    assert ("social media policy" in page) == (audience == "internal")
    assert "Visible:" in page


def test_a_page_above_the_audience_is_left_out_everywhere(repo: Path) -> None:
    (repo / "docs" / "secret.md").write_text(
        "---\nclassification: confidential\n---\n# CANARYPAGETITLE54\n\nCANARYPAGEBODY55 the merger.\n",
        "utf-8",
    )
    index = repo / "docs" / "index.md"
    index.write_text(
        index.read_text("utf-8") + "\nSee [CANARYPAGELINK56](secret.md) for the plan.\n", "utf-8"
    )
    (repo / "docs" / "unclassified.md").write_text("# Notes\n\nCANARYUNCLASSIFIED57\n", "utf-8")
    _commit(repo)
    result = build(repo, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    site = repo / "site"
    assert not (site / "secret").exists()
    for path, data in site_files(site):
        for canary in (b"CANARYPAGE", b"secret/"):
            assert canary not in data, f"{canary!r} in {path}"
    home = article((site / "index.html").read_text("utf-8"))
    assert "See <em>restricted</em> for the plan." in home
    # Without front matter a page has the configured default, internal when unset.
    assert (site / "unclassified" / "index.html").is_file()
    result = build(repo, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    assert not (site / "unclassified").exists()
    assert not any(b"CANARYUNCLASSIFIED57" in data for _, data in site_files(site))
    result = build(repo, "--strict", audience="confidential")
    assert result.returncode == 0, result.stderr
    assert "CANARYPAGEBODY55" in (site / "secret" / "index.html").read_text("utf-8")


def test_the_default_level_comes_from_clearance_yaml(repo: Path) -> None:
    (repo / "docs" / "unclassified.md").write_text("# Notes\n\nFor everyone.\n", "utf-8")
    config = repo / "clearance.yaml"
    config.write_text(config.read_text("utf-8") + "handbook:\n  classification: public\n", "utf-8")
    _commit(repo)
    result = build(repo, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    assert (repo / "site" / "unclassified" / "index.html").is_file()


def test_an_unknown_classification_fails_with_its_location(repo: Path) -> None:
    (repo / "docs" / "odd.md").write_text("---\ntitle: Odd\nclassification: secret\n---\n# Odd\n", "utf-8")
    result = build(repo, audience="internal")
    assert result.returncode == 1
    assert "docs/odd.md:3:17: classification 'secret' is not one of" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_front_matter_in_a_page_fails_with_its_location(repo: Path) -> None:
    (repo / "docs" / "odd.md").write_text(
        "---\nclassification: public\nclassification: public\n---\n", "utf-8"
    )
    result = build(repo, audience="internal")
    assert result.returncode == 1
    assert "docs/odd.md:3:1: LD006" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_a_symbolic_link_in_docs_fails_the_build(repo: Path, tmp_path: Path, kind: str) -> None:
    if kind == "file":
        os.symlink("/etc/passwd", repo / "docs" / "x.txt")
        shown = "docs/x.txt:1:1"
    else:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "page.md").write_text("---\nclassification: public\n---\n# Out\n", "utf-8")
        os.symlink(outside, repo / "docs" / "linked")
        shown = "docs/linked:1:1"
    result = build(repo, audience="public")
    assert result.returncode == 1
    assert shown in result.stderr and "symbolic link" in result.stderr
    assert not (repo / "site" / "x.txt").exists()
    assert "root:" not in result.stderr


def test_an_id_of_a_withheld_document_in_prose_is_replaced_and_warned(repo: Path) -> None:
    index = repo / "docs" / "index.md"
    index.write_text(index.read_text("utf-8") + "\nThe drill `cf-2026-02` went well.\n", "utf-8")
    _commit(repo)
    result = build(repo, "--strict", audience="internal")
    assert result.returncode == 1
    assert "docs/index.md:" in result.stderr and "'cf-2026-02'" in result.stderr
    result = build(repo, audience="internal")
    assert result.returncode == 0, result.stderr
    for path, data in site_files(repo / "site"):
        assert b"cf-2026-02" not in data, path


def test_search_index_holds_no_withheld_page(repo: Path) -> None:
    (repo / "docs" / "hidden-page.md").write_text(
        "---\nclassification: restricted\n---\n# Hidden\n\nCANARYSEARCH58\n", "utf-8"
    )
    _commit(repo)
    result = build(repo, "--strict", audience="confidential")
    assert result.returncode == 0, result.stderr
    index = json.loads((repo / "site" / "search" / "search_index.json").read_text("utf-8"))
    assert not [
        doc for doc in index["docs"] if "CANARYSEARCH58" in doc["text"] or "hidden-page" in doc["location"]
    ]


def test_a_page_with_another_markdown_suffix_is_classified_too(repo: Path) -> None:
    (repo / "docs" / "plan.markdown").write_text(
        "---\nclassification: confidential\n---\n# Plan\n\nCANARYSUFFIX59\n", "utf-8"
    )
    index = repo / "docs" / "index.md"
    index.write_text(index.read_text("utf-8") + "\nRead [CANARYSUFFIXLINK60](plan/) first.\n", "utf-8")
    _commit(repo)
    result = build(repo, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    for path, data in site_files(repo / "site"):
        assert b"CANARYSUFFIX" not in data, path


def test_raw_html_links_in_a_documents_body_are_governed_too(repo: Path) -> None:
    policy = repo / "policies" / "social-media.md"
    policy.write_text(
        policy.read_text("utf-8")
        + '\nSee <a href="plan.md">CANARYRAWBODY61</a> and <a href="../policies/plan.md#clause-1">it</a>.\n',
        "utf-8",
    )
    _commit(repo)
    result = build(repo, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    page = article((repo / "site" / "policies" / "social-media" / "index.html").read_text("utf-8"))
    assert "CANARYRAWBODY61" not in page and "plan.md" not in page.replace('"policies/plan.md"', "")
    assert "See <em>restricted</em> and <em>restricted</em>." in page
