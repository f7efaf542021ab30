"""Where documents live: kinds in their folders, incident folders shaped as expected."""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.checks import Context, register
from clearance.index import incident_of
from clearance.model import Finding, Location, Severity

ENTRY_NAME = re.compile(r"^\d{8}T\d{6}Z-[a-z0-9]{4,12}$")


@register(
    ("LAY001", Severity.ERROR, "document kind does not belong in its folder"),
    ("LAY002", Severity.ERROR, "incident file in the wrong place or with an id that differs from its folder"),
    ("LAY003", Severity.ERROR, "log entry file name is not <UTC timestamp>-<random suffix>.yaml"),
)
def layout(ctx: Context) -> Iterator[Finding]:
    folders = ctx.config.folders
    for doc in ctx.subjects():
        kind = doc.kind
        parts = tuple(doc.path.split("/"))
        top = parts[0] if parts else ""
        allowed = folders.get(top)
        if allowed is not None and kind not in allowed:
            home = [folder for folder, kinds in folders.items() if kind in kinds]
            yield ctx.finding(
                "LAY001",
                doc.where(("kind",)),
                f"a {kind} does not belong under {top}/",
                f"move it under {home[0]}/" if home else None,
            )
        if kind in ("incident", "log-entry", "review"):
            yield from _incident_layout(ctx, doc, parts)


def _incident_layout(ctx: Context, doc, parts: tuple[str, ...]) -> Iterator[Finding]:  # type: ignore[no-untyped-def]
    incident = incident_of(doc)
    name = parts[-1]
    expected = {"incident": "incident.yaml", "review": "review.md"}
    if incident is None:
        yield ctx.finding(
            "LAY002",
            doc.where(("kind",)),
            f"a {doc.kind} must live in an incident folder: incidents/<incident-id>/",
        )
        return
    if doc.kind == "log-entry":
        if len(parts) < 2 or parts[-2] != "log":
            yield ctx.finding(
                "LAY002",
                doc.where(("kind",)),
                "a log entry must live in incidents/<incident-id>/log/",
            )
        stem = name.rsplit(".", 1)[0]
        if not ENTRY_NAME.match(stem) or not name.endswith(".yaml"):
            yield ctx.finding(
                "LAY003",
                Location(doc.path, 1, 1),
                f"log entry file name {name!r} is not <YYYYMMDDTHHMMSSZ>-<suffix>.yaml",
                "create entries with 'clearance incident log', which names them",
            )
        return
    if name != expected[doc.kind]:
        yield ctx.finding(
            "LAY002",
            doc.where(("kind",)),
            f"a {doc.kind} must be named {expected[doc.kind]} in its incident folder",
        )
    if doc.kind == "incident" and doc.id != incident:
        yield ctx.finding(
            "LAY002",
            doc.where(("id",)),
            f"incident id {doc.id!r} differs from its folder name {incident!r}",
            f"use id: {incident}",
        )
    if doc.kind == "review" and doc.data.get("incident") != incident:
        yield ctx.finding(
            "LAY002",
            doc.where(("incident",)),
            f"review names incident {doc.data.get('incident')!r} but lives in {incident!r}",
        )
