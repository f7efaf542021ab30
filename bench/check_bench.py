"""Benchmark `clearance check` against check-jsonschema on a generated corpus.

    .venv/bin/python bench/check_bench.py                          # 10,000 documents + 100,000 entries
    .venv/bin/python bench/check_bench.py --documents 1000 --entries 5000 --repeat 3 --json

Measured in one run, medians over --repeat runs, each a fresh process:
- full: `clearance check --no-cache` vs check-jsonschema validating the same files
  against the same schemas (schema-only work; Markdown front matter is handed to it
  as YAML files prepared before timing, and files are passed in batches because a
  single command line cannot hold 100,000 paths);
- incremental: `clearance check` with a warm cache: with nothing changed, after a new
  log entry in one incident, and after editing one policy;
- hook: `clearance check FILE` for one changed file (what the pre-commit hook runs) vs
  check-jsonschema on that one file;
- memory: peak PSS of the full check's whole process tree, workers included
  (bench/measure.py samples /proc), not one process's ru_maxrss.
Every figure has its CPU time (user + system of the command and its children)
beside the wall time; the baseline runs as often as the subject (--baseline-repeat
defaults to --repeat), interleaved round by round, so a ratio never divides figures
taken under different load.
Targets (issue 10): full >= 5x faster than the baseline and <= 15 s; incremental
<= 1 s; hook <= 0.5x the baseline; memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import compileall
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import measure

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SCHEMAS = ROOT / "schemas"
BATCH = 5000
KIND = re.compile(r"^kind:\s*([a-z-]+)\s*$", re.MULTILINE)


def timed(command: list[str], cwd: Path) -> measure.Sample:
    """Wall time, CPU time and peak memory of one command's process tree."""
    return measure.run(command, cwd)


def prepare_baseline(corpus: Path, work: Path) -> dict[str, list[Path]]:
    """Group the corpus's files by kind; Markdown front matter becomes YAML files."""
    groups: dict[str, list[Path]] = {}
    for path in sorted(corpus.rglob("*")):
        if path.suffix not in (".yaml", ".md") or ".git" in path.parts or path.name == "clearance.yaml":
            continue
        text = path.read_text("utf-8")
        if path.suffix == ".md":
            front = text.split("---\n", 2)[1]
            target = work / path.relative_to(corpus).with_suffix(".yaml")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(front, "utf-8")
            text, path = front, target
        match = KIND.search(text)
        if match:
            groups.setdefault(match.group(1), []).append(path)
    return groups


def baseline_commands(groups: dict[str, list[Path]]) -> list[list[str]]:
    commands = []
    for kind, files in sorted(groups.items()):
        schema = SCHEMAS / f"{kind}.schema.json"
        for start in range(0, len(files), BATCH):
            commands.append(
                [str(BIN / "check-jsonschema"), "--schemafile", str(schema), "--base-uri", schema.as_uri()]
                + [str(p) for p in files[start : start + BATCH]]
            )
    return commands


