"""Handbook build benchmark: the clearance plugin against plain mkdocs-material.

    .venv/bin/python bench/site_bench.py [--documents 2000] [--repeat 3] [--json]

1. Generates a synthetic governance repository (bench/corpus.py) with a short git
   history, so the plugin reads history as it would in real use.
2. Builds it with the clearance plugin (`mkdocs build`; load, check, generate pages,
   sanitise, history) twice per round: cold, with the document cache in .git/clearance/
   removed first (a fresh clone), and after `clearance check` has run (untimed), as
   `make build` does, so the plugin reuses the check's cache.
3. Writes exactly the Markdown pages the plugin generated, with the same navigation,
   theme, features and Markdown extensions, into a second project without the plugin
   and builds that with mkdocs-material: the baseline. The two sites must hold the
   same set of pages.
4. Reports the median build time of each (builds alternate, --repeat rounds), the
   ratios to the baseline (target <= 1.2, held by the cold build), the largest page
   (target <= 100 KB), the median page, and the largest page of a build ten times
   smaller, which shows whether page size grows with the number of pages.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import corpus  # noqa: E402  (bench/ is not a package)

MKDOCS = Path(sys.executable).parent / "mkdocs"
CLEARANCE = Path(sys.executable).parent / "clearance"
FEATURES = ["navigation.sections", "navigation.indexes", "navigation.prune", "search.suggest"]
EXTENSIONS: list[Any] = [
    "admonition",
    "attr_list",
    "md_in_html",
    "tables",
    {"toc": {"permalink": True}},
    "pymdownx.details",
    {"pymdownx.tabbed": {"alternate_style": True}},
]
# Appended to the dumped markdown_extensions list (PyYAML writes block lists unindented).
SUPERFENCES = (
    "- pymdownx.superfences:\n"
    "    custom_fences:\n"
    "    - name: mermaid\n"
    "      class: mermaid\n"
    "      format: !!python/name:pymdownx.superfences.fence_code_format\n"
)


def mkdocs_yml(*, plugin: bool, nav: list[Any] | None = None) -> str:
    config: dict[str, Any] = {
        "site_name": "Bench handbook",
        "theme": {"name": "material", "features": FEATURES},
        "plugins": ["search", "clearance"] if plugin else ["search"],
    }
    if nav is not None:
        config["nav"] = nav
    if not plugin:
        # MkDocs leaves out docs/templates/ by default (theme overrides live there);
        # the plugin's response templates are pages there, so the baseline must build
        # them too, or it skips about 300 of the 2,000 pages.
        config["exclude_docs"] = "!/templates/"
    extensions = yaml.safe_dump({"markdown_extensions": EXTENSIONS}, sort_keys=False)
    return yaml.safe_dump(config, sort_keys=False) + extensions + SUPERFENCES


def make_repository(root: Path, documents: int, seed: int) -> None:
    files = corpus.generate(root, documents, max(documents // 5, 10), seed)
    (root / "docs").mkdir(exist_ok=True)
    (root / "docs" / "index.md").write_text("# Bench handbook\n\nGenerated for the benchmark.\n", "utf-8")
    (root / "mkdocs.yml").write_text(mkdocs_yml(plugin=True), "utf-8")
    files["docs/index.md"] = (root / "docs" / "index.md").read_text("utf-8")
    files["mkdocs.yml"] = (root / "mkdocs.yml").read_text("utf-8")
    corpus.commit_history(root, files, 20, seed)


def plain_copy(root: Path, plain: Path) -> int:
    """The plugin's pages and navigation as an ordinary MkDocs project."""
    from clearance import config as clearance_config
    from clearance import engine
    from clearance.site import nav, pages
    from clearance.site.history import PageHistory

    settings = clearance_config.load(root)
    repo = engine.load_repository(settings)
    history = PageHistory.load(root, repo.index.documents)
    site = pages.build_site(
        repo.index, repo.valid, "internal", history, today=settings.today or dt.date.today()
    )
    plan = pages.plan(site)
    docs = plain / "docs"
    shutil.copytree(root / "docs", docs)
    for spec in plan:
        target = docs / spec.src_uri
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(pages.markdown(site, spec), "utf-8")
    structure = nav.combine(None, ["index.md"], plan)
    (plain / "mkdocs.yml").write_text(mkdocs_yml(plugin=False, nav=structure), "utf-8")
    return len(plan)


