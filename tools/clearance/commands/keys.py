"""Register the SSH key you sign decisions with, and list who holds which key.

``clearance keys add`` appends your public key to ``signing_keys`` in your own entry of
the people register (you are the person whose emails hold git's ``user.email``); commit
that change and your approvals, rejections, publications and notifications verify from
the next commit on. ``clearance keys list`` shows every registered key with its
fingerprint, or the allowed-signers lines ``ssh-keygen -Y verify`` reads."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from clearance import engine, history, signing
from clearance.commands.common import repository_config
from clearance.config import Config
from clearance.errors import FatalError, UsageError
from clearance.index import Index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_action", metavar="ACTION", parser_class=type(parser))
    add = sub.add_parser(
        "add",
        help="add your public key to your signing_keys in the people register",
        description="Add your public SSH key to signing_keys in your entry of the people register.",
        epilog="example: clearance keys add --key ~/.ssh/id_ed25519.pub",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument(
        "--key",
        metavar="PATH",
        help="the key (a .pub file, or a private key whose public half is derived); "
        "default: git user.signingkey, else ~/.ssh/id_ed25519.pub",
    )
    listing = sub.add_parser(
        "list",
        help="every registered signing key, with its person and fingerprint",
        description="Every registered signing key, with its person and fingerprint.",
        epilog="example: clearance keys list --format allowed-signers",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    listing.add_argument("person", nargs="?", help="only this person")
    listing.add_argument("--format", choices=("text", "allowed-signers"), default="text")


def _index(config: Config) -> Index:
    return engine.load_repository(config).index


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "keys_action", None)
    if not action:
        raise UsageError("which action? see 'clearance keys --help'")
    config = repository_config(args)
    index = _index(config)
    if action == "list":
        return _list(index, args.person, args.format)
    return _add(config, index, args.key)


def _list(index: Index, person: str | None, fmt: str) -> int:
    people = sorted(index.of_kind("person"), key=lambda d: str(d.id))
    if person is not None:
        people = [d for d in people if d.id == person]
        if not people:
            raise UsageError(f"no person {person!r}")
    for doc in people:
        keys = [str(k) for k in doc.data.get("signing_keys") or () if signing.is_ssh_key(str(k))]
        if fmt == "allowed-signers":
            sys.stdout.write(signing.allowed_signers(str(doc.id), keys))
            continue
        for key in keys:
            sys.stdout.write(f"{doc.id}\t{signing.fingerprint(key)}\t{key.split()[0]}\n")
    return 0


def _add(config: Config, index: Index, given: str | None) -> int:
    root = config.root.resolve()
    proc = history.run_git(root, "config", "user.email", check=False)
    email = proc.stdout.decode("utf-8", "replace").strip().lower() if proc.returncode == 0 else ""
    me = next(
        (
            d
            for d in index.of_kind("person")
            if email and email in (str(e).lower() for e in d.data.get("emails") or ())
        ),
        None,
    )
    if me is None:
        raise UsageError(
            f"git user.email {email or '(not set)'!r} is no one's in the people register: a key is "
            "added only to your own entry; set git user.email to your address"
        )
    spec = given
    if not spec:
        found = history.run_git(root, "config", "user.signingkey", check=False)
        spec = found.stdout.decode("utf-8", "replace").strip() if found.returncode == 0 else ""
    if not spec:
        default = Path.home() / ".ssh" / "id_ed25519.pub"
        if not default.is_file():
            raise UsageError(
                "which key? pass --key PATH (make one with: ssh-keygen -t ed25519 -f ~/.ssh/id_ed25519)"
            )
        spec = str(default)
    key = signing.resolve_key(spec, Path.cwd())
    public = signing.public_part(key.public)
    if key.temporary:
        key.path.unlink(missing_ok=True)
    if not signing.is_ssh_key(public):
        raise UsageError(f"{spec}: not an SSH public key")
    held = {signing.public_part(str(k)) for k in me.data.get("signing_keys") or ()}
    path = root / me.path
    if public in held:
        print(f"{me.path}: {me.id} already holds {signing.fingerprint(public)}")
        return 0
    path.write_text(_with_key(path.read_text("utf-8"), public), "utf-8")
    print(f"added {signing.fingerprint(public)} to signing_keys of {me.id!r} in {me.path}")
    print(f"commit it, reviewed like any register change: git commit -m 'Signing key for {me.id}' {me.path}")
    return 0


def _with_key(text: str, public: str) -> str:
    """``text`` with ``public`` added to its top-level ``signing_keys`` list (block or
    flow style), or a new list at the end."""
    quoted = f'"{public}"'
    flow = re.search(r"^signing_keys:[ \t]*\[(.*)\][ \t]*$", text, re.MULTILINE)
    if flow:
        inner = flow.group(1).strip()
        items = f"{inner}, {quoted}" if inner else quoted
        return text[: flow.start()] + f"signing_keys: [{items}]" + text[flow.end() :]
    block = re.search(r"^signing_keys:[ \t]*\n((?:[ \t]+-.*\n?)+)", text, re.MULTILINE)
    if block:
        indent = re.match(r"[ \t]+", block.group(1))
        pad = indent.group(0) if indent else "  "
        end = block.end(1)
        items = block.group(1) if block.group(1).endswith("\n") else block.group(1) + "\n"
        return text[: block.start(1)] + items + f"{pad}- {quoted}\n" + text[end:]
    if re.search(r"^signing_keys:", text, re.MULTILINE):
        raise FatalError("signing_keys is written in a form this command does not edit; add the key by hand")
    return text + ("" if text.endswith("\n") else "\n") + f"signing_keys:\n  - {quoted}\n"
