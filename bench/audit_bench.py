"""Benchmark: `clearance audit` over a generated 10,000-commit history, as a ratio to a
raw `git log --name-status` over the same range, measured in the same run.

    .venv/bin/python bench/audit_bench.py                # 10,000 commits, 5 runs each
    .venv/bin/python bench/audit_bench.py --commits 2000 --repeat 3 --keep /tmp/hist

The history is written with one `git fast-import` process (seconds): a governance
repository (people, roles, a change chain, policies, protocols, incident logs) and
groups of four commits: a direct commit, two commits on a topic branch (some renames,
trailers, tickets), and the merge that lands them. Target: audit <= 1.5x raw git log.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

PEOPLE = [(f"person-{n:02d}", f"Person {n:02d}", f"person{n:02d}@example.com") for n in range(20)]
EPOCH = 1_767_225_600  # 2026-01-01T00:00:00Z


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


def _doc(path: str, rng: random.Random, version: int) -> str:
    if path.startswith("policies/people/"):
        pid = Path(path).stem
        n = int(pid.split("-")[1])
        return (f"kind: person\nid: {pid}\ntitle: Person {n:02d}\nowner: counsel\nstatus: active\n"
                f"classification: internal\nname: Person {n:02d}\nemails: [person{n:02d}@example.com]\n"
                f'code_host: "@person-{n:02d}"\n')
    if path.startswith("policies/roles/"):
        rid = Path(path).stem
        members = ", ".join(p[0] for p in rng.sample(PEOPLE, 3))
        return (f"kind: role\nid: {rid}\ntitle: {rid}\nowner: counsel\nstatus: active\n"
                f"classification: internal\nresponsibilities: [Decide.]\nmembers: [{members}]\n")
    if path.endswith(".md"):
        pid = Path(path).stem
        return (f"---\nkind: policy\nid: {pid}\ntitle: Policy {pid}\nowner: counsel\nstatus: active\n"
                f"classification: internal\nsummary: Keep data safe.\nchange_chain: policy-change\n"
                f"clauses:\n  - {{id: c-1, text: Revision {version} of this clause.}}\n---\n"
                + "Body text that changes over time. " * 8 + f"\nRevision {version}.\n")
    notes = "".join(f"note-{n}: Step {n} of revision {version}.\n" for n in range(10))
    return f"kind: protocol\nid: {Path(path).stem}\ntitle: Protocol\nrevision: {version}\n" + notes


def generate(target: Path, commits: int, files: int, seed: int = 7) -> None:
    """Write a repository with ``commits`` commits (rounded to groups of four)."""
    rng = random.Random(seed)
    target.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    (target / "clearance.yaml").write_text("organisation: {name: Bench Co}\n")
    people = [f"policies/people/{p[0]}.yaml" for p in PEOPLE]
    roles = ["policies/roles/counsel.yaml"] + [f"policies/roles/role-{n}.yaml" for n in range(4)]
    policies = [f"policies/policy-{n:04d}.md" for n in range(files // 2)]
    count = files - files // 2 - len(people) - len(roles)
    protocols = [f"protocols/protocol-{n:04d}.yaml" for n in range(count)]
    live = policies + protocols
    version: dict[str, int] = {}
    stream: list[bytes] = []
    clock = EPOCH
    mark = 0
    main_tip = 0

    def commit(ref: str, who: tuple[str, str, str], message: str, parents: list[int],
               changes: list[bytes]) -> int:
        nonlocal mark, clock
        mark += 1
        clock += 60
        ident = f"{who[1]} <{who[2]}> {clock} +0000"
        head = [f"commit {ref}\n".encode(), f"mark :{mark}\n".encode(), f"author {ident}\n".encode(),
                f"committer {ident}\n".encode(), _data(message)]
        if parents:
            head.append(f"from :{parents[0]}\n".encode())
            head.extend(f"merge :{p}\n".encode() for p in parents[1:])
        stream.extend(head)
        stream.extend(changes)
        stream.append(b"\n")
        return mark

    def modify(path: str) -> bytes:
        version[path] = version.get(path, 0) + 1
        return f"M 100644 inline {path}\n".encode() + _data(_doc(path, rng, version[path]))

    chain = ("kind: approval-chain\nid: policy-change\ntitle: Policy change\nowner: counsel\nstatus: active\n"
             "classification: internal\npurpose: Policy changes.\nsteps:\n"
             "  - {id: counsel, role: counsel, quorum: 1, sla: P2D}\n")
    initial = [modify(p) for p in people + roles + live]
    initial.append(b"M 100644 inline protocols/chains/policy-change.yaml\n" + _data(chain))
    main_tip = commit("refs/heads/main", PEOPLE[0], "Bootstrap the governance repository\n\nGOV-1",
                      [], initial)
    made, group, entries = 1, 0, 0
    while made + 4 <= commits:
        group += 1
        author, reviewer = rng.sample(PEOPLE, 2)
        path = rng.choice(live)
        main_tip = commit("refs/heads/main", author, f"Direct fix to {path}", [main_tip], [modify(path)])
        branch = f"refs/heads/topic-{group}"
        side = main_tip
        changes: list[bytes] = []
        if group % 25 == 0:  # a rename now and then
            old = rng.choice(live)
            new = old.replace("-", "-r", 1) if "-r" not in old else old.replace("-r", "-", 1)
            if new not in live:
                live[live.index(old)] = new
                version[new] = version.pop(old, 1)
                changes.append(f"R {old} {new}\n".encode())
        changes.append(modify(rng.choice(live)))
        side = commit(branch, author, f"Update policy wording\n\nBecause the drill showed gaps.\n\n"
                      f"Ticket: GOV-{group}", [side], changes)
        entries += 1
        entry = f"incidents/inc-{group % 50:02d}/log/20260101T{entries % 240000:06d}Z-b{entries:05x}.yaml"
        logged = [f"M 100644 inline {entry}\n".encode()
                  + _data(f"kind: log-entry\ntype: observation\nby: {author[0]}\ntext: n{entries}\n")]
        side = commit(branch, author, f"Log entry {entries}\n\nApproved-by: {reviewer[1]} <{reviewer[2]}>",
                      [side], logged)
        # fast-import builds a merge's tree from its first parent plus the listed
        # changes: replay the branch's changes so the merge tree equals the branch tip
        title = f"Merge pull request #{group} from example/topic-{group}"
        main_tip = commit("refs/heads/main", reviewer, title, [main_tip, side], changes + logged)
        made += 4
    while made < commits:  # top up to the exact count with direct commits
        path = rng.choice(live)
        main_tip = commit("refs/heads/main", rng.choice(PEOPLE), f"Direct fix to {path}", [main_tip],
                          [modify(path)])
        made += 1
    proc = subprocess.run(["git", "fast-import", "--quiet"], cwd=target, input=b"".join(stream),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        sys.exit(f"git fast-import failed: {proc.stderr.decode()}")
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=target, check=True)


def _cpu() -> float:
    """CPU seconds used so far by this process and its finished children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _time(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of Python and git together) of one call."""
    cpu, start = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - start, _cpu() - cpu


def measure(repo: Path, repeat: int) -> dict[str, object]:
    clearance = Path(sys.executable).with_name("clearance")
    count = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=repo, capture_output=True, text=True,
                           check=True).stdout.strip()

    def raw() -> None:
        subprocess.run(["git", "log", "--name-status", "HEAD"], cwd=repo, stdout=subprocess.DEVNULL,
                       check=True)

    # An installed clearance has its bytecode cached; without this, an environment that
    # sets PYTHONDONTWRITEBYTECODE would compile every module on every run (~0.05 s).
    cli_env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def cli(fmt: str) -> Callable[[], None]:
        def run() -> None:
            proc = subprocess.run([str(clearance), "--root", str(repo), "audit", "--format", fmt],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=cli_env)
            if proc.returncode != 0:
                sys.exit(f"clearance audit failed: {proc.stderr.decode()}")
        return run

    def in_process(fmt: str) -> Callable[[], None]:
        def run() -> None:
            from clearance import audit, config
            from clearance.report import audit as reporter

            # as `clearance audit --format FMT` does: rows rendered while git streams
            report = audit.audit(config.load(repo), render=fmt, row=reporter.ROWS[fmt])
            assert report is not None
            reporter.RENDERERS[fmt](report)
        return run

    def load_only() -> None:
        from clearance.history import History

        History.load(repo)

    fns: dict[str, Callable[[], None]] = {
        "raw_git_log": raw,
        "history_load": load_only,
        "audit_in_process_md": in_process("md"),
        "audit_in_process_json": in_process("json"),
        "audit_cli_md": cli("md"),
        "audit_cli_json": cli("json"),
    }
    for fn in fns.values():  # warm the page cache and the imports
        fn()
    # interleaved rounds, so a burst of load on a shared machine hits every variant
    walls: dict[str, list[float]] = {name: [] for name in fns}
    cpus: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            wall, cpu = _time(fn)
            walls[name].append(wall)
            cpus[name].append(cpu)
    medians = {name: statistics.median(values) for name, values in walls.items()}
    cpu_medians = {name: statistics.median(values) for name, values in cpus.items()}
    base, cpu_base = medians["raw_git_log"], cpu_medians["raw_git_log"]
    return {
        "commits": int(count),
        "repeat": repeat,
        "median_seconds": {k: round(v, 3) for k, v in medians.items()},
        "ratio_to_git_log": {k: round(v / base, 2) for k, v in medians.items()},
        # Python and git together: when the machine's other work leaves one core, the
        # wall time approaches this sum instead of the longer of the two
        "median_cpu_seconds": {k: round(v, 3) for k, v in cpu_medians.items()},
        "cpu_ratio_to_git_log": {k: round(v / cpu_base, 2) for k, v in cpu_medians.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder and keep it")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
    temp = None
    if args.keep is not None and (args.keep / ".git").exists():
        repo = args.keep
    else:
        if args.keep is None:
            temp = Path(tempfile.mkdtemp(prefix="clearance-audit-bench-"))
        repo = args.keep or temp / "repo"  # type: ignore[operator]
        start = time.perf_counter()
        generate(repo, args.commits, args.files)
        print(f"generated {args.commits} commits in {time.perf_counter() - start:.1f}s", file=sys.stderr)
    try:
        figures = measure(repo, args.repeat)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        m, r = figures["median_seconds"], figures["ratio_to_git_log"]
        c, cr = figures["median_cpu_seconds"], figures["cpu_ratio_to_git_log"]
        assert isinstance(m, dict) and isinstance(r, dict) and isinstance(c, dict) and isinstance(cr, dict)
        print(f"history: {figures['commits']} commits; medians of {args.repeat} interleaved runs")
        print(f"  {'':24} {'wall':>7}  {'ratio':>5}   {'cpu':>6}  {'ratio':>5}")
        for key in m:
            print(f"  {key:24} {m[key]:6.3f}s  {r[key]:4.2f}x   {c[key]:5.3f}s  {cr[key]:4.2f}x")
        print("target: clearance audit <= 1.5x raw git log --name-status")
    return 0


if __name__ == "__main__":
    sys.exit(main())
