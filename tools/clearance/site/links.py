"""Links between pages. Every mention of another document goes through
:class:`Linker`, which prints a link when the reader may see the target and the plain
word "restricted" (no title, no id) when not; links inside document bodies and
hand-written pages get the same treatment."""

from __future__ import annotations

import posixpath
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from markupsafe import Markup

from clearance.index import incident_of
from clearance.model import Document
from clearance.site import render
from clearance.site.urls import anchor, title_of

if TYPE_CHECKING:
    from clearance.site.pages import Site

RESTRICTED = Markup("*restricted*")


def relative(target: str, here: str) -> str:
    """``target`` relative to the folder of ``here`` (both docs-relative POSIX paths);
    posixpath.relpath would consult the working directory on every call."""
    origin = here.split("/")[:-1]
    parts = target.split("/")
    common = 0
    while common < len(origin) and common < len(parts) - 1 and origin[common] == parts[common]:
        common += 1
    return "/".join([".."] * (len(origin) - common) + parts[common:])


class Linker:
    """Links from one page to others, relative to that page's source file so MkDocs
    checks them and writes the right URL whatever ``use_directory_urls`` says."""

    def __init__(self, site: Site, here: str) -> None:
        self.site = site
        self.here = here

    def href(self, target: str, fragment: str = "") -> str:
        rel = relative(target, self.here)
        return rel + (f"#{fragment}" if fragment else "")

    def to(self, target: str, label: object, fragment: str = "") -> Markup:
        return Markup(f"[{render.text(label)}]({self.href(target, fragment)})")

    def doc(self, doc: Document | None, label: object = None) -> Markup:
        if doc is None or not self.site.audience.sees(doc):
            return RESTRICTED
        target = self.site.uri_of.get(id(doc))
        if target is None:  # a log entry: it lives on its incident's page
            return RESTRICTED
        return self.to(target, label if label is not None else title_of(doc))

    def ref(self, kind: str, key: object, label: object = None) -> Markup:
        """A link to the document ``key`` of ``kind``, or "restricted"."""
        if not isinstance(key, str):
            return RESTRICTED
        index = self.site.index
        if kind in ("clause", "obligation"):
            hit = index.part(kind, key)
            if hit is None or not self.site.audience.sees(hit[0]):
                return RESTRICTED
            owner, _ = hit
            local = key.split("#", 1)[1]
            target = self.site.uri_of.get(id(owner))
            if target is None:
                return RESTRICTED
            prefix = "clause" if kind == "clause" else "obligation"
            shown = label if label is not None else f"{title_of(owner)} § {local}"
            return self.to(target, shown, anchor(prefix, local))
        if kind == "log-entry":
            entry = index.get("log-entry", key)
            if entry is None or not self.site.audience.sees(entry):
                return RESTRICTED
            incident = index.get("incident", incident_of(entry) or "")
            target = self.site.uri_of.get(id(incident)) if incident else None
            if target is None:
                return RESTRICTED
            stem = PurePosixPath(entry.path).stem
            return self.to(target, label if label is not None else stem, anchor("entry", stem))
        return self.doc(index.get(kind, key), label)

    def refs(self, kind: str, keys: object) -> Markup:
        if not isinstance(keys, list) or not keys:
            return Markup("–")
        return Markup(", ").join(self.ref(kind, key) for key in keys)

    def body(self, doc: Document) -> Markup:
        # A snippet or include marker in a document body is shown, never expanded.
        text = _SNIPPET.sub(lambda m: m.group(0).replace("<", "&lt;"), doc.body or "")
        return Markup(rewrite_links(text, doc, self))


# Markdown links and images: [text](target "title") and reference definitions.
_INLINE_LINK = re.compile(
    r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)"
)
_REF_DEFINITION = re.compile(r"^( {0,3})\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_SNIPPET = re.compile(r"-{1,}8<-{1,}")
_EXTERNAL = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|//|#)")


def rewrite_links(body: str, doc: Document, linker: Linker) -> str:
    """Point relative links in a document's body at the generated pages. A link to a
    document the reader may not see becomes "restricted" (its text may hold the
    title); a link to any other repository file keeps only its text, because files in
    the content folders are never copied to the site."""
    folder = posixpath.dirname(doc.path)

    def target_of(raw: str) -> tuple[Document | None, str, bool]:
        path, _, fragment = raw.partition("#")
        resolved = posixpath.normpath(posixpath.join(folder, path)) if path else doc.path
        found = linker.site.by_path.get(resolved)
        return found, fragment, resolved in linker.site.by_path or resolved in linker.site.hidden_paths

    def inline(match: re.Match[str]) -> str:
        bang, label, raw = match.group(1), match.group(2), match.group(3)
        if _EXTERNAL.match(raw):
            return match.group(0)
        found, fragment, is_doc = target_of(raw)
        if is_doc and (found is None or not linker.site.audience.sees(found)):
            return str(RESTRICTED)
        if found is not None:
            target = linker.site.uri_of.get(id(found))
            if target is None:
                return str(RESTRICTED)
            return f"{bang}[{label}]({linker.href(target, fragment)})"
        return label if not bang else ""

    def definition(match: re.Match[str]) -> str:
        indent, name, raw = match.groups()
        if _EXTERNAL.match(raw):
            return match.group(0)
        found, fragment, _ = target_of(raw)
        if found is not None and linker.site.audience.sees(found):
            target = linker.site.uri_of.get(id(found))
            if target is not None:
                return f"{indent}[{name}]: {linker.href(target, fragment)}"
        return f"{indent}[{name}]: #"

    return _REF_DEFINITION.sub(definition, _INLINE_LINK.sub(inline, body))
