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
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from clearance import config as config_mod  # noqa: E402
from clearance import engine  # noqa: E402
from clearance.scan import Scanner, contacts, scanner_for  # noqa: E402
from clearance.scan.evaluate import score_corpus, score_heldout  # noqa: E402

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
    if scanner.term_matcher is not None:
        parts.extend(re.escape(key) for key in scanner.term_matcher.keys)
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


# Ordinary statement prose full of numbers that are not sensitive: prices, dates,
# versions, order, invoice, tracking and case numbers. Every hit on it is a false
# positive; plausible-shape detection must not drown statements in them.
BENIGN = [
    "Order {n8} was dispatched on {d}/{m}/2026.",
    "Invoice INV-2026-{n6} for £{p}.{c} is attached.",
    "Version {v1}.{v2}.{v3} of the app is rolling out.",
    "Tracking number {n12} shows the parcel in Leeds.",
    "Your order number {n16} has been refunded.",
    "Reference {n8}-{n4} was logged at {h}:{mi}.",
    "About {k},{n3} customers were affected between {h}:{mi} and {h2}:{mi}.",
    "Case {n7} is now closed.",
    "Receipt no. {n4}-{n4}-{n4} from the Bristol store.",
    "Prices start at €{p}.{c} until {d} March 2026.",
    "The update (build {n8}.{n1}) fixes the checkout on iOS {v1}.{v2}.",
    "Refunds of up to ${p}.{c} arrive within {n1}-{n2} working days.",
    "Loyalty members get {n3} bonus points on orders over £{p}.",
    "Ticket #{n6} was escalated at {h}:{mi} on 2026-03-{dd}.",
    "Our stores at {n3} High Street and {n2} Dock Road reopen at {h}:00.",
]


def benign_statements(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)

    def digits(n: int) -> str:
        return str(rng.randrange(1, 10)) + "".join(str(rng.randrange(10)) for _ in range(n - 1))

    out = []
    for _ in range(count):
        template = rng.choice(BENIGN)
        out.append(
            template.format(
                n1=digits(1),
                n2=digits(2),
                n3=digits(3),
                n4=digits(4),
                n6=digits(6),
                n7=digits(7),
                n8=digits(8),
                n12=digits(12),
                n16=digits(16),
                k=rng.randrange(1, 99),
                d=rng.randrange(1, 29),
                dd=f"{rng.randrange(1, 29):02d}",
                m=rng.randrange(1, 13),
                h=rng.randrange(7, 20),
                h2=rng.randrange(7, 20),
                mi=f"{rng.randrange(60):02d}",
                p=rng.randrange(1, 999),
                c=f"{rng.randrange(100):02d}",
                v1=rng.randrange(1, 20),
                v2=rng.randrange(0, 20),
                v3=rng.randrange(0, 50),
            )
        )
    return out


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times = []
    result = 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def cpu_timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return statistics.median(walls), statistics.median(cpus)


def card_lines(count: int, seed: int) -> str:
    from stdnum import luhn

    rng = random.Random(seed)
    lines = []
    for _ in range(count):
        body = "4" + "".join(str(rng.randrange(10)) for _ in range(14))
        number = body + luhn.calc_check_digit(body)
        lines.append(f"Card {' '.join(number[i : i + 4] for i in range(0, 16, 4))} was refunded.")
    return "\n".join(lines)


