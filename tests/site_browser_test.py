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
