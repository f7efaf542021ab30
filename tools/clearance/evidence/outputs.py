"""Writing a pack (PDF, JSON, zip) and reading its manifest back from any of them.

PDF is printed by WeasyPrint (BSD; Pango lays out the text and embeds subset fonts)
with the manifest attached as an embedded file, readable back with pypdf (BSD, pure
Python) or any PDF reader's attachments pane. JSON is the same content as data. The
zip holds the source files exactly as hashed, the pack as JSON and the manifest."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from clearance.errors import FatalError
from clearance.evidence import html as html_mod
from clearance.evidence import manifest as manifests
from clearance.evidence.model import MANIFEST_NAME, ChangesPack, IncidentPack, Manifest, as_data

FORMATS = ("pdf", "json", "zip", "html")
PACK_NAME = "pack.json"


def render_html(pack: IncidentPack | ChangesPack, paper: str) -> str:
    if isinstance(pack, IncidentPack):
        return html_mod.incident_html(pack, paper)
    return html_mod.changes_html(pack, paper)


def to_json(pack: IncidentPack | ChangesPack) -> str:
    return json.dumps(as_data(pack), indent=2, ensure_ascii=False) + "\n"


def pdf_bytes(pack: IncidentPack | ChangesPack, paper: str) -> bytes:
    try:
        from weasyprint import HTML, Attachment
    except ImportError:
        raise FatalError(
            "PDF output needs WeasyPrint: pip install 'clearance[pdf]' (or use --format json or zip)"
        ) from None
    except OSError as exc:  # WeasyPrint is there, Pango is not
        raise FatalError(
            f"PDF output needs Debian's Pango ({exc}): apt-get install libpango-1.0-0 "
            "libpangoft2-1.0-0 fonts-dejavu-core (or use --format json or zip)"
        ) from None
    document = HTML(string=render_html(pack, paper))
    manifest = Attachment(
        string=pack.manifest.to_json(),
        name=MANIFEST_NAME,
        description="Clearance evidence manifest: the commit and the sha256 of every source",
    )
    data: bytes = document.write_pdf(attachments=[manifest])
    return data


def zip_bytes(pack: IncidentPack | ChangesPack, root: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, pack.manifest.to_json())
        archive.writestr(PACK_NAME, to_json(pack))
        files = [s for s in pack.manifest.sources if not s.path.startswith(manifests.COMMIT_PREFIX)]
        for source in files:
            archive.writestr(f"sources/{source.path}", (root / source.path).read_bytes())
        commits = [s for s in pack.manifest.sources if s.path.startswith(manifests.COMMIT_PREFIX)]
        shas = [s.path[len(manifests.COMMIT_PREFIX) :] for s in commits]
        for sha, raw in zip(shas, manifests.objects(root, shas), strict=True):
            if raw is not None:
                archive.writestr(f"commits/{sha}", raw)
    return buffer.getvalue()


def write(pack: IncidentPack | ChangesPack, fmt: str, paper: str, root: Path) -> bytes:
    if fmt == "pdf":
        return pdf_bytes(pack, paper)
    if fmt == "json":
        return to_json(pack).encode("utf-8")
    if fmt == "zip":
        return zip_bytes(pack, root)
    return render_html(pack, paper).encode("utf-8")


def read_manifest(path: Path) -> tuple[Manifest, list[str]]:
    """The manifest in a pack file (PDF, JSON or zip), and any problems with the file's
    own content (a zip whose bundled source differs from its manifest).
    FatalError naming the file when it holds no readable manifest."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FatalError(f"{path}: cannot read: {exc.strerror}") from None
    problems: list[str] = []
    try:
        if raw.startswith(b"%PDF"):
            text = _from_pdf(raw)
        elif raw.startswith(b"PK"):
            text, problems = _from_zip(raw)
        else:
            data = json.loads(raw.decode("utf-8"))
            text = json.dumps(data.get("manifest") if isinstance(data, dict) else None)
        return Manifest.from_json(text), problems
    except (ValueError, KeyError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise FatalError(f"{path}:1:1: not a readable evidence pack: {exc}") from None


def _from_pdf(raw: bytes) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError
    except ImportError:  # pragma: no cover - a declared dependency
        raise FatalError("reading a PDF pack needs pypdf (pip install pypdf)") from None
    try:
        attachments = PdfReader(io.BytesIO(raw)).attachments
        found = attachments.get(MANIFEST_NAME) if MANIFEST_NAME in attachments else None
    except (PyPdfError, OSError, TypeError, AttributeError) as exc:
        raise ValueError(f"broken PDF ({type(exc).__name__}: {exc})") from None
    if not found:
        raise ValueError(f"the PDF has no {MANIFEST_NAME} attachment")
    return found[0].decode("utf-8")


def _from_zip(raw: bytes) -> tuple[str, list[str]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        text = archive.read(MANIFEST_NAME).decode("utf-8")
        manifest = Manifest.from_json(text)
        names = set(archive.namelist())
        problems = []
        for source in manifest.sources:
            if source.path.startswith(manifests.COMMIT_PREFIX):
                name = "commits/" + source.path[len(manifests.COMMIT_PREFIX) :]
            else:
                name = f"sources/{source.path}"
            if name not in names:
                problems.append(f"{name}: missing from the zip")
            elif manifests.sha256_bytes(archive.read(name)) != source.sha256:
                problems.append(f"{name}: the bundled copy differs from the manifest")
    return text, problems
