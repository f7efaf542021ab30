"""Benchmark: the disclosure scanner over 10,000 generated crisis statements, as a
ratio to a plain regex-only pass over the same statements, measured in the same run.

    .venv/bin/python bench/scan_bench.py                     # 10,000 statements, 5 runs
    .venv/bin/python bench/scan_bench.py --statements 2000 --repeat 3 --json

Statements are built deterministically from clean sentence parts, with about one in
five carrying something sensitive (customer ids, emails, phone numbers, cards, IBANs,
IP addresses, keys, code names), some of them disguised (look-alike letters,
zero-width spaces, Markdown emphasis, fullwidth digits). Data classes come from the
scanner tests' fixture repository unless --root names another.

The baseline is what a naive scanner does: one combined regular expression (email,
long digit runs, the data classes' patterns and terms) run over the raw text, with
no normalisation, no validation and no classification. It finds less (every evasion
slips through it) and flags more; the ratio says what the real scanner costs.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from clearance import config as config_mod  # noqa: E402
from clearance import engine  # noqa: E402
from clearance.scan import Scanner, detectors, scanner_for  # noqa: E402

OPENINGS = [
    "We are aware that some customers could not complete their orders this morning.",
    "Update at 15:30: our teams are still working on the checkout problem.",
    "We are sorry for the disruption on 14 March 2026.",
    "Around 12,000 orders were delayed by up to 48 hours.",
    "Version 2.4.1 of the app fixes the login problem.",
    "Roughly 3.5% of customers saw the wrong price.",
    "Our stores reopen on Monday from 08:00.",
    "Affected customers will receive a £20 voucher.",
]
MIDDLES = [
    "No payment card details were exposed.",
    "We will share the next update by 17:00.",
    "Refunds will appear within 3-5 working days.",
    "Call our support line on 0800 123 4567 for help.",
    "Journalists can reach us at press@example.com.",
    "Read our statement at https://www.example.com/news/update.",
    "The issue affected our checkout, not your account details.",
    "Order #100234567 has been dispatched.",
]
CLOSINGS = [
    "Thank you for your patience.",
    "We apologise unreservedly.",
    "Follow #ExampleUpdate for the latest news.",
    "Stay tuned for our next update at 16:00.",
]
LEAKS = [
    "We have contacted customer CU-{n6}.",
    "Please email {name}@gmail.com about the refund.",
    "Call the customer back on 020 7946 {n4}.",
    "The refund went to card 4111 1111 1111 1111.",
    "Payment went to GB82 WEST 1234 5698 7654 32 by mistake.",
    "The attacker connected from 185.220.{b}.{b}.",
    "The leaked key AKIAIOSFODNN7EXAMPLE has been revoked.",
    "The Nightjar rollout is paused.",
    "The Nightjаr rollout is paused.",  # Cyrillic a
    "Card 4111\u200b1111\u200b1111\u200b1111 was refunded.",
    "Customer **CU-00**{n4} was contacted.",
    "Card ４１１１ １１１１ １１１１ １１１１ was used.",
    "Logs from auth01.internal.example.com show the first failed login.",
    "SSN 536-90-2211 was in the export.",
]
NAMES = ["jane.doe", "m.osei", "priya.k", "tom_baker", "lucia", "chen.wei", "leo.martin"]


def statements(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        parts = [rng.choice(OPENINGS), rng.choice(MIDDLES)]
        if rng.random() < 0.2:
            leak = rng.choice(LEAKS).format(
                n6=f"{rng.randrange(10**6):06d}",
                n4=f"{rng.randrange(10**4):04d}",
                b=rng.randrange(1, 255),
                name=rng.choice(NAMES),
            )
            parts.insert(rng.randrange(len(parts) + 1), leak)
        parts.append(rng.choice(CLOSINGS))
        out.append(" ".join(parts))
    return out


def baseline_regex(scanner: Scanner) -> re.Pattern[str]:
    """One combined, unvalidated expression: what a naive scanner would run."""
    parts = [
        r"[\w.+-]+@[\w-]+\.[\w.]+",  # emails
        r"\+?\d[\d \-]{8,22}\d",  # phone, card and account-like digit runs
        r"\b(?:\d{1,3}\.){3}\d{1,3}\b",  # IPv4
        r"AKIA[A-Z0-9]{16}",  # AWS key ids
    ]
    for pattern in scanner.patterns:
        # Leading global flags such as (?i) become scoped ones inside the alternation.
        flags = re.match(r"\(\?([aiLmsux]+)\)", pattern.regex.pattern)
        body = pattern.regex.pattern
        parts.append(f"(?{flags.group(1)}:{body[flags.end() :]})" if flags else body)
    if scanner.term_pattern is not None:
        parts.append(scanner.term_pattern.pattern)
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--statements", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT / "tests" / "data" / "scan" / "repo")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    texts = statements(args.statements, args.seed)
    build_start = time.perf_counter()
    repo = engine.load_repository(config_mod.load(args.root.resolve()))
    scanner = scanner_for(repo.index)
    build = time.perf_counter() - build_start
    naive = baseline_regex(scanner)
    scanner.scan(texts[0])  # warm caches (fold_char, phonenumbers metadata)

    def run_scanner() -> int:
        # Start each run cold: only repeats within the run (a support line quoted in
        # many statements) benefit from the phone-number cache.
        detectors._phone_matches.cache_clear()
        return sum(len(scanner.scan(text)) for text in texts)

    def run_baseline() -> int:
        return sum(1 for text in texts for _ in naive.finditer(text))

    scan_time, scan_hits = timed(run_scanner, args.repeat)
    base_time, base_hits = timed(run_baseline, args.repeat)
    with_leaks = sum(1 for text in texts if scanner.scan(text))
    figures = {
        "statements": len(texts),
        "repeat": args.repeat,
        "repository_load_seconds": round(build, 3),
        "scanner_seconds": round(scan_time, 4),
        "scanner_statements_per_second": round(len(texts) / scan_time),
        "scanner_ms_per_statement": round(1000 * scan_time / len(texts), 4),
        "scanner_hits": scan_hits,
        "statements_with_hits": with_leaks,
        "baseline_seconds": round(base_time, 4),
        "baseline_statements_per_second": round(len(texts) / base_time),
        "baseline_matches": base_hits,
        "ratio_scanner_to_baseline": round(scan_time / base_time, 1),
    }
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{len(texts)} statements, median of {args.repeat} runs")
        print(
            f"  scanner : {figures['scanner_statements_per_second']:>9,} statements/s "
            f"({figures['scanner_ms_per_statement']} ms each), {scan_hits} hits in {with_leaks} statements"
        )
        print(
            f"  baseline: {figures['baseline_statements_per_second']:>9,} statements/s "
            f"(plain regex, no normalisation or validation), {base_hits} matches"
        )
        print(f"  ratio   : scanner takes {figures['ratio_scanner_to_baseline']}x the baseline's time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
