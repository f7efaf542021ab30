"""The plugin's typed configuration (``plugins: [clearance: {...}]`` in mkdocs.yml)."""

from __future__ import annotations

from mkdocs.config import base
from mkdocs.config import config_options as c

from clearance.site.audience import AUDIENCES

AUDIENCE_ENV = "CLEARANCE_AUDIENCE"


class ClearanceConfig(base.Config):
    # Who the site is for; CLEARANCE_AUDIENCE overrides it so one mkdocs.yml builds
    # several sites.
    audience = c.Choice(AUDIENCES, default="internal")
    # Treat clearance warnings as errors (the build fails on them).
    strict = c.Type(bool, default=False)
    # Content folders to publish; by default every folder clearance.yaml lists.
    folders = c.Optional(c.ListOfItems(c.Type(str)))
    # Sections with more documents than this keep them out of the navigation and list
    # them on paginated index pages instead, so no page embeds a huge navigation.
    nav_limit = c.Type(int, default=40)
    # Entries per page of a section index.
    index_page_size = c.Type(int, default=100)
    # "last changed by" lines and per-page history from one pass over git history.
    history = c.Type(bool, default=True)
    # Entries shown in a page's history table.
    history_entries = c.Type(int, default=10)
    # Reuse what `clearance check` (or the last build) loaded and checked, from the cache
    # it keeps in .git/clearance/; as in `clearance check`, only in a git work tree.
    cache = c.Type(bool, default=True)
    # Render the pages' Markdown in a forked process while MkDocs converts pages
    # (only where fork is safe: Linux-like systems, a single-threaded `mkdocs build`).
    render_ahead = c.Type(bool, default=True)
