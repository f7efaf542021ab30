"""The built handbook in a real browser: Debian's headless chromium driven by
Playwright (no browser download). The site is served over HTTP on 127.0.0.1 because
mkdocs-material's search runs in a web worker that needs it.

In CI (CI=true) a missing chromium or Playwright fails the test instead of skipping
it, so the browser test can never silently stop running."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_test import build, make_repo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# the same browser 'make browser' looks for: CLEARANCE_CHROMIUM, else chromium on PATH
CHROMIUM = os.environ.get("CLEARANCE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"browser test cannot run in CI: {reason}")
    pytest.skip(reason)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = make_repo(tmp_path_factory.mktemp("browser"))
    result = build(root, "--strict", audience="internal")
    assert result.returncode == 0, result.stderr
    handler = functools.partial(_Quiet, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        _unavailable(f"chromium not found at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed")
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _search(page: object, words: str) -> None:
    page.fill("input.md-search__input", "")  # type: ignore[attr-defined]
    page.type("input.md-search__input", words, delay=20)  # type: ignore[attr-defined]


def test_search_finds_a_clause_and_the_result_shows_it(browser: object, served: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(served)
        assert "Fixture handbook" in page.title()
        page.click("label.md-search__icon, .md-search__input", timeout=10_000)
        _search(page, "never confirm customer identity")
        # The clause's own section is a result of its own, linked to its anchor.
        result = page.locator('a.md-search-result__link[href$="policies/social-media/#clause-1"]').first
        result.wait_for(state="attached", timeout=20_000)
        if not result.is_visible():  # ranked below the page's top section: "N more on this page"
            item = page.locator(".md-search-result__item", has=result)
            item.locator("summary").first.click()
            result.wait_for(state="visible", timeout=10_000)
        assert "Employees never confirm a customer" in result.inner_text()
        result.click()
        page.wait_for_url("**/policies/social-media/#clause-1", timeout=10_000)
        clause = page.locator("#clause-1")
        clause.wait_for(state="visible", timeout=10_000)
        assert clause.is_visible()
        # The clause text follows its heading and is on screen.
        text = page.locator("#clause-1 + p")
        assert "Employees never confirm a customer's identity" in text.inner_text()
        assert text.is_visible()
    finally:
        context.close()


def test_search_cannot_find_a_restricted_canary(browser: object, served: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        page.goto(served)
        page.click("label.md-search__icon, .md-search__input", timeout=10_000)
        # First prove the search is live: a visible word finds something.
        _search(page, "takeover")
        page.locator(".md-search-result__item").first.wait_for(state="visible", timeout=20_000)
        for canary in ("CANARYCLAUSETEXT7", "CANARYPOLICYTITLE1", "quietly acquire the competitor"):
            _search(page, canary)
            meta = page.locator(".md-search-result__meta")
            meta.wait_for(state="visible", timeout=10_000)
            page.wait_for_function(
                "() => document.querySelectorAll('.md-search-result__item').length === 0", timeout=10_000
            )
            assert "No matching documents" in meta.inner_text()
    finally:
        context.close()


# ------------------------------------------------------------- offline and pictures

SHOTS = {
    "home": "",
    "protocol": "protocols/account-takeover/",
    "incident": "incidents/ex-2026-01/",
    "dashboard": "dashboard/",
}
WIDTHS = {"desktop": 1280, "phone": 390}
# What would show if Markdown or a diagram's source were printed instead of rendered.
RAW = ("flowchart", "```", "**", "## ", "{: #", "-->", "CLEARANCESVG", "[restricted]")


@pytest.fixture(scope="module")
def served_public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = make_repo(tmp_path_factory.mktemp("browser-public"))
    result = build(root, "--strict", audience="public")
    assert result.returncode == 0, result.stderr
    handler = functools.partial(_Quiet, directory=str(root / "site"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _offline_page(browser: object, base: str, width: int) -> tuple[object, object, list[str]]:
    """A page whose every request to another host is blocked and recorded."""
    context = browser.new_context(viewport={"width": width, "height": 900})  # type: ignore[attr-defined]
    elsewhere: list[str] = []

    def route(request_route: object) -> None:
        url = request_route.request.url  # type: ignore[attr-defined]
        if url.startswith(base) or url.startswith("data:") or url.startswith("blob:"):
            request_route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(url)
            request_route.abort()  # type: ignore[attr-defined]

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith((base, "data:", "blob:")) else elsewhere.append(request.url)
        ),
    )
    return context, page, elsewhere


def _visible_problems(page: object) -> list[str]:
    text = page.inner_text("article")  # type: ignore[attr-defined]
    problems = [f"raw {marker!r} visible" for marker in RAW if marker in text]
    empty = page.evaluate(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('article th')].filter(th => !th.innerText.trim()).length"
    )
    if empty:
        problems.append(f"{empty} empty header cell(s)")
    return problems


@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_pages_render_offline_with_svg_diagrams(
    browser: object, served: str, width: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    shots = Path(os.environ.get("CLEARANCE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    context, page, elsewhere = _offline_page(browser, served, WIDTHS[width])
    try:
        for name, path in SHOTS.items():
            page.goto(served + path, wait_until="networkidle")  # type: ignore[attr-defined]
            target = shots / f"{name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)  # type: ignore[attr-defined]
            assert target.stat().st_size > 10_000, target
            assert not _visible_problems(page), (name, _visible_problems(page))
            assert page.locator(".mermaid, pre.mermaid, code.language-mermaid").count() == 0  # type: ignore[attr-defined]
            if name in ("protocol", "incident"):
                figures = page.locator("figure.clearance-diagram")  # type: ignore[attr-defined]
                assert figures.count() >= 1, name
                for index in range(figures.count()):
                    assert figures.nth(index).locator(":scope > svg").count() == 1, (name, index)
        # The protocol's severities are tabs: each tab's chain is a drawn picture.
        page.goto(served + SHOTS["protocol"], wait_until="networkidle")  # type: ignore[attr-defined]
        labels = page.locator(".tabbed-labels label")  # type: ignore[attr-defined]
        assert labels.count() == 2
        for index in range(labels.count()):
            labels.nth(index).click()
            visible = page.locator("figure.clearance-diagram svg:visible")  # type: ignore[attr-defined]
            assert visible.count() == 1
            box = visible.first.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 60
            assert "Communications lead" in visible.first.text_content()
        # The incident's timeline is a chart with its lanes.
        page.goto(served + SHOTS["incident"], wait_until="networkidle")  # type: ignore[attr-defined]
        chart = page.locator("svg.clearance-timeline")  # type: ignore[attr-defined]
        assert chart.count() == 1 and chart.first.is_visible()
        lanes = chart.first.text_content() or ""
        assert all(lane in lanes for lane in ("Detection", "Drafts", "Approvals", "Publications"))
    finally:
        context.close()  # type: ignore[attr-defined]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"


def test_the_public_site_makes_no_request_elsewhere_and_search_works(
    browser: object, served_public: str
) -> None:
    context, page, elsewhere = _offline_page(browser, served_public, 1280)
    try:
        page.goto(served_public, wait_until="networkidle")  # type: ignore[attr-defined]
        assert not _visible_problems(page)
        # Lists hold only what a public reader can open: no "restricted" item.
        assert page.locator("article li", has_text="restricted").count() == 0  # type: ignore[attr-defined]
        page.click("label.md-search__icon, .md-search__input", timeout=10_000)  # type: ignore[attr-defined]
        _search(page, "breach")
        page.locator(".md-search-result__item").first.wait_for(state="visible", timeout=20_000)  # type: ignore[attr-defined]
        results = page.inner_text(".md-search-result")  # type: ignore[attr-defined]
        assert "flowchart" not in results and "CLEARANCESVG" not in results
        page.goto(served_public + "dashboard/", wait_until="networkidle")  # type: ignore[attr-defined]
        assert not _visible_problems(page)
    finally:
        context.close()  # type: ignore[attr-defined]
    assert elsewhere == [], f"requests to other hosts: {elsewhere}"
