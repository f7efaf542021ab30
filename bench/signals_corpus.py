"""Synthetic social-listening exports in the ``mentions-csv`` shape, for the signals
benchmark and the test samples: a metadata preamble, a header row, then mentions of a
viral leak claim on top of a quiet baseline. Deterministic for a given seed."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

HEADER = [
    "Date", "Title", "Url", "Domain", "Sentiment", "Page Type", "Language", "Country",
    "Author", "Full Name", "Followers", "Author Type", "Full Text",
]  # fmt: skip
PREAMBLE = [
    ["Report:", "Example Org - brand mentions"],
    ["Query:", '"Example Org" OR @exampleorg OR #exampleorg'],
    ["From:", "{start}"],
    ["To:", "{end}"],
    ["Timezone:", "UTC"],
    [],
]
QUIET = [
    "Anyone else waiting on @exampleorg support to reply? Day 2 now",
    "Loving the new dashboard from Example Org, exports are so much faster",
    "@exampleorg is the status page down or is it just me",
    "Example Org webinar on data retention was actually useful",
    "Switched our team to Example Org last month, no regrets so far",
    "Does @exampleorg integrate with our CRM? asking for a friend",
]
CLAIMS = [
    "Example Org leaking customer data AGAIN? This screenshot looks like their support export",
    "RT @datawatchdog: Example Org leaking customer data AGAIN? This screenshot looks like their support export",
    "If this leaked file is real @exampleorg has a lot of explaining to do",
    "So @exampleorg exposed a customer export through a public link?? who signed that off",
    "Is my company on the leaked Example Org list? the screenshot has names and emails",
    "Example Org data dump going round, has anyone checked if it's real",
    "@exampleorg silence on the leak is deafening",
    "Deleting my Example Org account after this leak, done with them",
]
SENTIMENT = ["negative", "negative", "negative", "neutral", "negative", "neutral", "negative", "negative"]


def _row(moment: dt.datetime, text: str, author: str, followers: int | str, kind: str, sentiment: str, n: int,
         page: str = "Twitter") -> list[str]:  # fmt: skip
    handle = author.lstrip("@")
    return [
        moment.strftime("%Y-%m-%d %H:%M:%S"),
        "",
        f"https://x.com/{handle}/status/{1865000000000000000 + n}",
        "x.com" if page == "Twitter" else "news.example",
        sentiment,
        page,
        "en",
        "United Kingdom",
        author,
        handle.replace("_", " ").title(),
        str(followers),
        kind,
        text,
    ]


def mentions(
    start: dt.datetime,
    rows: int,
    seed: int = 7,
    claim_at: float = 0.4,
    quiet_gap: tuple[int, int] = (0, 3),
    spread_gap: tuple[int, ...] = (0, 1),
    span: int | None = None,
) -> Iterator[list[str]]:
    """``rows`` mentions from ``start``: a quiet stretch (``claim_at`` of the rows, each
    ``quiet_gap`` seconds apart), then a claim by a high-reach account and its spread
    (rows ``spread_gap`` seconds apart). With ``span`` (seconds), the rows are spread
    evenly over that span instead, whatever their number."""
    rng = random.Random(seed)
    moment = start
    quiet = int(rows * claim_at)
    for n in range(rows):
        if span is not None:
            moment = (
                start + dt.timedelta(seconds=span * n // rows) - dt.timedelta(seconds=60 if n == quiet else 0)
            )
            quiet_gap, spread_gap = (0, 0), (0,)
        if n < quiet:
            moment += dt.timedelta(seconds=rng.randint(*quiet_gap))
            text = rng.choice(QUIET)
            yield _row(moment, text, f"@user{rng.randint(1, 90000)}", rng.randint(10, 4000), "", "neutral", n)
        elif n == quiet:
            moment += dt.timedelta(seconds=60)
            yield _row(moment, CLAIMS[0], "@datawatchdog", 182400, "", "negative", n)
        else:
            moment += dt.timedelta(seconds=rng.choice(spread_gap))
            pick = rng.randrange(len(CLAIMS))
            yield _row(
                moment,
                CLAIMS[pick],
                f"@user{rng.randint(1, 90000)}",
                rng.randint(5, 20000),
                "",
                SENTIMENT[pick],
                n,
            )


def write(path: Path, rows: int, start: dt.datetime, seed: int = 7, span: int | None = None) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        end = start + dt.timedelta(hours=2)
        for line in PREAMBLE:
            writer.writerow([c.format(start=start, end=end) for c in line])
        writer.writerow(HEADER)
        writer.writerows(mentions(start, rows, seed, span=span))
