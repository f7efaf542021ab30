"""Evidence packs: the document an auditor or a regulator is sent, as one verifiable
file. 'incident ID' is a regulator-ready chronology of one incident (assessments and
deadlines, every statement with its full text, hash and approvals, notifications,
status changes, the review and its metrics, a timeline); 'changes' is change-management
evidence for a period (every change to a governed document, its approvers, signature
and findings, exceptions first). Each pack embeds a manifest (repository, commit, the
sha256 of every source); 'verify FILE' recomputes it from this checkout and exits 1 when
anything differs. --audience decides what is included: anything above it is withheld,
counted and never named. Formats: pdf (default; needs pip install 'clearance[pdf]'),
json, zip (the source files and the manifest), html. Exit 0 written or verified,
1 verification failed, 2 usage error."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clearance.errors import UsageError

if TYPE_CHECKING:
    from clearance.evidence.model import ChangesPack, IncidentPack

FORMATS = ("pdf", "json", "zip", "html")
PAPERS = ("a4", "letter")
LEVELS = ("public", "internal", "confidential", "restricted")


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", "-o", metavar="FILE", required=True, help="where to write the pack")
    parser.add_argument(
        "--format", choices=FORMATS, help="default: from the output file's extension, else pdf"
    )
    parser.add_argument(
        "--paper", choices=PAPERS, default="a4", help="page size for pdf and html (default: a4)"
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="evidence", metavar="PACK", required=True)
    incident = sub.add_parser(
        "incident",
        help="an incident's chronology, statements, approvals, deadlines and review",
        epilog="example: clearance evidence incident 2026-10-14-viral-export-link-exercise "
        "--audience restricted --format zip -o pack.zip",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    incident.add_argument("incident", metavar="ID", help="the incident id")
    incident.add_argument(
        "--audience",
        choices=(*LEVELS, "legal"),
        help="who may read the pack (default: the incident's own classification); anything above is withheld",
    )
    _outputs(incident)
    changes = sub.add_parser(
        "changes",
        help="every change to a governed document in a period, exceptions first",
        epilog="example: clearance evidence changes --since 2026-01-01 --until 2026-03-31 "
        "--audience confidential -o q1.pdf",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    changes.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD, UTC) or RFC 3339 time")
    changes.add_argument("--until", metavar="DATE", help="last day (inclusive) or RFC 3339 time")
    changes.add_argument(
        "--audience",
        choices=LEVELS,
        default="internal",
        help="who may read the pack (default: internal); changes to documents above it are withheld",
    )
    changes.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="SSH allowed-signers file to verify commit signatures against "
        "(keep it outside the audited branch)",
    )
    changes.add_argument("--rev", default="HEAD", help="the main branch to audit (default: HEAD)")
    _outputs(changes)
    verify = sub.add_parser(
        "verify",
        help="recompute a pack's manifest from this checkout; exit 1 when anything differs",
        epilog="example: clearance evidence verify pack.pdf",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    verify.add_argument("pack", metavar="FILE", help="a pack: .pdf, .json or .zip")


def run(args: argparse.Namespace) -> int:
    from clearance.commands.common import repository_config

    config = repository_config(args)
    if args.evidence == "verify":
        return _verify(Path(config.root).resolve(), Path(args.pack))
    fmt = args.format or _format_of(args.output)
    pack: IncidentPack | ChangesPack
    if args.evidence == "incident":
        from clearance.evidence import incident

        pack = incident.gather(config, args.incident, audience=args.audience)
    else:
        pack = _changes(config, args)
    from clearance.evidence import outputs
    from clearance.report import evidence as report

    data = outputs.write(pack, fmt, args.paper, Path(config.root).resolve())
    _write(args.output, data)
    target = "standard output" if args.output == "-" else args.output
    print(report.written(pack, fmt, target), file=sys.stderr)
    return 0


def _changes(config: Any, args: argparse.Namespace) -> ChangesPack:
    from clearance import history
    from clearance.commands import history as gitargs
    from clearance.evidence import changes

    since = history.parse_moment(args.since, end=False) if args.since else None
    until = history.parse_moment(args.until, end=True) if args.until else None
    if since and until and since > until:
        raise UsageError(f"--since {args.since!r} is after --until {args.until!r}")
    return changes.gather(
        config,
        since=since,
        until=until,
        audience=args.audience,
        rev=args.rev,
        allowed_signers=gitargs.signers(args),
    )


def _format_of(output: str) -> str:
    suffix = Path(output).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else "pdf"


def _write(output: str, data: bytes) -> None:
    if output == "-":
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise UsageError(f"--output {output!r}: folder {str(target.parent)!r} does not exist")
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _verify(root: Path, path: Path) -> int:
    from clearance.evidence import manifest, outputs
    from clearance.report import evidence as report

    found, problems = outputs.read_manifest(path)
    result = manifest.verify(root, found)
    sys.stdout.write(report.verification(result, str(path), problems))
    return 0 if result.ok and not problems else 1
