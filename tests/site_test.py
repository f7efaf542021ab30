"""The handbook plugin, end to end: real `mkdocs build` runs over a fixture repository
inside a real git repository with fixed authors and dates.

The fixture (tests/data/site/leaky) holds confidential and restricted documents whose
titles, bodies, clauses, ids and log entries carry canary strings; the internal site
must contain none of them anywhere under site/."""

from __future__ import annotations

import datetime
import gzip
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from clearance.site.pages import PageSpec, Site

FIXTURE = Path(__file__).parent / "data" / "site" / "leaky"
MKDOCS = Path(sys.executable).parent / "mkdocs"

# Strings that only confidential or restricted documents contain.
CANARIES = (
    "CANARY",  # every canary text starts with it (titles, bodies, clauses, log entries)
    "canary-policy-rz",
    "canary-confidential-pw",
    "canary-role-zx",
    "canary-dc-xq",
    "canary-template-vv",
    "cf-2026-02",
    "secret-plan",
)


def git(
    root: Path,
    *args: str,
    date: str = "2026-03-01T10:00:00+00:00",
    author: tuple[str, str] = ("Fixture Author", "author@example.org"),
) -> None:
    # An empty global config of our own (not os.devnull, which a broken machine may
    # have replaced by a regular file) keeps the user's git settings out.
    empty = root.parent / "empty.gitconfig"
    empty.touch()
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_CONFIG_GLOBAL": str(empty),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def make_repo(dest: Path, fixture: Path = FIXTURE) -> Path:
    """The fixture copied into a git repository: the documents an internal reader may
    see first, then one commit whose subject names a secret and which adds the hidden
    documents and edits a visible one, then each incident log entry in a commit of
    its own by the person it names, at its time (as `clearance incident` records
    them; the provenance rules check exactly that)."""
    root = dest / "repo"
    shutil.copytree(fixture, root)
    git(root, "init", "-q", "-b", "main")
    secret = [
        root / "policies" / "plan.md",
        root / "policies" / "canary-confidential.md",
        root / "policies" / "roles" / "canary-role-zx.yaml",
        root / "policies" / "data-classes" / "canary-dc-xq.yaml",
        root / "protocols" / "templates" / "canary-template.md",
        root / "docs" / "secret-notes.md",  # a hand-written page above internal
        *sorted((root / "incidents" / "cf-2026-02").glob("*.yaml")),
    ]
    entries = sorted(root.glob("incidents/*/log/*.yaml"), key=lambda path: path.name)
    stash = {path: path.read_bytes() for path in [*secret, *entries]}
    for path in stash:
        path.unlink()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Initial handbook", date="2026-02-01T09:00:00+00:00")
    for path in secret:
        path.write_bytes(stash[path])
    social = root / "policies" / "social-media.md"
    social.write_text(social.read_text("utf-8") + "\nReviewed after the takeover drill.\n", "utf-8")
    git(root, "add", "-A")
    git(
        root,
        "commit",
        "-q",
        "-m",
        "CANARYCOMMITSUBJECT20 add the takeover plan",
        date="2026-03-02T10:00:00+00:00",
    )
    for path in entries:
        path.write_bytes(stash[path])
        add_entry(root, path)
    return root


def add_entry(root: Path, path: Path) -> None:
    """Commit one log entry as its author, a minute after its time."""
    import yaml

    data = yaml.safe_load(path.read_text("utf-8"))
    person = yaml.safe_load((root / "policies" / "people" / f"{data['by']}.yaml").read_text("utf-8"))
    at = datetime.datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
    when = (at + datetime.timedelta(minutes=1)).isoformat()
    git(root, "add", str(path.relative_to(root)))
    git(
        root,
        "commit",
        "-q",
        "-m",
        f"Log: {data['type']}",
        date=when,
        author=(person["name"], person["emails"][0]),
    )


