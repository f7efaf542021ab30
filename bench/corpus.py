"""Deterministic synthetic governance repository for benchmarks.

    python bench/corpus.py OUT --documents 10000 --entries 100000 --commits 1 --seed 7

Writes a valid repository (every reference resolves, approvals are complete) with
documents of every kind, incidents with many log entries and, with --commits N >= 1,
a git history built with `git fast-import` (one process, seconds): one commit adds the
documents, then each responder commits the log entries they wrote (the provenance rules
bind an entry to the person it names: APR007, APR010), then N - 1 commits each revise
one policy.

The log holds no signed decisions (approvals, publications, ...): observations, team
decisions, status changes and the assessment of every regulation the incident's
protocol lists (OBL001/OBL002), none of which the signing rules require to be signed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import random
import subprocess
import sys
from pathlib import Path

# Shares of the document budget per kind (the rest are policies).
SHARES = {
    "person": 0.20,
    "role": 0.04,
    "data-class": 0.03,
    "regulation": 0.02,
    "approval-chain": 0.03,
    "channel": 0.01,
    "template": 0.15,
    "protocol": 0.10,
    "incident": 0.02,
    "stakeholder": 0.005,
}
WORDS = [
    "customer",
    "statement",
    "review",
    "approval",
    "legal",
    "privacy",
    "channel",
    "holding",
    "update",
    "social",
    "media",
    "post",
    "breach",
    "exposure",
    "rumour",
    "response",
    "team",
    "incident",
    "escalation",
    "notice",
    "regulator",
    "public",
    "internal",
    "monitoring",
    "threshold",
    "spread",
    "confirm",
    "verify",
    "publish",
    "draft",
    "record",
    "decision",
    "talking",
    "point",
]
TODAY = dt.date(2026, 11, 26)
RESPONDERS = 12
# Every log entry is in January 2026; the history is committed after it.
COMMITTED = int(dt.datetime(2026, 2, 1, tzinfo=dt.UTC).timestamp())


def sentence(rng: random.Random, n: int = 10) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def header(kind: str, ident: str, owner: str, rng: random.Random, review: bool = True) -> str:
    last = TODAY - dt.timedelta(days=rng.randint(10, 300))
    lines = [
        f"kind: {kind}",
        f"id: {ident}",
        f"title: {ident.replace('-', ' ').capitalize()}",
        f"owner: {owner}",
        "status: active",
        "classification: internal",
    ]
    if review:
        lines.append(f"review: {{every: P1Y, last: {last.isoformat()}}}")
    return "\n".join(lines) + "\n"


def generate(out: Path, documents: int, entries: int, seed: int) -> dict[str, str]:
    rng = random.Random(seed)
    files: dict[str, str] = {}
    counts = {kind: max(2, int(documents * share)) for kind, share in SHARES.items()}
    counts["policy"] = max(2, documents - sum(counts.values()))
    people = [f"person-{i}" for i in range(counts["person"])]
    roles = [f"role-{i}" for i in range(counts["role"])]
    membership: dict[str, list[str]] = {r: [] for r in roles}
    for i, person in enumerate(people):  # every person in one role, every role >= 3 people
        membership[roles[i % len(roles)]].append(person)
    for role, members in membership.items():
        files[f"policies/roles/{role}.yaml"] = header("role", role, roles[0], rng, review=False) + (
            f"responsibilities: [{sentence(rng)}]\nmembers: [{', '.join(members)}]\n"
        )
    for person in people:
        files[f"policies/people/{person}.yaml"] = header("person", person, roles[0], rng, review=False) + (
            f"name: {person.replace('-', ' ').title()}\nemails: [{person}@example.com]\n"
            f'code_host: "@{person}"\nexample: true\n'
        )
    chains = [f"chain-{i}" for i in range(counts["approval-chain"])]
    for chain in chains:
        r1, r2 = rng.sample(roles, 2)
        files[f"protocols/chains/{chain}.yaml"] = header("approval-chain", chain, r1, rng) + (
            f"purpose: {sentence(rng)}\nsteps:\n"
            f"  - {{id: first, role: {r1}, quorum: 1, sla: PT15M}}\n"
            f"  - {{id: second, role: {r2}, quorum: 1, sla: PT30M}}\n"
        )
    regulations = [f"regulation-{i}" for i in range(counts["regulation"])]
    for reg in regulations:
        files[f"policies/regulations/{reg}.yaml"] = header("regulation", reg, roles[1], rng) + (
            "jurisdiction: EU\ncitation: Synthetic regulation\nsource: https://example.com/reg\n"
            "verification: {status: unverified}\nobligations:\n"
            "  - {id: notify, title: Notify the authority, notify: Authority, clock_starts: Awareness, "
            "deadline: {amount: 72, unit: hours}}\n"
        )
    classes = [f"class-{i}" for i in range(counts["data-class"])]
    for i, cls in enumerate(classes):
        files[f"policies/data-classes/{cls}.yaml"] = header("data-class", cls, roles[2], rng) + (
            f"sensitivity: high\nexamples: [{sentence(rng)}]\ndetectors:\n"
            f"  patterns:\n    - {{name: id-{i}, regex: 'ZX{i:04d}-\\d{{6}}', example: ZX{i:04d}-123456}}\n"
            f"  terms: [Codename{i}]\n"
            f"disclosure: {{rule: with-approval, chain: {rng.choice(chains)}}}\n"
            f"regulations: [{rng.choice(regulations)}]\n"
        )
    channels = [f"channel-{i}" for i in range(counts["channel"])]
    for i, channel in enumerate(channels):
        internal = i == 0
        files[f"protocols/channels/{channel}.yaml"] = header(
            "channel", channel, roles[0], rng, review=False
        ) + (
            "audience: internal\ntype: chat\napproved: true\nend_to_end_encrypted: true\n"
            if internal
            else "audience: public\ntype: social\nmax_length: 2000\n"
        )
    for i in range(counts["stakeholder"]):
        stakeholder = f"stakeholder-{i}"
        files[f"policies/stakeholders/{stakeholder}.yaml"] = header(
            "stakeholder", stakeholder, roles[0], rng
        ) + (
            f"category: {rng.choice(['board', 'insurer', 'key-customer', 'partner'])}\n"
            f"organisation: {stakeholder.replace('-', ' ').capitalize()} Ltd\ncontact: the account desk\n"
            f"relationship_owner: {roles[0]}\nnotices:\n"
            f"  - {{id: briefing, title: Briefing, trigger: {sentence(rng, 6)}, within: PT24H, from: detected, "
            f"channel: a call, sign_off: {roles[0]}}}\n"
        )
    templates = [f"template-{i}" for i in range(counts["template"])]
    for template in templates:
        files[f"protocols/templates/{template}.md"] = (
            "---\n"
            + header("template", template, rng.choice(roles), rng)
            + f"stage: update\nchannels: [{channels[1 % len(channels)]}]\nchain: {rng.choice(chains)}\n"
            "placeholders:\n  - {name: topic, type: text, max_length: 80, description: Subject}\n---\n"
            + f"{sentence(rng, 20)} {{{{ topic }}}} {sentence(rng, 15)}\n"
        )
    policies = [f"policy-{i}" for i in range(counts["policy"])]
    for policy in policies:
        clauses = "".join(f"  - {{id: c-{n}, text: {sentence(rng)}}}\n" for n in range(1, rng.randint(3, 8)))
        files[f"policies/{policy}.md"] = (
            "---\n"
            + header("policy", policy, rng.choice(roles), rng)
            + f"summary: {sentence(rng)}\nchange_chain: {rng.choice(chains)}\n"
            f"data_classes: [{rng.choice(classes)}]\nregulations: [{rng.choice(regulations)}]\n"
            f"clauses:\n{clauses}---\n{sentence(rng, 40)}\n\n{sentence(rng, 40)}\n"
        )
    protocols = [f"protocol-{i}" for i in range(counts["protocol"])]
    for protocol in protocols:
        owner = rng.choice(roles)
        files[f"protocols/playbooks/{protocol}.yaml"] = header("protocol", protocol, owner, rng) + (
            f"scenario: {sentence(rng)}\ntriggers:\n"
            "  - {id: fast, metric: mentions per hour, threshold: 500, window: PT1H, speed: fast}\n"
            "severities:\n"
            f"  - {{level: sev1, criteria: [{sentence(rng, 5)}], chain: {rng.choice(chains)}, update_every: PT30M}}\n"
            f"  - {{level: sev2, criteria: [{sentence(rng, 5)}], chain: {rng.choice(chains)}, update_every: PT1H}}\n"
            f"raci:\n  - {{activity: Approve, responsible: [{rng.choice(roles)}], accountable: {owner}}}\n"
            f"steps:\n  - {{id: declare, title: Declare, role: {owner}, within: PT5M}}\n"
            f"  - {{id: hold, title: Holding statement, role: {owner}, within: PT15M, cites: ['{rng.choice(policies)}#c-1']}}\n"
            f"templates: [{rng.choice(templates)}]\nregulations: [{rng.choice(regulations)}]\n"
            f"coordination_channel: {channels[0]}\n"
        )
    incidents = [f"2026-01-{(i % 28) + 1:02d}-incident-{i}" for i in range(counts["incident"])]
    per_incident = max(4, entries // len(incidents))
    # A small team responds to every incident; each of them commits what they logged.
    responders = people[: min(len(people), RESPONDERS)]
    protocols_of: dict[str, str] = {}
    for n, incident in enumerate(incidents):
        start = dt.datetime(2026, 1, (n % 28) + 1, 8, 0, tzinfo=dt.UTC)
        protocols_of[incident] = rng.choice(protocols)
        files[f"incidents/{incident}/incident.yaml"] = (
            f"kind: incident\nid: {incident}\ntitle: Incident {n}\nowner: {roles[0]}\n"
            f"classification: confidential\nstatus: active\nprotocol: {protocols_of[incident]}\n"
            f"severity: sev2\nexercise: false\ncoordination_channel: {channels[0]}\n"
            f'timestamps: {{detected: "{start.isoformat()}"}}\n'
        )
        status = f"kind: log-entry\ntype: status-change\nat: {start.isoformat()}\nby: {responders[0]}\nfrom: triage\nto: active\n"
        files[f"incidents/{incident}/log/{start:%Y%m%dT%H%M%SZ}-st{n:04d}.yaml"] = status
        listed = files[f"protocols/playbooks/{protocols_of[incident]}.yaml"].split("\nregulations: [", 1)[1]
        for r, regulation in enumerate(listed.split("]", 1)[0].split(", ")):
            at = start + dt.timedelta(seconds=10 + r)
            files[f"incidents/{incident}/log/{at:%Y%m%dT%H%M%SZ}-as{n:04d}.yaml"] = (
                f"kind: log-entry\ntype: assessment\nat: {at.isoformat()}\nby: {responders[1 % len(responders)]}\n"
                f"regulation: {regulation}\napplies: false\nrationale: {sentence(rng, 12)}\n"
            )
        for k in range(1, per_incident):
            at = start + dt.timedelta(seconds=30 * k)
            suffix = hashlib.sha1(f"{seed}-{n}-{k}".encode()).hexdigest()[:6]
            files[f"incidents/{incident}/log/{at:%Y%m%dT%H%M%SZ}-{suffix}.yaml"] = (
                f"kind: log-entry\ntype: {'observation' if k % 3 else 'decision'}\nat: {at.isoformat()}\n"
                f"by: {rng.choice(responders)}\ntext: {sentence(rng, 12)}\n"
            )
    out.mkdir(parents=True, exist_ok=True)
    files["clearance.yaml"] = f"organisation: {{name: Bench Co}}\ntoday: {TODAY.isoformat()}\n"
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
    return files


def commit_history(out: Path, files: dict[str, str], commits: int, seed: int) -> None:
    """Commit 1 adds the documents; then each log entry's person commits the entries
    they wrote (one commit per person, authored by their registered email, after the
    entries' times); commits 2..N each rewrite one policy's body line. The last
    commit's tree equals the files on disk."""
    rng = random.Random(seed + 1)
    subprocess.run(["git", "init", "-q", "-b", "main", str(out)], check=True)
    policies = sorted(p for p in files if p.startswith("policies/policy-"))
    final = dict(files)
    stream = bytearray()
    when = COMMITTED
    logs: dict[str, dict[str, str]] = {}  # person -> the entries they wrote
    for path, text in final.items():
        if path.startswith("incidents/") and "/log/" in path:
            person = text.split("\nby: ", 1)[1].split("\n", 1)[0]
            logs.setdefault(person, {})[path] = text
    logged = {path for entries in logs.values() for path in entries}

    def data(text: str) -> bytes:
        raw = text.encode("utf-8")
        return b"data %d\n%s\n" % (len(raw), raw)

    def commit(who: bytes, message: str, changed: dict[str, str], first: bool = False) -> None:
        nonlocal when
        when += 60
        stream.extend(b"commit refs/heads/main\n")
        stream.extend(b"author %s %d +0000\ncommitter %s %d +0000\n" % (who, when, who, when))
        stream.extend(data(message))
        if first:
            stream.extend(b"deleteall\n")
        for path, text in changed.items():
            stream.extend(b"M 100644 inline %s\n" % path.encode())
            stream.extend(data(text))
        stream.extend(b"\n")

    bench = b"Bench <bench@example.com>"
    commit(bench, "Change 1", {p: t for p, t in final.items() if p not in logged}, first=True)
    for person, entries in sorted(logs.items()):
        name = person.replace("-", " ").title()
        commit(f"{name} <{person}@example.com>".encode(), f"{name} logs", dict(sorted(entries.items())))
    for number in range(2, commits + 1):
        path = rng.choice(policies)
        final[path] = final[path] + f"\nRevision {number}.\n"
        commit(bench, f"Change {number}", {path: final[path]})
    subprocess.run(["git", "-C", str(out), "fast-import", "--quiet"], input=bytes(stream), check=True)
    subprocess.run(["git", "-C", str(out), "checkout", "-q", "-f", "main"], check=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--commits", type=int, default=0, help="0: no git repository")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out}: not empty", file=sys.stderr)
        return 2
    files = generate(args.out, args.documents, args.entries, args.seed)
    if args.commits:
        commit_history(args.out, files, args.commits, args.seed)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