def check(project: Path) -> None:
    result = subprocess.run([str(CLEARANCE), "check"], cwd=project, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(
            f"clearance check failed in {project}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )


def build(project: Path, site: Path) -> tuple[float, float]:
    """(wall-clock seconds, CPU seconds) of one ``mkdocs build``. CPU time is the
    steadier figure when other work shares the machine."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "CLEARANCE_AUDIENCE": "internal"}
    shutil.rmtree(site, ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(
        [str(MKDOCS), "build", "--quiet", "--site-dir", str(site)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"mkdocs build failed in {project}:\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def page_sizes(site: Path) -> list[tuple[int, str]]:
    return sorted((p.stat().st_size, p.relative_to(site).as_posix()) for p in site.rglob("*.html"))


def measure(documents: int, repeat: int, seed: int, work: Path) -> dict[str, Any]:
    root = work / f"repo-{documents}"
    plain = work / f"plain-{documents}"
    make_repository(root, documents, seed)
    generated = plain_copy(root, plain)
    clearance_times: list[tuple[float, float]] = []
    warm_times: list[tuple[float, float]] = []
    plain_times: list[tuple[float, float]] = []
    for _ in range(repeat):
        shutil.rmtree(root / ".git" / "clearance", ignore_errors=True)  # as in a fresh clone
        clearance_times.append(build(root, work / f"site-clearance-{documents}"))
        plain_times.append(build(plain, work / f"site-plain-{documents}"))
        check(root)
        warm_times.append(build(root, work / f"site-clearance-{documents}"))
    cold, warm, baseline_time = (
        statistics.median(t for t, _ in clearance_times),
        statistics.median(t for t, _ in warm_times),
        statistics.median(t for t, _ in plain_times),
    )
    cold_cpu, warm_cpu, baseline_cpu = (
        statistics.median(c for _, c in clearance_times),
        statistics.median(c for _, c in warm_times),
        statistics.median(c for _, c in plain_times),
    )
    site = work / f"site-clearance-{documents}"
    sizes = page_sizes(site)
    baseline = {path for _, path in page_sizes(work / f"site-plain-{documents}")}
    if baseline != {path for _, path in sizes}:
        different = sorted(baseline.symmetric_difference(path for _, path in sizes))
        raise SystemExit(
            f"the plain build and the plugin build made different pages ({len(different)}, "
            f"e.g. {different[:3]}): the ratio would not compare the same work"
        )
    search = site / "search" / "search_index.json"
    return {
        "documents": documents,
        "pages": generated,
        "clearance_seconds": round(cold, 2),
        "clearance_after_check_seconds": round(warm, 2),
        "plain_seconds": round(baseline_time, 2),
        "ratio": round(cold / baseline_time, 3),
        "ratio_after_check": round(warm / baseline_time, 3),
        "clearance_cpu_seconds": round(cold_cpu, 2),
        "clearance_after_check_cpu_seconds": round(warm_cpu, 2),
        "plain_cpu_seconds": round(baseline_cpu, 2),
        "cpu_ratio": round(cold_cpu / baseline_cpu, 3),
        "cpu_ratio_after_check": round(warm_cpu / baseline_cpu, 3),
        "largest_page_bytes": sizes[-1][0],
        "largest_page": sizes[-1][1],
        "median_page_bytes": int(statistics.median(size for size, _ in sizes)),
        "site_bytes": sum(
            p.stat().st_size for p in (work / f"site-clearance-{documents}").rglob("*") if p.is_file()
        ),
        "search_index_bytes": search.stat().st_size,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=2000, help="documents to generate")
    parser.add_argument("--repeat", type=int, default=3, help="builds of each kind (median reported)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-scale", action="store_true", help="skip the 10x smaller build")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, help="keep the work folder here")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="clearance-site-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        full = measure(args.documents, args.repeat, args.seed, work)
        small = None if args.no_scale else measure(max(args.documents // 10, 50), 1, args.seed, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    figures = {"full": full, "small": small, "targets": {"ratio": 1.2, "largest_page_bytes": 100_000}}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{full['pages']} pages from {full['documents']} documents")
    print(
        f"  clearance plugin build   {full['clearance_seconds']:7.2f} s (median of {args.repeat}; cold, no cache yet)"
    )
    print(f"  after clearance check    {full['clearance_after_check_seconds']:7.2f} s (its cache reused)")
    print(f"  plain material build   {full['plain_seconds']:7.2f} s (same pages, same navigation)")
    print(f"  ratio                  {full['ratio']:7.3f}   (target <= 1.2)")
    print(f"  ratio after check      {full['ratio_after_check']:7.3f}")
    print(
        f"  CPU time               {full['clearance_cpu_seconds']:.2f} s cold, "
        f"{full['clearance_after_check_cpu_seconds']:.2f} s after check, {full['plain_cpu_seconds']:.2f} s plain: "
        f"ratios {full['cpu_ratio']:.3f} and {full['cpu_ratio_after_check']:.3f}"
    )
    print(
        f"  largest page           {full['largest_page_bytes'] / 1000:7.1f} KB ({full['largest_page']}; target <= 100 KB)"
    )
    print(f"  median page            {full['median_page_bytes'] / 1000:7.1f} KB")
    print(
        f"  whole site             {full['site_bytes'] / 1e6:7.1f} MB; search index {full['search_index_bytes'] / 1e6:.1f} MB"
    )
    if small:
        print(
            f"  at {small['pages']} pages: largest {small['largest_page_bytes'] / 1000:.1f} KB, "
            f"median {small['median_page_bytes'] / 1000:.1f} KB (page size does not grow with the site)"
        )
    ok = full["ratio"] <= 1.2 and full["largest_page_bytes"] <= 100_000
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