def run_all(commands: list[list[str]], cwd: Path) -> measure.Sample:
    samples = [timed(command, cwd) for command in commands]
    return measure.Sample(
        sum(x.wall for x in samples), sum(x.cpu for x in samples), max(x.peak_mb for x in samples), 0
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline-repeat",
        type=int,
        default=None,
        help="full check-jsonschema runs (default: as many as --repeat; slow: minutes at full size; "
        "0 skips the full baseline)",
    )
    parser.add_argument(
        "--corpus", type=Path, help="reuse a corpus made by bench/corpus.py (a git work tree)"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    # An editable install has no bytecode, and with PYTHONDONTWRITEBYTECODE set (as on
    # CI machines) none is ever written: every run would compile Clearance's modules
    # again, which no installed Clearance does (pip compiles wheels, check-jsonschema's
    # included). Compile once so both tools start as installed tools do.
    import clearance

    compileall.compile_dir(str(Path(clearance.__file__).parent), quiet=1)
    scratch = Path(tempfile.mkdtemp(prefix="clearance-bench-"))
    try:
        corpus = args.corpus or scratch / "corpus"
        if args.corpus is None:
            subprocess.run(
                [
                    sys.executable,
                    str(ROOT / "bench" / "corpus.py"),
                    str(corpus),
                    "--documents",
                    str(args.documents),
                    "--entries",
                    str(args.entries),
                    "--commits",
                    "1",
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        files = (
            sum(1 for p in corpus.rglob("*") if p.suffix in (".yaml", ".md") and ".git" not in p.parts) - 1
        )
        clearance = [str(BIN / "clearance"), "check"]
        groups = prepare_baseline(corpus, scratch / "baseline")
        baseline = baseline_commands(groups)

        baseline_repeat = args.repeat if args.baseline_repeat is None else args.baseline_repeat
        full: list[measure.Sample] = []
        baseline_full: list[measure.Sample] = []
        for n in range(args.repeat):
            full.append(timed([*clearance, "--no-cache"], corpus))
            if n < baseline_repeat:
                baseline_full.append(run_all(baseline, corpus))

        timed(clearance, corpus)  # warm the cache
        some = sorted((corpus / "policies").glob("policy-*.md"))
        logs = sorted(p for p in (corpus / "incidents").iterdir() if p.is_dir())
        incremental: list[measure.Sample] = []
        unchanged: list[measure.Sample] = []
        entry: list[measure.Sample] = []
        hook: list[measure.Sample] = []
        baseline_hook: list[measure.Sample] = []
        for n in range(args.repeat):
            unchanged.append(timed(clearance, corpus))
            log = logs[n % len(logs)] / "log" / f"20990101T00000{n % 10}Z-bench{n:02d}.yaml"
            log.write_text(
                f"kind: log-entry\ntype: observation\nat: 2099-01-01T00:00:0{n % 10}+00:00\n"
                f"by: person-1\ntext: Added by the benchmark.\n",
                "utf-8",
            )
            entry.append(timed(clearance, corpus))
            target = some[n % len(some)]
            target.write_text(target.read_text("utf-8") + f"\nEdited {n}.\n", "utf-8")
            incremental.append(timed(clearance, corpus))
            target.write_text(target.read_text("utf-8") + f"\nEdited again {n}.\n", "utf-8")
            hook.append(timed([*clearance, str(target.relative_to(corpus))], corpus))
            front = scratch / "one.yaml"
            front.write_text(target.read_text("utf-8").split("---\n", 2)[1], "utf-8")
            schema = SCHEMAS / "policy.schema.json"
            baseline_hook.append(
                timed(
                    [
                        str(BIN / "check-jsonschema"),
                        "--schemafile",
                        str(schema),
                        "--base-uri",
                        schema.as_uri(),
                        str(front),
                    ],
                    corpus,
                )
            )
        def med(samples: list[measure.Sample], what: str = "wall") -> float:
            return statistics.median(getattr(x, what) for x in samples)

        result = {
            "files": files,
            "full_s": round(med(full), 2),
            "full_cpu_s": round(med(full, "cpu"), 2),
            "baseline_full_s": round(med(baseline_full), 2) if baseline_full else None,
            "baseline_full_cpu_s": round(med(baseline_full, "cpu"), 2) if baseline_full else None,
            "full_speedup": round(med(baseline_full) / med(full), 2) if baseline_full else None,
            "full_cpu_speedup": round(med(baseline_full, "cpu") / med(full, "cpu"), 2) if baseline_full else None,
            "unchanged_s": round(med(unchanged), 2),
            "unchanged_cpu_s": round(med(unchanged, "cpu"), 2),
            "log_entry_s": round(med(entry), 2),
            "log_entry_cpu_s": round(med(entry, "cpu"), 2),
            "incremental_s": round(med(incremental), 2),
            "incremental_cpu_s": round(med(incremental, "cpu"), 2),
            "hook_s": round(med(hook), 3),
            "hook_cpu_s": round(med(hook, "cpu"), 3),
            "baseline_hook_s": round(med(baseline_hook), 3),
            "baseline_hook_cpu_s": round(med(baseline_hook, "cpu"), 3),
            "hook_ratio": round(med(hook) / med(baseline_hook), 2),
            "hook_cpu_ratio": round(med(hook, "cpu") / med(baseline_hook, "cpu"), 2),
            "peak_tree_pss_mb": round(max(x.peak_mb for x in full), 1),
            "repeat": args.repeat,
            "baseline_repeat": min(args.repeat, baseline_repeat),
        }
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"files: {result['files']}")
        print(
            f"full check:  clearance {result['full_s']} s vs check-jsonschema {result['baseline_full_s']} s "
            f"-> {result['full_speedup']}x faster (target >= 5x, <= 15 s)"
        )
        print(f"nothing changed: {result['unchanged_s']} s")
        print(f"after a new log entry in one incident: {result['log_entry_s']} s")
        print(f"incremental: {result['incremental_s']} s after editing a policy (target <= 1 s)")
        print(
            f"hook, one file: clearance {result['hook_s']} s vs check-jsonschema {result['baseline_hook_s']} s "
            f"-> {result['hook_ratio']}x (target <= 0.5x)"
        )
        print(
            f"cpu: full {result['full_cpu_s']} s (check-jsonschema {result['baseline_full_cpu_s']} s), "
            f"unchanged {result['unchanged_cpu_s']} s, incremental {result['incremental_cpu_s']} s, "
            f"hook {result['hook_cpu_s']} s vs {result['baseline_hook_cpu_s']} s ({result['hook_cpu_ratio']}x)"
        )
        print(f"peak memory of the process tree: {result['peak_tree_pss_mb']} MB PSS (target <= 1024 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
