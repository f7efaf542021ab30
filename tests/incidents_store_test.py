"""The append-only entry store: validated before writing, atomic, never overwriting,
and leaving nothing behind when the writer is killed mid-write."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clearance import loading, schemas
from clearance.incidents import store

DATA = Path(__file__).parent / "data" / "incidents" / "repo"
NAME = re.compile(r"^\d{8}T\d{6}Z-[a-z0-9]{6}\.yaml$")


def observation(
    text: str = "Hashtag #fixturefail trending", at: str = "2026-03-14T09:05:00+01:00"
) -> dict[str, object]:
    return {"kind": "log-entry", "type": "observation", "at": at, "by": "sam", "text": text}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(DATA, target)
    return target


def log_files(root: Path, incident: str = "drill") -> list[str]:
    folder = root / "incidents" / incident / "log"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_entry_is_named_by_utc_time_and_random_suffix(root: Path) -> None:
    entry_id, path = store.append_entry(root, "drill", observation())
    assert NAME.match(path.name), path.name
    # 09:05 at +01:00 is 08:05 UTC
    assert entry_id.startswith("20260314T080500Z-")
    doc = loading.load_file(path, f"incidents/drill/log/{path.name}")
    assert schemas.validate(doc) == []
    assert doc.data["text"] == "Hashtag #fixturefail trending"


def test_two_entries_in_the_same_second_get_distinct_names(root: Path) -> None:
    first = store.append_entry(root, "drill", observation("one"))
    second = store.append_entry(root, "drill", observation("two"))
    assert first[0] != second[0]
    assert len(log_files(root)) == 2


def test_a_name_collision_draws_a_new_suffix_and_never_overwrites(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append_entry(root, "drill", observation("original"))
    taken = log_files(root)[0].removesuffix(".yaml")
    stems = iter([taken, taken, "20260314T080500Z-zzzzzz"])
    monkeypatch.setattr(store, "entry_stem", lambda at, suffix=None: next(stems))
    entry_id, _ = store.append_entry(root, "drill", observation("second"))
    assert entry_id == "20260314T080500Z-zzzzzz"
    original = (root / "incidents/drill/log" / f"{taken}.yaml").read_text("utf-8")
    assert "original" in original and "second" not in original


def test_create_exclusive_refuses_an_existing_file(root: Path) -> None:
    target = root / "incidents" / "drill" / "log" / "20260314T080500Z-abcdef.yaml"
    store.create_exclusive(target, "first\n")
    with pytest.raises(FileExistsError):
        store.create_exclusive(target, "second\n")
    assert target.read_text("utf-8") == "first\n"


def test_invalid_entry_is_refused_before_anything_is_written(root: Path) -> None:
    entry = observation()
    del entry["text"]  # an observation needs text
    with pytest.raises(store.InvalidEntry, match="missing required field 'text'"):
        store.append_entry(root, "drill", entry)
    assert log_files(root) == []


def test_invalid_entry_message_names_file_line_and_column(root: Path) -> None:
    entry = observation()
    entry["by"] = ""
    with pytest.raises(store.InvalidEntry) as caught:
        store.append_entry(root, "drill", entry)
    assert re.search(r"incidents/drill/log/\d{8}T\d{6}Z-[a-z0-9]{6}\.yaml:\d+:\d+: ", str(caught.value))


def test_time_without_offset_is_refused(root: Path) -> None:
    with pytest.raises(store.InvalidEntry, match="needs a UTC offset"):
        store.append_entry(root, "drill", observation(at="2026-03-14T09:05:00"))
    assert log_files(root) == []


def test_text_with_control_characters_is_refused_not_written(root: Path) -> None:
    with pytest.raises(store.InvalidEntry, match="nothing was written"):
        store.append_entry(root, "drill", observation("bell \u0007 here"))
    assert log_files(root) == []


def test_multiline_text_survives_exactly(root: Path) -> None:
    text = "Line one: résumé — “quotes”\n\n  indented line\nyes\nNO\n010"
    _, path = store.append_entry(root, "drill", observation(text))
    doc = loading.load_file(path, "incidents/drill/log/x.yaml")
    assert doc.data["text"] == text


def test_modeline_is_relative_to_the_file_when_schemas_are_in_the_repository(root: Path) -> None:
    shutil.copytree(Path(__file__).parent.parent / "schemas", root / "schemas")
    _, path = store.append_entry(root, "drill", observation())
    first = path.read_text("utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../schemas/log-entry.schema.json"
    assert (path.parent / "../../../schemas/log-entry.schema.json").resolve().is_file()


def test_modeline_falls_back_to_the_schema_url(root: Path) -> None:
    _, path = store.append_entry(root, "drill", observation())
    assert path.read_text("utf-8").startswith(
        "# yaml-language-server: $schema=https://schemas.clearance.example/v1/log-entry.schema.json\n"
    )


WRITER = """
import sys
from pathlib import Path
from clearance.incidents import store
store.append_entry(Path(sys.argv[1]), "drill", {
    "kind": "log-entry", "type": "observation", "at": "2026-03-14T09:05:00Z", "by": "sam",
    "text": "x" * 50000,
}, anonymous=sys.argv[2] == "anonymous")
print("finished")
"""


def _start_paused(args: list[str], marker: Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, store.PAUSE_ENV: str(marker)}
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not marker.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"writer ended before pausing: {out!r} {err!r}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("writer never reached the pause point")
        time.sleep(0.02)
    return process


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def test_killed_writer_leaves_nothing_behind(root: Path, tmp_path: Path) -> None:
    marker = tmp_path / "paused"
    process = _start_paused([sys.executable, "-c", WRITER, str(root), "anonymous"], marker)
    # The whole entry is on disk (fsynced) but not yet linked under its name.
    _kill(process)
    assert log_files(root) == []  # no entry, no temporary file


def test_killed_writer_with_named_temporary_file_is_swept_and_never_loaded(
    root: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "paused"
    process = _start_paused([sys.executable, "-c", WRITER, str(root), "named"], marker)
    _kill(process)
    left = log_files(root)
    assert len(left) == 1 and left[0].startswith(".")  # hidden: the loader never reads it
    assert not any(NAME.match(name) for name in left)
    store.append_entry(root, "drill", observation(), anonymous=False)
    remaining = log_files(root)
    assert len(remaining) == 1 and NAME.match(remaining[0])


def test_cli_killed_mid_write_leaves_no_entry(root: Path, tmp_path: Path) -> None:
    clearance = Path(sys.executable).parent / "clearance"
    marker = tmp_path / "paused"
    (root / "incidents" / "drill").mkdir(parents=True)
    incident = (
        "kind: incident\nid: drill\ntitle: Drill\nowner: crisis-lead\nclassification: internal\n"
        "status: active\nprotocol: social-media-crisis\nseverity: sev3\nexercise: true\n"
        "coordination_channel: crisis-room\ntimestamps:\n  detected: '2026-03-14T09:00:00Z'\n"
    )
    (root / "incidents" / "drill" / "incident.yaml").write_text(incident, "utf-8")
    args = [str(clearance), "incident", "log", "drill", "observation", "--text", "interrupted", "--as", "sam"]
    process = _start_paused(args, marker, cwd=root)
    _kill(process)
    assert log_files(root) == []
    # The same command without the pause completes and writes exactly one entry.
    done = subprocess.run(args, cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(log_files(root)) == 1
