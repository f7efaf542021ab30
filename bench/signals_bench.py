"""Benchmark: ``clearance signals evaluate`` over a generated social-listening export of a
million rows, as a ratio to the ``csv`` module merely reading the same file, measured in
the same run; and memory at 100,000 rows beside a million (flat means the ratio is ~1).

    .venv/bin/python bench/signals_bench.py                     # 1,000,000 rows
    .venv/bin/python bench/signals_bench.py --rows 200000 --json

The export has the ``mentions-csv`` shape (bench/signals_corpus.py): a metadata preamble,
a quiet stretch, then a leak claim by a high-reach account and its spread, over one day
(both sizes: trigger counts are kept per minute, so memory follows the span). Every row is
parsed, normalised and offered to every protocol's structured triggers (this repository's
20); the disclosure scanner runs on each distinct text that a data-class trigger's filters
let through. Each side runs in its own process (bench/measure.py: wall, CPU, peak PSS).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import measure  # noqa: E402
import signals_corpus  # noqa: E402

SPAN = 86_400  # both exports cover one day: memory follows the time span, not the row count
BASELINE = "import csv, sys\nn = sum(1 for _ in csv.reader(open(sys.argv[1], newline='', encoding='utf-8')))\nprint(n)\n"


def export(path: Path, rows: int) -> None:
    signals_corpus.write(path, rows, dt.datetime(2026, 12, 7, 0, 0, tzinfo=dt.UTC), seed=1, span=SPAN)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="signals-bench-") as tmp:
        big, small = Path(tmp) / "big.csv", Path(tmp) / "small.csv"
        export(big, args.rows)
        export(small, max(1, args.rows // 10))
        script = Path(tmp) / "baseline.py"
        script.write_text(BASELINE, "utf-8")
        now = "2026-12-31T00:00:00Z"

        def clearance(path: Path) -> measure.Sample:
            command = [python, "-m", "clearance", "--root", str(ROOT), "signals", "evaluate", str(path),
                       "--now", now, "--output", "json"]  # fmt: skip
            return measure.run(command, ROOT)

        base = measure.run([python, str(script), str(big)], ROOT)
        full = clearance(big)
        tenth = clearance(small)
    results = {
        "rows": args.rows,
        "baseline_csv_reader": {"wall_s": base.wall, "cpu_s": base.cpu, "peak_mb": base.peak_mb},
        "signals_evaluate": {"wall_s": full.wall, "cpu_s": full.cpu, "peak_mb": full.peak_mb},
        "signals_evaluate_tenth": {"wall_s": tenth.wall, "cpu_s": tenth.cpu, "peak_mb": tenth.peak_mb},
        "ratio_wall": full.wall / base.wall if base.wall else None,
        "ratio_cpu": full.cpu / base.cpu if base.cpu else None,
        "memory_ratio_full_vs_tenth": full.peak_mb / tenth.peak_mb if tenth.peak_mb else None,
        "ok": full.returncode == 0 and tenth.returncode == 0,
    }
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"{args.rows:,} rows")
        print(f"  csv.reader baseline: wall {base.wall:.1f}s cpu {base.cpu:.1f}s peak {base.peak_mb:.0f} MiB")
        print(f"  signals evaluate:    wall {full.wall:.1f}s cpu {full.cpu:.1f}s peak {full.peak_mb:.0f} MiB")
        print(
            f"  a tenth of the rows: wall {tenth.wall:.1f}s cpu {tenth.cpu:.1f}s peak {tenth.peak_mb:.0f} MiB"
        )
        print(
            f"  ratio to baseline: wall {results['ratio_wall']:.1f}x cpu {results['ratio_cpu']:.1f}x; "
            f"memory at 10x the rows: {results['memory_ratio_full_vs_tenth']:.2f}x"
        )
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