def cost_figures(scanner: Scanner, naive: re.Pattern[str], seed: int, repeat: int) -> dict[str, float]:
    """A 1 MB statement against the baseline regex; 8k/16k/32k card numbers as ratios."""
    parts: list[str] = []
    size = 0
    for text in statements(20_000, seed):
        parts.append(text)
        size += len(text) + 2
        if size >= 1_000_000:
            break
    big = "\n\n".join(parts)[:1_000_000]
    wall, cpu = cpu_timed(lambda: scanner.scan(big), repeat)
    base_wall, _ = cpu_timed(lambda: sum(1 for _ in naive.finditer(big)), repeat)
    figures: dict[str, float] = {
        "mb_statement_chars": len(big),
        "mb_statement_seconds": round(wall, 3),
        "mb_statement_cpu_seconds": round(cpu, 3),
        "mb_statement_ratio_to_baseline": round(wall / base_wall, 1),
    }
    # Hostile megabytes: shapes that once made a detector slow (short digit groups,
    # "at"/"dot" prose, a keyword on every line, an address on every line).
    rng = random.Random(seed)
    hostile = {
        "short_digit_groups": "111 " * 250_000,
        "card_like_groups": " ".join(f"{rng.randrange(10000):04d}" for _ in range(200_000)),
        "at_dot_prose": "write to ana at example dot org " * 32_000,
        "keyword_lines": "password=Zq9!x\n" * 70_000,
        "emails": "x@y.co " * 140_000,
    }
    for name, text in hostile.items():
        _, cpu = cpu_timed(lambda text=text: scanner.scan(text), 1)
        figures[f"hostile_{name}_cpu_seconds"] = round(cpu, 3)
    previous = None
    for count in (8000, 16000, 32000):
        text = card_lines(count, seed)
        wall, cpu = cpu_timed(lambda text=text: scanner.scan(text), max(1, repeat // 2))
        figures[f"cards_{count // 1000}k_cpu_seconds"] = round(cpu, 3)
        if previous is not None:
            figures[f"cards_{count // 1000}k_over_{count // 2000}k"] = round(cpu / previous, 2)
        previous = cpu
    return figures


def quality_figures(scanner: Scanner, reference: Scanner, seed: int) -> dict[str, float]:
    """Recall and false positives per kind on both labelled sets, and false positives
    on benign text: generated number-heavy prose and this repository's own pages."""
    data = ROOT / "tests" / "data" / "scan"
    figures: dict[str, float] = {}
    source = (data / "corpus.yaml").read_text("utf-8")
    for key, score in score_corpus(scanner, yaml.safe_load(source), source).items():
        if score.positives:
            figures[f"original_recall_{key.replace(' ', '_')}"] = round(score.recall, 3)
        elif key.startswith("fp:"):
            figures[f"original_fp_{key[3:]}"] = round(score.fp_rate, 4)
    heldout = yaml.safe_load((data / "heldout.yaml").read_text("utf-8"))
    for kind, score in score_heldout(scanner, heldout).items():
        if score.positives:
            figures[f"heldout_recall_{kind}"] = round(score.recall, 3)
        figures[f"heldout_fp_{kind}"] = round(score.fp_rate, 4)
    prose = benign_statements(10_000, seed)
    flagged: dict[str, int] = {}
    for text in prose:
        for kind in {h.detector for h in scanner.split(scanner.scan(text))[0]}:
            flagged[kind] = flagged.get(kind, 0) + 1
    figures["benign_prose_statements"] = len(prose)
    figures["benign_prose_fp_any"] = round(sum(flagged.values()) / len(prose), 4)
    for kind, count in sorted(flagged.items()):
        figures[f"benign_prose_fp_{kind}"] = round(count / len(prose), 4)
    pages = [p for folder in ("policies", "docs", "protocols") for p in sorted((ROOT / folder).rglob("*.md"))]
    hits: dict[str, int] = {}
    size = 0
    for page in pages:
        text = page.read_text("utf-8")
        size += len(text)
        for hit in reference.scan(text):
            hits[hit.detector] = hits.get(hit.detector, 0) + 1
    figures["own_pages"] = len(pages)
    figures["own_pages_kb"] = round(size / 1024)
    for kind, count in sorted(hits.items()):
        figures[f"own_pages_hits_{kind}"] = count
    return figures


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
        contacts._phone_matches.cache_clear()
        return sum(len(scanner.scan(text)) for text in texts)

    def run_baseline() -> int:
        return sum(1 for text in texts for _ in naive.finditer(text))

    scan_time, scan_hits = timed(run_scanner, args.repeat)
    base_time, base_hits = timed(run_baseline, args.repeat)
    # CPU time beside wall time: on a shared machine the wall clock measures the load.
    _, scan_cpu = cpu_timed(run_scanner, args.repeat)
    _, base_cpu = cpu_timed(run_baseline, args.repeat)
    with_leaks = sum(1 for text in texts if scanner.scan(text))
    reference = scanner_for(engine.load_repository(config_mod.load(ROOT)).index)
    extra = {
        **cost_figures(scanner, naive, args.seed, args.repeat),
        **quality_figures(scanner, reference, args.seed),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
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
        "scanner_cpu_seconds": round(scan_cpu, 3),
        "baseline_cpu_seconds": round(base_cpu, 3),
        "ratio_scanner_to_baseline_cpu": round(scan_cpu / base_cpu, 1),
        **extra,
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
        for key, value in extra.items():
            print(f"  {key}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
