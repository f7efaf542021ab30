"""Run every Clearance benchmark in one go and report medians and ratios.

    .venv/bin/python bench/run.py                 # full sizes (about 15-25 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick         # small sizes, a smoke run (a minute or two)
    .venv/bin/python bench/run.py --write bench/RESULTS.md

Each benchmark script runs its own baseline in the same invocation, so the ratios
compare like with like on whatever machine runs them; absolute times are only
indicative (shared machines are noisy, about +/-25 %).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
FULL = {
    "check": ["--documents", "10000", "--entries", "100000", "--repeat", "3"],
    "audit": ["--commits", "10000", "--repeat", "5"],
    "site": ["--documents", "2000", "--repeat", "3"],
    "scan": ["--statements", "10000", "--repeat", "5"],
}
QUICK = {
    "check": ["--documents", "400", "--entries", "2000", "--repeat", "1"],
    "audit": ["--commits", "400", "--repeat", "1"],
    "site": ["--documents", "100", "--repeat", "1", "--no-scale"],
    "scan": ["--statements", "500", "--repeat", "1"],
}
PACKAGES = (
    "PyYAML",
    "jsonschema",
    "jsonschema-rs",
    "check-jsonschema",
    "mkdocs",
    "mkdocs-material",
)


def run(name: str, args: list[str]) -> dict[str, Any]:
    command = [sys.executable, str(BENCH / f"{name}_bench.py"), *args, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout).strip()[-800:]}
    text = done.stdout.strip()
    try:
        return dict(json.loads(text))  # a script may print indented JSON
    except ValueError:
        return dict(json.loads(text.splitlines()[-1]))  # or log lines, then one JSON line


def machine() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "git": git,
        **versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: checks the harness, not the targets"
    )
    parser.add_argument("--only", choices=sorted(FULL), action="append", help="run only these benchmarks")
    parser.add_argument("--write", type=Path, help="also write the figures as Markdown to this file")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    results = {}
    for name in args.only or sorted(sizes):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = run(name, sizes[name])
        print(f"  {name}: {json.dumps(results[name])}", file=sys.stderr, flush=True)
    report = {"machine": machine(), "quick": args.quick, "results": results}
    print(json.dumps(report, indent=2))
    if args.write:
        args.write.write_text(markdown(report), "utf-8")
    failed = [name for name, figures in results.items() if "error" in figures]
    return 1 if failed else 0


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Benchmark results", "", "Produced by `bench/run.py`.", ""]
    lines += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in report["machine"].items()]
    for name, figures in report["results"].items():
        lines += ["", f"## {name}", "", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in figures.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