def build(root: Path, *args: str, audience: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    env.pop("CLEARANCE_AUDIENCE", None)
    if audience is not None:
        env["CLEARANCE_AUDIENCE"] = audience
    return subprocess.run(
        [str(MKDOCS), "build", "--site-dir", str(root / "site"), *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def site_files(site: Path) -> Iterator[tuple[Path, bytes]]:
    for path in sorted(site.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            yield path, data


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def article(html: str) -> str:
    start = html.index('<article class="md-content__inner md-typeset">')
    return html[start : html.index("</article>", start)]


@pytest.fixture(scope="module")
def internal_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_repo(tmp_path_factory.mktemp("internal"))
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    return root / "site"


# ------------------------------------------------------------------------- audiences


def test_internal_site_contains_no_canary_anywhere(internal_site: Path) -> None:
    checked = 0
    for path, data in site_files(internal_site):
        checked += 1
        lowered = data.lower()
        for canary in CANARIES:
            assert canary.lower().encode() not in lowered, f"{canary!r} leaked into {path}"
    names = {p.name for p in internal_site.rglob("*")}
    assert {"search_index.json", "sitemap.xml", "sitemap.xml.gz"} <= names
    assert checked > 30


def test_internal_site_publishes_what_internal_readers_may_see(internal_site: Path) -> None:
    policy = (internal_site / "policies" / "social-media" / "index.html").read_text("utf-8")
    assert 'id="clause-1"' in policy and 'id="clause-2"' in policy
    assert "Employees never confirm a customer" in policy
    search = (internal_site / "search" / "search_index.json").read_text("utf-8")
    assert "Employees never confirm a customer" in search
    sitemap = (internal_site / "sitemap.xml").read_text("utf-8")
    assert "https://handbook.example.org/policies/social-media/" in sitemap
    for page in (
        "protocols/account-takeover",
        "chains/statement-chain",
        "templates/holding",
        "registers/roles/comms-lead",
        "registers/people/ada-example",
        "registers/data-classes/customer-data",
        "registers/regulations/breach-law",
        "registers/channels/crisis-room",
        "incidents/ex-2026-01",
        "incidents/ex-2026-01/review",
        "dashboard",
    ):
        assert (internal_site / page / "index.html").is_file(), page
    assert not (internal_site / "policies" / "canary-policy-rz").exists()
    assert not (internal_site / "incidents" / "cf-2026-02").exists()


def test_references_to_hidden_documents_read_restricted(internal_site: Path) -> None:
    policy = article((internal_site / "policies" / "social-media" / "index.html").read_text("utf-8"))
    # The body's link to the restricted plan, the cited clause and the data class.
    assert policy.count("<em>restricted</em>") >= 3
    # A link to a non-document file keeps its text but links nowhere.
    assert "the attachment" in policy and "attachments/" not in policy
    # Include directives are not expanded (snippets are not enabled).
    assert "--8&lt;--" in policy
    # A hand-written page's link to a hidden document's page reads "restricted" too.
    home = article((internal_site / "index.html").read_text("utf-8"))
    assert "<em>restricted</em>" in home and 'href="policies/social-media/"' in home
    protocol = article((internal_site / "protocols" / "account-takeover" / "index.html").read_text("utf-8"))
    assert "restricted" in protocol  # the confidential template, the hidden role in RACI
    assert (
        '<figure class="clearance-diagram" data-search-exclude><svg' in protocol
        and "flowchart" not in protocol
    )
    chain = article((internal_site / "chains" / "statement-chain" / "index.html").read_text("utf-8"))
    assert "touches restricted" in chain


def test_a_person_page_lists_the_visible_roles_held(internal_site: Path) -> None:
    # cy-example is a member of a restricted role, deputy of comms-lead and member of
    # counsel: the page lists the visible two, by role title, and nothing of the third.
    page = article((internal_site / "registers" / "people" / "cy-example" / "index.html").read_text("utf-8"))
    start = page.index('id="roles"')
    rows = page[start : page.index("</table>", start)]
    first = rows.index("Communications lead")
    assert rows.index("deputy", first) < rows.index("Counsel") < rows.index("member")
    assert rows.count("<tr>") == 3  # the header and two roles


def test_public_site_shows_only_public_documents(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    result = build(root, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    assert (site / "registers" / "regulations" / "breach-law" / "index.html").is_file()
    assert (site / "registers" / "channels" / "x" / "index.html").is_file()
    for path, data in site_files(site):
        for hidden in (
            "Social media policy",
            "Communications lead",
            "ada@example.org",
            "Exercise account takeover",
        ):
            assert hidden.encode() not in data, f"{hidden!r} in {path}"


def test_restricted_site_shows_everything(tmp_path: Path) -> None:
    """The canaries are real: the restricted audience does see them."""
    root = make_repo(tmp_path)
    result = build(root, "--strict", audience="restricted")
    assert result.returncode == 0, result.stderr
    plan = (root / "site" / "policies" / "canary-policy-rz" / "index.html").read_text("utf-8")
    assert "CANARYPOLICYTITLE1" in plan and "CANARYCLAUSETEXT7" in plan and "CANARYPOLICYBODY8" in plan
    log = (root / "site" / "incidents" / "cf-2026-02" / "index.html").read_text("utf-8")
    assert "CANARYLOGTEXT18" in log
    home = (root / "site" / "index.html").read_text("utf-8")
    assert 'href="policies/canary-policy-rz/"' in home
    assert not list((root / "site").rglob("secret-plan.txt"))


def test_unknown_audience_fails_the_build(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    result = build(root, audience="everyone")
    assert result.returncode != 0
    assert "CLEARANCE_AUDIENCE='everyone' is not an audience" in result.stderr


# ---------------------------------------------------------------------- sanitising


def test_raw_html_and_front_matter_are_neutralised(internal_site: Path) -> None:
    html = (internal_site / "policies" / "xss-check" / "index.html").read_text("utf-8")
    body = article(html)
    tags = Tags()
    tags.feed(body)
    assert not {"script", "iframe", "style", "form", "object", "embed"} & {tag for tag, _ in tags.seen}
    for tag, attrs in tags.seen:
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name, value)
            assert not (value or "").strip().lower().startswith("javascript:"), (tag, name, value)
    assert "hover" in body and "click" in body  # the text of cleaned elements stays
    # The title and summary are printed as text, not markup.
    assert "&lt;img src=x onerror=alert(1)&gt;" in body
    assert "&lt;script&gt;alert('summary')&lt;/script&gt;" in body
    title = html[html.index("<title>") : html.index("</title>")]
    assert "<img" not in title and "‹img" in title
    # Nav entries print titles without escaping in the theme: they must be safe too.
    nav = (internal_site / "policies" / "index.html").read_text("utf-8")
    assert "<img src=x" not in nav
    search = (internal_site / "search" / "search_index.json").read_text("utf-8")
    assert "<script" not in search and "onerror=" not in search.replace("onerror=alert(1)&gt;", "")


# ---------------------------------------------------------------- build failures


def test_broken_front_matter_fails_with_file_and_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "policies" / "broken.md").write_text(
        "---\nkind: policy\nid: broken\nid: twice\n---\nbody\n", "utf-8"
    )
    (root / "site").mkdir()
    (root / "site" / "keep.txt").write_text("previous build", "utf-8")
    result = build(root)
    assert result.returncode == 1
    assert "policies/broken.md:4:1: LD006" in result.stderr
    assert "Traceback" not in result.stderr
    # The failing build did not wipe or half-write the previous site.
    assert (root / "site" / "keep.txt").is_file()


def test_schema_error_fails_with_file_and_line(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    role = root / "policies" / "roles" / "counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("status: active", "status: dormant"), "utf-8")
    result = build(root)
    assert result.returncode == 1
    assert "policies/roles/counsel.yaml:5:9: SCH001" in result.stderr


def test_warnings_go_through_the_plugin_logger_and_fail_strict(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    text = (root / "policies" / "social-media.md").read_text("utf-8")
    head, _, _ = text.rpartition("---\n")
    (root / "policies" / "social-media.md").write_text(head + "---\n", "utf-8")  # POL002: no body
    relaxed = build(root)
    assert relaxed.returncode == 0, relaxed.stderr
    assert "WARNING" in relaxed.stderr and "policies/social-media.md:" in relaxed.stderr
    assert "POL002" in relaxed.stderr
    strict = build(root, "--strict")
    assert strict.returncode == 1
    assert "Aborted with 1 warnings in strict mode" in strict.stdout + strict.stderr


def test_generated_page_colliding_with_a_docs_file_fails(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    clash = root / "docs" / "policies" / "social-media"
    clash.mkdir(parents=True)
    (clash / "index.md").write_text("# Hand-written\n", "utf-8")
    result = build(root)
    assert result.returncode == 1
    assert "'policies/social-media/index.md'" in result.stderr and "collides" in result.stderr


def test_content_folder_inside_docs_dir_is_never_copied(tmp_path: Path) -> None:
    """When a content folder lives inside docs_dir, its raw files (documents and
    attachments alike) are dropped; only generated pages are published."""
    root = make_repo(tmp_path)
    inner = root / "docs" / "policies"
    shutil.move(root / "policies", inner)
    (root / "clearance.yaml").write_text(
        (root / "clearance.yaml")
        .read_text("utf-8")
        .replace(
            "content: [policies, protocols, incidents]",
            "content: [docs/policies, protocols, incidents]\nfolders:\n  docs: [policy, role, person, data-class, regulation]",
        ),
        "utf-8",
    )
    git(root, "add", "-A")  # the registers the provenance rules read are the committed ones
    git(root, "commit", "-q", "-m", "Move the policies into docs", date="2026-06-01T09:00:00+00:00")
    result = build(root, audience="internal")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    assert (site / "policies" / "social-media" / "index.html").is_file()
    for path, data in site_files(site):
        assert b"CANARY" not in data, path
    assert not (site / "policies" / "attachments").exists()
    assert not list(site.rglob("*.yaml"))


# ------------------------------------------------------------------------- history


def test_pages_carry_history_from_git(internal_site: Path) -> None:
    policy = article((internal_site / "policies" / "social-media" / "index.html").read_text("utf-8"))
    assert "Last changed 2026-03-02 by Fixture Author" in policy
    assert 'id="history"' in policy
    # The later commit also touched a restricted document: its subject is withheld.
    assert "(subject withheld)" in policy
    assert "Initial handbook" in policy
    role = article((internal_site / "registers" / "roles" / "counsel" / "index.html").read_text("utf-8"))
    assert "Last changed 2026-02-01 by Fixture Author" in role


def test_builds_outside_git_have_no_history(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    shutil.copytree(FIXTURE, root)
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    policy = (root / "site" / "policies" / "social-media" / "index.html").read_text("utf-8")
    assert "Last changed" not in policy


# ---------------------------------------------------------------------- navigation


def test_large_sections_leave_the_navigation_and_paginate(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(
        config.read_text("utf-8").replace(
            "  - clearance\n", "  - clearance:\n      nav_limit: 2\n      index_page_size: 2\n"
        ),
        "utf-8",
    )
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    site = root / "site"
    people = (site / "registers" / "people" / "index.html").read_text("utf-8")
    assert "page_2/" in people
    assert (site / "registers" / "people" / "page_2" / "index.html").is_file()
    # A person's page does not list the other people in its navigation.
    ada = (site / "registers" / "people" / "ada-example" / "index.html").read_text("utf-8")
    nav = ada[
        ada.index('<nav class="md-nav md-nav--primary"') : ada.index("</nav>", ada.index("md-nav--primary"))
    ]
    assert "cy-example" not in nav
    # Small sections stay in the navigation.
    lead = (site / "registers" / "roles" / "comms-lead" / "index.html").read_text("utf-8")
    lead_nav = lead[lead.index('<nav class="md-nav md-nav--primary"') :]
    assert 'href="../counsel/"' in lead_nav


# -------------------------------------------------------------------------- snippets


def _enable_snippets(root: Path, options: str = "") -> None:
    config = root / "mkdocs.yml"
    extension = "  - pymdownx.snippets" + (":\n" + options if options else "") + "\n"
    config.write_text(config.read_text("utf-8") + "markdown_extensions:\n" + extension, "utf-8")


def test_snippets_that_could_reach_documents_fail_the_build(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    _enable_snippets(root)  # base_path defaults to ".", the repository root
    result = build(root)
    assert result.returncode == 1
    assert "pymdownx.snippets base_path '.' reaches the content folder 'policies'" in result.stderr


def test_snippet_markers_in_documents_are_never_expanded(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "snippets").mkdir()
    (root / "snippets" / "plan.md").write_text("SNIPPETEXPANDED\n", "utf-8")
    (root / "policies" / "social-media.md").write_text(
        (root / "policies" / "social-media.md").read_text("utf-8") + '\n--8<-- "plan.md"\n', "utf-8"
    )
    _enable_snippets(root, "      base_path: [snippets]\n      check_paths: true")
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    for path, data in site_files(root / "site"):
        assert b"SNIPPETEXPANDED" not in data, path
        assert b"CANARY" not in data, path
    policy = article((root / "site" / "policies" / "social-media" / "index.html").read_text("utf-8"))
    assert "--8&lt;-- &quot;plan.md&quot;" in policy or '--8&lt;-- "plan.md"' in policy


def test_schema_errors_fail_even_when_configured_as_warnings(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    (root / "clearance.yaml").write_text(
        (root / "clearance.yaml").read_text("utf-8").replace("rules:\n", "rules:\n  SCH001: warning\n"),
        "utf-8",
    )
    role = root / "policies" / "roles" / "counsel.yaml"
    role.write_text(role.read_text("utf-8").replace("status: active", "status: dormant"), "utf-8")
    result = build(root)
    assert result.returncode == 1
    assert "policies/roles/counsel.yaml:5:9: SCH001" in result.stderr


def test_a_rebuild_never_publishes_from_stale_cached_results(tmp_path: Path) -> None:
    # The plugin reuses the document cache `clearance check` keeps in .git/clearance/.
    # Edits between builds (here within the same second, the "racy" case) must be seen.
    root = make_repo(tmp_path)
    assert build(root, "--strict").returncode == 0
    assert (root / ".git" / "clearance").is_dir()
    policy = root / "policies" / "social-media.md"
    original = policy.read_text("utf-8")
    policy.write_text(
        original.replace("classification: internal", "classification: restricted")
        + "\nCANARYRECLASSIFIED the new plan.\n",
        "utf-8",
    )
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    assert not (root / "site" / "policies" / "social-media").exists()
    for path, data in site_files(root / "site"):
        assert b"CANARY" not in data, path
        assert b"Social media policy" not in data, path
    # A schema error introduced after a clean build fails the next build, and the one after.
    policy.write_text(original.replace("status: active", "status: dormant"), "utf-8")
    for _ in range(2):
        result = build(root)
        assert result.returncode == 1
        assert "policies/social-media.md:6:9: SCH001" in result.stderr
    policy.write_text(original, "utf-8")
    result = build(root, "--strict")
    assert result.returncode == 0, result.stderr
    assert (root / "site" / "policies" / "social-media" / "index.html").is_file()


def _add_policies(root: Path, count: int) -> None:
    for number in range(count):
        (root / "policies" / f"extra-{number}.md").write_text(
            "---\n"
            f"kind: policy\nid: extra-{number}\ntitle: Extra policy {number}\nowner: counsel\n"
            "status: active\nclassification: internal\n"
            'review: {every: P1Y, last: "2026-01-10"}\n'
            "summary: A generated policy.\nchange_chain: statement-chain\n"
            f'clauses:\n  - id: "1"\n    text: Generated clause {number}.\n'
            f"---\nGenerated body {number}.\n",
            "utf-8",
        )


def test_page_size_does_not_grow_with_the_number_of_pages(tmp_path: Path) -> None:
    sizes = []
    for count in (120, 360):
        root = make_repo(tmp_path / str(count))
        _add_policies(root, count)
        result = build(root)
        assert result.returncode == 0, result.stderr
        page = (root / "site" / "registers" / "roles" / "counsel" / "index.html").read_text("utf-8")
        nav = page[
            page.index('<nav class="md-nav md-nav--primary"') : page.index(
                "</nav>", page.index("md-nav--primary")
            )
        ]
        sizes.append((len(nav), len(page)))
        # The policy index is paginated: no index page lists more than index_page_size entries.
        assert (root / "site" / "policies" / "page_2" / "index.html").is_file()
    (nav_small, page_small), (nav_large, page_large) = sizes
    assert nav_small == nav_large
    # The counsel role owns every extra policy; its page lists at most LIST_LIMIT of them.
    assert page_large - page_small < 200, sizes


# --------------------------------------------------------------------------- units


def test_text_escaping_leaves_nothing_for_markdown_or_html_to_interpret() -> None:
    from clearance.site.render import mermaid_label, text

    assert str(text("# <b>x</b> | *a* [l](javascript:x) {: onclick=y }")) == (
        "&#35; &#60;b&#62;x&#60;/b&#62; &#124; &#42;a&#42; &#91;l&#93;(javascript:x) &#123;: onclick=y &#125;"
    )
    assert str(text("1. not a list")) == "1&#46; not a list"
    assert str(text("- not a list")) == "&#45; not a list"
    assert str(text("two\n\nlines")) == "two lines"
    assert '"' not in str(mermaid_label('a "quoted" <b>'))


def test_sanitiser_keeps_only_the_allowed_attribute_values() -> None:
    from clearance.site.sanitize import clean

    table = (
        '<table><tr><td style="text-align: left;">a</td><td style="color: red">b</td>'
        '<th style="text-align: right;" onclick="x()">c</th></tr></table>'
    )
    assert clean(table) == (
        '<table><tbody><tr><td style="text-align: left;">a</td><td>b</td>'
        '<th style="text-align: right;">c</th></tr></tbody></table>'
    )
    inputs = (
        '<input type="radio" name="t" checked><input type="checkbox" disabled>'
        '<input type="image" src="javascript:alert(1)"><input type="text" value="x">'
    )
    assert clean(inputs) == (
        '<input type="radio" name="t" checked=""><input type="checkbox" disabled=""><input><input>'
    )
    assert clean('<p style="text-align: left;">p</p>') == "<p>p</p>"  # style only on cells
    assert clean('<a href="javascript:alert(1)">x</a><a href="https://e.org/">y</a>') == (
        '<a>x</a><a href="https://e.org/">y</a>'
    )
    assert clean("<script>alert(1)</script><!-- note --><b>ok</b>") == "<b>ok</b>"


def test_relative_links_match_posixpath() -> None:
    import posixpath

    from clearance.site.links import relative

    pairs = [
        ("policies/a/index.md", "policies/b/index.md"),
        ("registers/roles/x/index.md", "incidents/i/review/index.md"),
        ("index.md", "dashboard/index.md"),
        ("dashboard/index.md", "index.md"),
        ("policies/a/index.md", "policies/a/index.md"),
    ]
    for target, here in pairs:
        assert relative(target, here) == posixpath.relpath(target, posixpath.dirname(here) or ".")


def test_a_user_nav_keeps_its_order_and_gains_the_generated_sections() -> None:
    from clearance.site import nav
    from clearance.site.pages import PageSpec

    plan = [PageSpec("policies/p/index.md", "P", "policy.md.j2", {}, "policies", sort_key="p")]
    for key, uri in (("protocols", "protocols/index.md"), ("registers", "registers/index.md")):
        plan.append(PageSpec(uri, key.title(), "index.md.j2", {}, key))
    plan.append(PageSpec("incidents/index.md", "Incidents", "index.md.j2", {}, "incidents"))
    plan.append(PageSpec("dashboard/index.md", "Dashboard", "dashboard.md.j2", {}, None))
    user = ["index.md", {"Guides": ["guide.md"]}, {"Policies": "policies/index.md"}]
    combined = nav.combine(user, ["index.md", "guide.md"], plan)
    assert combined[:3] == user  # the user's own placement of Policies wins
    titles = [next(iter(item)) for item in combined[3:]]
    assert titles == ["Protocols", "Registers", "Incidents", "Dashboard"]


def test_tags_plugin_never_sees_hidden_documents(tmp_path: Path) -> None:
    root = make_repo(tmp_path)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text("utf-8").replace("  - search\n", "  - search\n  - tags\n"), "utf-8")
    for audience in ("internal", "restricted"):
        result = build(root, "--strict", audience=audience)
        assert result.returncode == 0, result.stderr
        found = any(b"canarytagrz" in data for _, data in site_files(root / "site"))
        assert found is (audience == "restricted"), audience
    policy = (root / "site" / "policies" / "social-media" / "index.html").read_text("utf-8")
    assert "customers" in policy


# ------------------------------------------------------------- rendering ahead


def _fixture_site(tmp_path: Path, audience: str) -> tuple[Site, list[PageSpec]]:
    import datetime as dt

    from clearance import config as clearance_config
    from clearance import engine
    from clearance.site import pages
    from clearance.site.history import PageHistory

    root = tmp_path / "repo"
    if not root.is_dir():
        make_repo(tmp_path)
    settings = clearance_config.load(root)
    repo = engine.check(settings).repository
    history = PageHistory.load(root, repo.index.documents)
    site = pages.build_site(
        repo.index, repo.valid, audience, history, today=dt.date(2026, 3, 10), fixed_today=True
    )
    return site, pages.plan(site)


fork_only = pytest.mark.skipif(
    sys.platform == "darwin" or not hasattr(os, "fork"),
    reason="pages are rendered ahead only where fork is safe",
)


@fork_only
def test_pages_rendered_ahead_are_the_pages_rendered_in_process(tmp_path: Path) -> None:
    from clearance.site import pages, prerender

    for audience in ("public", "internal", "restricted"):
        site, plan = _fixture_site(tmp_path, audience)
        rendered = prerender.Rendered(site, plan, ahead=True)
        assert rendered.ahead is (len(plan) >= prerender.MINIMUM), audience
        try:
            # Asked out of order, as another plugin might: every page still gets its own text.
            for spec in plan[::-1]:
                assert rendered.markdown(spec.src_uri) == pages.markdown(site, spec), spec.src_uri
        finally:
            rendered.close()


@fork_only
def test_pages_are_rendered_in_process_when_the_child_fails_or_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearance.site import pages, prerender

    site, plan = _fixture_site(tmp_path, "internal")
    expected = [pages.markdown(site, spec) for spec in plan]
    parent = os.getpid()
    original = pages.markdown

    def failing_in_child(site: Site, spec: PageSpec) -> str:
        if os.getpid() != parent and spec is plan[len(plan) // 2]:
            raise RuntimeError("template failure in the child")
        return original(site, spec)

    monkeypatch.setattr(pages, "markdown", failing_in_child)
    rendered = prerender.Rendered(site, plan, ahead=True)
    assert rendered.ahead
    assert [rendered.markdown(spec.src_uri) for spec in plan] == expected
    assert not rendered.ahead  # the child is gone

    monkeypatch.setattr(pages, "markdown", original)
    rendered = prerender.Rendered(site, plan, ahead=True)
    assert rendered._process is not None
    rendered._process.kill()
    assert [rendered.markdown(spec.src_uri) for spec in plan] == expected


@fork_only
def test_a_page_that_cannot_be_rendered_fails_in_the_build_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from clearance.site import pages, prerender

    site, plan = _fixture_site(tmp_path, "internal")
    broken = plan[3]
    original = pages.markdown

    def broken_page(site: Site, spec: PageSpec) -> str:
        if spec is broken:
            raise RuntimeError(f"cannot render {spec.src_uri}")
        return original(site, spec)

    monkeypatch.setattr(pages, "markdown", broken_page)
    rendered = prerender.Rendered(site, plan, ahead=True)
    try:
        rendered.markdown(plan[2].src_uri)
        with pytest.raises(RuntimeError, match="cannot render"):
            rendered.markdown(broken.src_uri)
    finally:
        rendered.close()
