"""The generated pages' Markdown, rendered ahead of MkDocs in a forked process.

MkDocs converts the pages one after another on one core, and rendering our
templates for each page (about 1 ms) would add to that. When the platform forks and
the process runs one thread (``mkdocs build``; not the live-reload server), a child
renders every page in plan order and streams the text back while MkDocs works
through the pages; a page's Markdown is taken when MkDocs first reads the page.

The child renders the same pages from the same in-memory site (fork copies it), so
the text is identical. If the child cannot start, fails or dies, the remaining pages
are rendered in this process, which gives the same text or raises the same error.
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, InclusionLevel

from clearance.site import pages

CHUNK = 50  # pages per message from the child
MINIMUM = 20  # below this, starting a process costs more than it saves


def can_fork() -> bool:
    """A fork is safe only with a single thread; macOS system libraries forbid it."""
    return (
        sys.platform != "darwin"
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class Rendered:
    """The Markdown of every page in ``plan``, by source URI."""

    def __init__(self, site: pages.Site, plan: list[pages.PageSpec], *, ahead: bool) -> None:
        self.site = site
        self.plan = plan
        self._position = {spec.src_uri: number for number, spec in enumerate(plan)}
        self._texts: dict[int, str] = {}
        self._received = 0  # pages [0, _received) came from the child
        self._conn: Connection | None = None
        self._process: BaseProcess | None = None
        if ahead and len(plan) >= MINIMUM and can_fork():
            self._start()

    @property
    def ahead(self) -> bool:
        return self._process is not None

    def markdown(self, src_uri: str) -> str:
        number = self._position[src_uri]
        while self._conn is not None and number >= self._received:
            self._receive()
        text = self._texts.pop(number, None)
        return text if text is not None else pages.markdown(self.site, self.plan[number])

    def close(self) -> None:
        """Stop the child if it still runs and forget what it sent."""
        self._stop()
        self._texts.clear()

    # -------------------------------------------------------------------- the child

    def _start(self) -> None:
        context = multiprocessing.get_context("fork")
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_render_all, args=(sender, self.site, self.plan), daemon=True)
        try:
            process.start()
        except OSError:  # no memory or no processes left: render here instead
            receiver.close()
            sender.close()
            return
        sender.close()
        self._conn, self._process = receiver, process

    def _receive(self) -> None:
        assert self._conn is not None
        try:
            start, texts = self._conn.recv()
        except (EOFError, OSError):  # the child died
            start, texts = None, []
        if start is None:
            self._stop()
            return
        for offset, text in enumerate(texts):
            self._texts[start + offset] = text
        self._received = start + len(texts)
        if self._received >= len(self.plan):
            self._stop()

    def _stop(self) -> None:
        """No more pages come from the child; what it sent stays."""
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.terminate()
            process.join()


def _render_all(conn: Connection, site: pages.Site, plan: list[pages.PageSpec]) -> None:
    try:
        for start in range(0, len(plan), CHUNK):
            conn.send((start, [pages.markdown(site, spec) for spec in plan[start : start + CHUNK]]))
    except Exception:
        # The parent renders the rest itself and meets the same error with its traceback.
        conn.send((None, []))
    finally:
        conn.close()


class RenderedFile(File):
    """A generated page whose content is taken from :class:`Rendered` when first read.

    MkDocs reads a file's content only through ``_content`` (``content_string``,
    ``content_bytes``, ``copy_file``), so every reader gets the rendered text."""

    _text: str | bytes | None = None
    _source: Callable[[], str] | None = None

    @classmethod
    def of(
        cls, config: MkDocsConfig, src_uri: str, source: Callable[[], str], inclusion: InclusionLevel
    ) -> RenderedFile:
        file = cls.generated(config, src_uri, content="", inclusion=inclusion)
        assert isinstance(file, RenderedFile)
        file._text = None
        file._source = source
        return file

    @property
    def _content(self) -> str | bytes | None:
        if self._text is None and self._source is not None:
            self._text = self._source()
            self._source = None
        return self._text

    @_content.setter
    def _content(self, value: str | bytes | None) -> None:
        self._text = value
        self._source = None
