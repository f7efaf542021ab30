"""The ``clearance`` MkDocs plugin: thin event hooks over the core.

on_config   load and check the repository once (the same code as ``clearance check``,
            with its document cache, so a build after a check does not redo it);
            errors fail the build with file and line, warnings go to the
            ``mkdocs.plugins.clearance`` logger so ``--strict`` counts them; a site
            with none of the content folders fails with ``clearance check``'s message.
on_files    drop every file of the content folders, then add one generated page per
            document the audience may see, the indexes of the sections that hold
            any, and the dashboard; lay out the navigation. The pages' Markdown is
            rendered ahead, in a forked process, while MkDocs converts the pages
            (see ``prerender``).
            Hand-written pages are governed documents (see ``handwritten``): those
            above the audience are left out; a symbolic link fails the build.
on_page_markdown  hand-written pages: links to withheld pages become "restricted"
            in every form (see ``govern``) and the page gains its history.
on_page_content  every page: no element points at a withheld page; generated pages
            are cleaned with an allowlist and get their diagrams (SVG drawn here).
No page asks another host for anything: the theme's web fonts are turned off and
diagrams are drawn at build time, so the handbook works on a network without the
internet.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import os
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import Files, InclusionLevel
from mkdocs.structure.pages import Page

from clearance import config as clearance_config
from clearance import engine
from clearance.checks import settings as rule_settings
from clearance.errors import FatalError
from clearance.incremental import run as incremental
from clearance.model import Severity
from clearance.site import diagrams, govern, handwritten, nav, pages, prerender, render, sanitize
from clearance.site.audience import AUDIENCES, rank
from clearance.site.config import AUDIENCE_ENV, ClearanceConfig
from clearance.site.history import Governance, PageHistory

log = logging.getLogger("mkdocs.plugins.clearance")

# Markdown extensions the generated pages rely on; added when mkdocs.yml lacks them.
REQUIRED_EXTENSIONS: dict[str, dict[str, Any]] = {
    "admonition": {},
    "attr_list": {},
    "md_in_html": {},
    "tables": {},
    "toc": {"permalink": True},
    "pymdownx.details": {},
    "pymdownx.tabbed": {"alternate_style": True},
    "pymdownx.superfences": {},
}
MAX_REPORTED = 20


class ClearancePlugin(BasePlugin[ClearanceConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.site: pages.Site | None = None
        self.generated: dict[str, pages.PageSpec] = {}
        self.repository: engine.Repository | None = None
        self.root: Path | None = None
        self.audience = "internal"
        self.history: PageHistory | None = None
        self.rendered: prerender.Rendered | None = None
        self.written: dict[str, handwritten.Written] = {}

    # ------------------------------------------------------------------ events

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        self.generated = {}
        self.root = Path(config.config_file_path or ".").resolve().parent
        self.audience = self._audience()
        _ensure_extensions(config)
        # mkdocs-material fetches its text fonts from Google unless told not to; the
        # handbook must work where the internet cannot be reached.
        if config.theme.name == "material":
            config.theme["font"] = False
        try:
            settings = clearance_config.load(self.root)
            rule_settings.require_valid_rules(settings)
        except FatalError as exc:
            raise PluginError(f"clearance: {exc}") from None
        if self.config.folders:
            settings = dataclasses.replace(settings, content=tuple(self.config.folders))
        try:
            # Without one content folder there is nothing to publish: a handbook of empty
            # sections would hide the mistake (a wrong docs folder, a missing checkout).
            clearance_config.require_content(settings)
        except FatalError as exc:
            raise PluginError(f"clearance: {exc}") from None
        _guard_snippets(config, self.root, settings.content)
        if "macros" in config.plugins:
            raise PluginError(
                "clearance: the 'macros' plugin evaluates template code in every page, including "
                "governance documents, and its includes can read any file; remove it from mkdocs.yml"
            )
        try:
            # The cache holds the same results `clearance check` computes, keyed by each
            # file's content; one that is stale or unreadable is ignored and rebuilt.
            cache = self.config.cache and (self.root / ".git").is_dir()
            result = incremental.check(settings, strict=self.config.strict, cache=cache)
        except FatalError as exc:
            raise PluginError(f"clearance: {exc}") from None
        errors = [f for f in result.findings if f.severity >= Severity.ERROR]
        # A file that did not load or validate is never published, whatever
        # clearance.yaml says about its rule's severity: the build fails instead.
        errors.extend(
            f for f in result.repository.findings if f.severity >= Severity.ERROR and f not in errors
        )
        errors.sort(key=lambda f: f.sort_key())
        for finding in result.findings:
            if finding.severity is Severity.WARNING:
                log.warning("%s: %s %s", finding.location, finding.rule, finding.message)
        if errors:
            lines = [f"{f.location}: {f.rule} {f.message}" for f in errors[:MAX_REPORTED]]
            if len(errors) > MAX_REPORTED:
                lines.append(f"... and {len(errors) - MAX_REPORTED} more (run 'clearance check')")
            raise PluginError(
                f"clearance: the repository has {len(errors)} error(s); nothing is published until "
                "they are fixed:\n  " + "\n  ".join(lines)
            )
        self.repository = result.repository
        try:
            self.history = PageHistory.load(
                self.root,
                result.repository.index.documents,
                enabled=self.config.history,
                entries=self.config.history_entries,
                repo_url=config.repo_url,
            )
        except FatalError as exc:  # git refuses the repository, for instance
            raise PluginError(f"clearance: cannot read the git history: {exc}") from None
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        assert self.repository is not None and self.root is not None and self.history is not None
        repo = self.repository
        settings = repo.config
        site = pages.build_site(
            repo.index,
            repo.valid,
            self.audience,
            self.history,
            today=settings.today or dt.date.today(),
            due_soon_days=settings.due_soon_days,
            organisation=settings.organisation,
            nav_limit=self.config.nav_limit,
            index_page_size=self.config.index_page_size,
            fixed_today=settings.today is not None,
        )
        self.site = site
        _drop_content_files(files, settings.root.resolve(), settings.content)
        docs = Path(config.docs_dir)
        default = handwritten.default_level(self.root)
        scanned = handwritten.scan(files, docs, self.root, default)
        try:
            site.docs_prefix = docs.resolve().relative_to(self.root).as_posix()
        except ValueError:
            site.docs_prefix = None
        self.written = {}
        for item in scanned:
            if handwritten.visible(item, self.audience):
                if item.is_page:
                    self.written[item.src_uri] = item
                continue
            removed = files.get_file_from_path(item.src_uri)
            if removed is not None:
                files.remove(removed)
            site.hidden_uris.add(item.src_uri)
            site.hidden_paths.add(item.path)
        written = [f.src_uri for f in files.documentation_pages() if f.generated_by is None]
        plan = pages.plan(site)
        for spec in plan:
            existing = files.get_file_from_path(spec.src_uri)
            if existing is not None:
                raise PluginError(
                    f"clearance: {existing.src_uri!r} in {config.docs_dir!r} collides with the generated "
                    f"page of the same name; rename or remove it"
                )
        self._prepare_history(site, plan, scanned, default, settings.content)
        self._close_rendered()
        rendered = self.rendered = prerender.Rendered(site, plan, ahead=self.config.render_ahead)
        for spec in plan:
            inclusion = InclusionLevel.INCLUDED if spec.in_nav else InclusionLevel.NOT_IN_NAV
            source = functools.partial(rendered.markdown, spec.src_uri)
            files.append(prerender.RenderedFile.of(config, spec.src_uri, source, inclusion))
            self.generated[spec.src_uri] = spec
        config.nav = nav.combine(config.nav, written, plan, site.hidden_uris | site.omitted_uris)
        withheld = len(site.hidden_paths)
        log.info(
            "clearance: %d pages for audience %r; %d documents withheld", len(plan), self.audience, withheld
        )
        return files

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        spec = self.generated.get(page.file.src_uri)
        if spec is not None:
            # The page's source is the document, not a file in docs_dir.
            page.edit_url = _edit_url(config, self.root, spec.source.path) if spec.source else None
            return markdown
        if self.site is None:
            return markdown
        src_uri = page.file.src_uri
        text = govern.govern_markdown(markdown, src_uri, page.url, self.site)
        item = self.written.get(src_uri)
        if item is not None and self.history is not None:
            log_ = self.history.for_key(item.path, self.site.audience)
            if log_ is not None and log_.lines:
                text = text.rstrip("\n") + "\n\n" + render.render("history.md.j2", {"history": log_})
        return text

    def on_page_content(self, html: str, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        if self.site is not None:
            spec = self.generated.get(page.file.src_uri)
            source = spec.source if spec is not None else None
            # A generated page's links come from the Linker, which never links to a
            # withheld page; only raw HTML in a document's body needs the check.
            if spec is None or (source is not None and "<" in (source.body or "")):
                path = source.path if source is not None else None
                html = govern.govern_html(html, page.file.src_uri, page.url, self.site, path)
        if page.file.src_uri in self.generated:
            return diagrams.restore(sanitize.clean(html))
        return html

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._close_rendered()

    def on_build_error(self, *, error: Exception) -> None:
        self._close_rendered()

    def on_serve(self, server: Any, *, config: MkDocsConfig, builder: Any) -> Any:
        if self.root is not None and self.repository is not None:
            for folder in self.repository.config.content:
                path = self.root / folder
                if path.is_dir():
                    server.watch(str(path))
            if (self.root / clearance_config.CONFIG_NAME).is_file():
                server.watch(str(self.root / clearance_config.CONFIG_NAME))
        return server

    # ----------------------------------------------------------------- helpers

    def _close_rendered(self) -> None:
        if self.rendered is not None:
            self.rendered.close()
            self.rendered = None

    def _prepare_history(
        self,
        site: pages.Site,
        plan: list[pages.PageSpec],
        scanned: list[handwritten.Written],
        default: str,
        content: tuple[str, ...],
    ) -> None:
        """Decide once, in one batch, which commit subjects the pages may show."""
        history = self.history
        if history is None or history.history is None:
            return
        now = {doc.path: site.audience.effective_rank(doc) for doc in site.index.documents}
        now.update({item.path: rank(item.level) for item in scanned})
        governance = Governance(content, site.docs_prefix, rank(default), now)
        keys = [history.key_of(spec.source) for spec in plan if spec.source is not None]
        keys.extend(item.path for item in self.written.values())
        history.prepare(governance, [k for k in keys if k], site.hidden_paths)

    def _audience(self) -> str:
        chosen = os.environ.get(AUDIENCE_ENV) or self.config.audience
        if chosen not in AUDIENCES:
            raise PluginError(
                f"clearance: {AUDIENCE_ENV}={chosen!r} is not an audience; use one of {', '.join(AUDIENCES)}"
            )
        return chosen


def _ensure_extensions(config: MkDocsConfig) -> None:
    names = config.markdown_extensions
    for name, options in REQUIRED_EXTENSIONS.items():
        if name not in names:
            names.append(name)
            if options:
                config.mdx_configs[name] = dict(options)


def _guard_snippets(config: MkDocsConfig, root: Path, content: tuple[str, ...]) -> None:
    """pymdownx.snippets would let a page include any file under its base paths; a
    base path that holds a content folder could pull a hidden document into a page."""
    if "pymdownx.snippets" not in config.markdown_extensions:
        return
    options = config.mdx_configs.get("pymdownx.snippets") or {}
    bases = options.get("base_path", ["."])
    bases = [bases] if isinstance(bases, str) else list(bases)
    folders = [(root / folder).resolve() for folder in content]
    for base in bases:
        where = (root / str(base)).resolve()
        for folder in folders:
            if where == folder or where in folder.parents or folder in where.parents:
                raise PluginError(
                    f"clearance: pymdownx.snippets base_path {str(base)!r} reaches the content folder "
                    f"{folder.relative_to(root).as_posix()!r}; a page could include a document its "
                    "audience may not see. Point base_path at a folder of snippets outside the "
                    "content folders."
                )
    if options.get("restrict_base_path") is False:
        raise PluginError("clearance: pymdownx.snippets restrict_base_path must stay true")


def _edit_url(config: MkDocsConfig, root: Path | None, path: str) -> str | None:
    if not (config.repo_url and config.edit_uri and root is not None):
        return None
    edit = config.edit_uri.strip("/")
    docs = Path(config.docs_dir).resolve()
    if root in docs.parents:
        folder = docs.relative_to(root).as_posix()
        if edit.endswith("/" + folder):
            edit = edit[: -len(folder) - 1]
    return f"{config.repo_url.rstrip('/')}/{edit}/{path}"


def _drop_content_files(files: Files, root: Path, content: tuple[str, ...]) -> None:
    """Files inside a content folder are sources, never published as they are."""
    folders = [(root / folder).resolve() for folder in content]
    for file in list(files):
        if file.abs_src_path is None or file.generated_by is not None:
            continue
        path = Path(file.abs_src_path).resolve()
        if any(path == folder or folder in path.parents for folder in folders):
            files.remove(file)
