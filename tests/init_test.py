"""'clearance init' end to end: the new repository is a real git repository whose first
commit passes 'clearance check' (only the deliberate placeholder findings), builds its
handbook with 'mkdocs build --strict', passes 'pre-commit run --all-files', and whose
CI workflow validates against the GitHub and GitLab schemas and runs green: every
command as written, its 'pip install' included, in a new virtual environment where
this checkout's wheel stands in for the registry."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement

from clearance import __version__, starter
from conftest import run_cli

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent
ORG = "Acme Rail & Freight Ltd"
DOMAIN = "acme-rail.example"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Example",
    "GIT_AUTHOR_EMAIL": "ada@acme-rail.example",
    "GIT_COMMITTER_NAME": "Ada Example",
    "GIT_COMMITTER_EMAIL": "ada@acme-rail.example",
    "GIT_AUTHOR_DATE": "2026-03-02T09:00:00+00:00",
    "GIT_COMMITTER_DATE": "2026-03-02T09:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
# Findings a brand-new repository has on purpose: its people are placeholders
# (PPL004), and nobody has exercised its protocols yet (APR005). Its clearance.yaml
# reports both as info until then, so the handbook builds with --strict.
# DSC006: the notice template's public numbers (credit bureaus, FTC) are allowed by
# counsel and listed for the record; ACK002: no training records yet.
EXPECTED = {"PPL004", "APR005", "DSC006", "ACK002"}
# what mkdocs-material prints on every run unless NO_MKDOCS_2_WARNING is set
BANNER = "end of life"


def tool_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CLEARANCE_AUDIENCE",)}
    env.update(GIT_ENV)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["PRE_COMMIT_HOME"] = str(tmp / "pre-commit-home")
    env.pop("NO_MKDOCS_2_WARNING", None)  # the generated files must hide the theme's banner themselves
    return env


def init(parent: Path, name: str, *args: str) -> Path:
    target = parent / name
    with pytest.MonkeyPatch.context() as patch:
        for key, value in GIT_ENV.items():
            patch.setenv(key, value)
        result = run_cli("init", str(target), *args)
    assert result.code == 0, result.err
    return target


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("init")


@pytest.fixture(scope="module")
def repo(home: Path) -> Path:
    return init(home, "acme", "--org", ORG, "--domain", DOMAIN, "--ci", "github")


@pytest.fixture(scope="module")
def gitlab_repo(home: Path) -> Path:
    return init(home, "oneill", "--org", "O'Neill Media", "--domain", "oneill.example", "--ci", "gitlab")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, env={**os.environ, **GIT_ENV}, capture_output=True, text=True, check=True
    ).stdout


def run(repo: Path, command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-eo", "pipefail", "-c", command], cwd=repo, env=env, capture_output=True, text=True,
        check=False, timeout=600,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout's wheel, built once for the tests that install it."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True, capture_output=True,
    )
    return next(dist.glob("clearance-*.whl"))


def fresh_env(where: Path, wheel: Path) -> dict[str, str]:
    """tool_env for a new, empty virtual environment (first on PATH, this checkout's
    environment off it) in which pip finds 'clearance' in the wheel's folder, as it
    would on the registry, and everything else on the index as usual."""
    env_dir = where / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    env = tool_env(where)
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != BIN.resolve()]
    env["PATH"] = os.pathsep.join([str(env_dir / "bin"), *path])
    env["VIRTUAL_ENV"] = str(env_dir)
    env["PIP_FIND_LINKS"] = " ".join([str(wheel.parent), *os.environ.get("PIP_FIND_LINKS", "").split()])
    return env


def assert_installed_from(wheel: Path, env: dict[str, str]) -> None:
    """The environment's 'clearance' command and package are the wheel's files, byte
    for byte, not another distribution that happens to satisfy the requirement."""
    env_bin = Path(env["VIRTUAL_ENV"]) / "bin"
    assert shutil.which("clearance", path=env["PATH"]) == str(env_bin / "clearance")
    done = subprocess.run(
        [str(env_bin / "python"), "-c",
         "import importlib.metadata as m; d = m.distribution('clearance'); print(d.version); print(d.read_text('RECORD'))"],
        capture_output=True, text=True, check=True,
    )
    version, *installed = done.stdout.splitlines()
    assert version == __version__
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        shipped = {line for line in archive.read(record).decode().splitlines() if line.startswith("clearance/")}
    assert shipped and shipped <= set(installed)


def pip_installs(command: str, env: dict[str, str]) -> list[Requirement] | None:
    """The requirements a 'python -m pip install ...' command line names (its
    variables expanded from ``env``), or None for any other command."""
    words = shlex.split(re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), m.group(0)), command))
    if words[:4] != ["python", "-m", "pip", "install"]:
        assert "pip install" not in command, command
        return None
    return [Requirement(word) for word in words[4:] if not word.startswith("-")]


def readme_steps(repo: Path) -> list[str]:
    block = re.search(r"^## First steps\n\n```sh\n(.*?)\n```", (repo / "README.md").read_text("utf-8"), re.M | re.S)
    assert block, "README.md has no First steps block"
    return [line.split("  # ")[0].rstrip() for line in block.group(1).splitlines()]


def check_json(repo: Path) -> dict[str, Any]:
    result = run_cli("--root", str(repo), "check", "--format", "json")
    assert result.code == 0, result.out
    data: dict[str, Any] = result.json()
    return data


# -- the repository ------------------------------------------------------------------


def test_result_is_one_clean_commit(repo: Path) -> None:
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD").strip() == "main"
    log = git(repo, "log", "--format=%an <%ae>|%s").splitlines()
    assert log == [f"Ada Example <ada@acme-rail.example>|Start the governance repository from Clearance {__version__}"]
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = set(git(repo, "ls-files").splitlines())
    for required in (
        "clearance.yaml", "mkdocs.yml", "README.md", ".gitignore", ".pre-commit-config.yaml",
        ".github/workflows/clearance.yml", ".github/CODEOWNERS", ".vscode/settings.json", ".vscode/extensions.json",
        "docs/index.md", "incidents/.gitkeep", "schemas/role.schema.json", "schemas/common.schema.json",
        "policies/sensitive-data-disclosure.md", "protocols/chains/policy-change.yaml",
    ):
        assert required in tracked, required
    assert not any(path.startswith(".gitlab") for path in tracked)


def test_check_passes_with_only_the_deliberate_findings(repo: Path) -> None:
    report = check_json(repo)
    rules = {f["rule"] for f in report["findings"]}
    assert report["summary"]["errors"] == 0
    assert report["summary"]["warnings"] == 0
    assert rules <= EXPECTED, rules
    people = sorted(p.stem for p in (repo / "policies" / "people").glob("*.yaml"))
    flagged = sorted(re.search(r"'(.+)'", f["message"]).group(1)  # type: ignore[union-attr]
                     for f in report["findings"] if f["rule"] == "PPL004")
    assert people and flagged == people
    text = run_cli("--root", str(repo), "check", str(repo / "policies/people/legal-counsel-1.yaml"))
    assert "PPL004 info: person 'legal-counsel-1' is a placeholder" in text.out
    assert "hint: fill in the real name, emails and code_host, then delete 'placeholder: true'" in text.out


def test_placeholders_are_warnings_once_the_starter_rules_go(repo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(repo, copy, ignore=shutil.ignore_patterns(".git"))
    config = (copy / "clearance.yaml").read_text("utf-8")
    (copy / "clearance.yaml").write_text(config.split("\nrules:\n")[0] + "\n", "utf-8")
    report = check_json(copy)
    assert report["summary"]["errors"] == 0
    severities = {(f["rule"], f["severity"]) for f in report["findings"]}
    assert ("PPL004", "warning") in severities
    assert {rule for rule, _ in severities} <= EXPECTED


def test_people_are_placeholders_and_no_example_data_is_left(repo: Path) -> None:
    reference = starter.reference_root()
    examples = [yaml.safe_load(p.read_text("utf-8")) for p in (reference / "policies" / "people").glob("*.yaml")]
    assert examples
    needles = ["example.com", "Example Organisation", "Example Org "]
    for person in examples:
        needles += [person["id"], person["name"], *person["emails"]]
    for path in repo.rglob("*"):
        if ".git" in path.parts or not path.is_file() or path.parts[-2:-1] == ("schemas",):
            continue
        text = path.read_text("utf-8")
        for needle in needles:
            assert needle not in text, f"{needle!r} left in {path.relative_to(repo)}"
    person = yaml.safe_load((repo / "policies" / "people" / "legal-counsel-1.yaml").read_text("utf-8"))
    assert person["placeholder"] is True
    assert person["emails"] == ["legal-counsel-1@acme-rail.example"]
    assert person["code_host"] == "@acme-rail-legal-counsel-1"
    role = yaml.safe_load((repo / "policies" / "roles" / "legal-counsel.yaml").read_text("utf-8"))
    assert "legal-counsel-1" in role["members"]


def test_organisation_and_domain_are_substituted(repo: Path) -> None:
    config = yaml.safe_load((repo / "clearance.yaml").read_text("utf-8"))
    assert config["organisation"] == {"name": ORG, "domain": DOMAIN}
    assert yaml.safe_load((repo / "mkdocs.yml").read_text("utf-8"))["site_name"] == f"{ORG} handbook"
    newsroom = yaml.safe_load((repo / "protocols" / "channels" / "newsroom.yaml").read_text("utf-8").split("\n", 1)[1])
    assert newsroom["url"] == f"https://www.{DOMAIN}/newsroom"
    security = (repo / "policies" / "data-classes" / "security-incident-details.yaml").read_text("utf-8")
    assert r"\.corp\.acme-rail\.example\b" in security  # escaped inside the detector's regex too
    # the name already ends with a legal form, so the reference's "Inc." is not added
    assert f"example: {ORG}\n" in (repo / "protocols" / "templates" / "sec-8k-item-1-05.md").read_text("utf-8")


def test_review_dates_start_on_the_day_of_adoption(repo: Path) -> None:
    today = __import__("datetime").date.today().isoformat()
    role = yaml.safe_load((repo / "policies" / "roles" / "legal-counsel.yaml").read_text("utf-8"))
    assert role["review"]["last"] == today
    policy = (repo / "policies" / "sensitive-data-disclosure.md").read_text("utf-8")
    assert f"last: {today}" in policy


def test_editor_integration(repo: Path) -> None:
    settings = json.loads((repo / ".vscode" / "settings.json").read_text("utf-8"))["yaml.schemas"]
    tracked = git(repo, "ls-files").splitlines()
    for schema, patterns in settings.items():
        assert (repo / schema).is_file(), schema
        kind = Path(schema).name.removesuffix(".schema.json")
        for pattern in patterns:
            matched = [p for p in tracked if fnmatch.fnmatch(p, pattern)]
            if kind in ("incident", "log-entry"):
                continue  # no incidents yet
            assert matched, pattern
            for path in matched:
                if path.endswith(".yaml") and kind != "config":
                    assert yaml.safe_load((repo / path).read_text("utf-8"))["kind"] == kind
    # every YAML document names its schema in a modeline that resolves from the file
    for path in tracked:
        if path.startswith(("policies/", "protocols/")) and path.endswith(".yaml"):
            first, rest = (repo / path).read_text("utf-8").split("\n", 1)
            assert first.startswith("# yaml-language-server: $schema="), path
            schema = (repo / path).parent / first.split("=", 1)[1]
            assert schema.resolve().is_file(), path
            assert schema.name == f"{yaml.safe_load(rest)['kind']}.schema.json"
    # the editor copy of the schemas resolves its $refs relative to the files
    role_schema = json.loads((repo / "schemas" / "role.schema.json").read_text("utf-8"))
    assert "$id" not in role_schema
    assert role_schema["allOf"][0]["$ref"].startswith("common.schema.json#")


def test_codeowners_is_in_sync(repo: Path) -> None:
    result = run_cli("--root", str(repo), "codeowners", "--check")
    assert result.code == 0, result.out
    assert "@acme-rail-legal-counsel-1" in (repo / ".github" / "CODEOWNERS").read_text("utf-8")


@pytest.mark.slow
def test_handbook_builds_strict(repo: Path, home: Path) -> None:
    done = run(repo, "mkdocs build --strict --site-dir ../acme-site", tool_env(home))
    assert done.returncode == 0, done.stderr[-3000:]
    site = home / "acme-site"
    assert "Acme Rail &amp; Freight Ltd handbook" in (site / "index.html").read_text("utf-8")
    assert (site / "proposing-a-change" / "index.html").is_file()


@pytest.mark.slow
def test_pre_commit_passes_and_guards(repo: Path, home: Path) -> None:
    env = tool_env(home)
    done = run(repo, "pre-commit run --all-files", env)
    assert done.returncode == 0, done.stdout[-3000:]
    for hook in ("clearance check", "clearance codeowners --check", "incident logs are append-only", "trailing whitespace"):
        assert re.search(rf"^{re.escape(hook)}\.+Passed$", done.stdout, re.M), hook


# -- options and refusals ------------------------------------------------------------


def test_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine\n")
    result = run_cli("init", str(target))
    assert result.code == 2
    assert result.err == (
        f"clearance: error: {str(target)!r} is not empty (1 entry: 'notes.txt'); clearance init never "
        "overwrites files: choose a new or empty directory\n"
    )
    assert sorted(os.listdir(target)) == ["notes.txt"]
    hidden = tmp_path / "hidden"
    (hidden / ".git").mkdir(parents=True)
    assert run_cli("init", str(hidden)).code == 2
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = run_cli("init", str(a_file))
    assert result.code == 2
    assert "exists and is not a directory" in result.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--org", "Acme: the company"), "--org 'Acme: the company': it must not contain ': '"),
        (("--org=-dash",), "it must start with a letter or digit, not '-'"),
        (("--org", 'Say "hi"'), "it must not contain '\"'"),
        (("--domain", "not a domain"), "--domain 'not a domain' is not a domain name"),
        (("--domain", "localhost"), "--domain 'localhost' is not a domain name"),
        (("--ci", "jenkins"), "invalid choice: 'jenkins'"),
    ],
)
def test_bad_options_create_nothing(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    target = tmp_path / "new"
    result = run_cli("init", str(target), *args)
    assert result.code == 2
    assert message in result.err
    assert "Traceback" not in result.err
    assert not target.exists()


def test_gitlab_flavour(gitlab_repo: Path) -> None:
    tracked = set(git(gitlab_repo, "ls-files").splitlines())
    assert {".gitlab-ci.yml", "CODEOWNERS"} <= tracked
    assert not any(path.startswith(".github/") for path in tracked)
    assert "[Policies]" in (gitlab_repo / "CODEOWNERS").read_text("utf-8")
    assert run_cli("--root", str(gitlab_repo), "codeowners", "--check", "--syntax", "gitlab").code == 0
    config = yaml.safe_load((gitlab_repo / ".pre-commit-config.yaml").read_text("utf-8"))
    entries = {hook["id"]: hook["entry"] for hook in config["repos"][0]["hooks"]}
    assert entries["clearance-codeowners"] == "clearance codeowners --check --syntax gitlab"
    # an apostrophe in the name survives YAML and Markdown
    assert check_json(gitlab_repo)["summary"]["errors"] == 0
    assert "O'Neill Media Ltd" in (gitlab_repo / "protocols" / "templates" / "gdpr-art-33-notification.md").read_text()


def test_no_ci(home: Path) -> None:
    plain = init(home, "plain", "--ci", "none")
    tracked = git(plain, "ls-files").splitlines()
    assert ".github/CODEOWNERS" in tracked
    assert not any(p.startswith(".github/workflows") or p == ".gitlab-ci.yml" for p in tracked)


def test_output_says_what_to_do_next(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    target = tmp_path / "a b"
    result = run_cli("init", str(target), "--ci", "none")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert re.fullmatch(rf"Created a governance repository for 'Example Organisation' in '{re.escape(str(target))}': "
                        r"\d+ files, first commit [0-9a-f]{10}\.", lines[0])
    people = len(list((target / "policies" / "people").glob("*.yaml")))
    assert lines[1] == f"{people} placeholder people to fill in under policies/people/ ('clearance check' lists them as PPL004)."
    assert lines[3] == f"  cd '{target}'"
    assert "  pre-commit install" in lines
    # decisions are signed: the one-line key registration is among the next steps
    keys = [line for line in lines if line.startswith("  clearance keys add --key ")]
    assert len(keys) == 1 and "policies/people/" in keys[0], lines
    monkeypatch.chdir(tmp_path)
    (tmp_path / "here").mkdir()
    monkeypatch.chdir(tmp_path / "here")
    result = run_cli("init", ".", "--ci", "none")
    assert result.code == 0
    assert not any(line.startswith("  cd ") for line in result.out.splitlines())


def test_without_git_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    result = run_cli("init", str(tmp_path / "new"))
    assert result.code == 2
    assert result.err == "clearance: error: git is not installed or not on PATH; clearance init makes a git repository\n"
    assert not (tmp_path / "new").exists()


def test_commits_without_a_git_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in GIT_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("EMAIL", "")
    target = tmp_path / "anon"
    result = run_cli("init", str(target), "--ci", "none")
    assert result.code == 0, result.err
    assert "the first commit is by 'clearance init'" in result.out
    assert git(target, "log", "--format=%an <%ae>").strip() == "clearance init <clearance-init@example.com>"


# -- CI templates --------------------------------------------------------------------


def schema_check(builtin: str, path: Path) -> None:
    done = subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", builtin, str(path)],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _commands(script: str | list[str]) -> Iterator[str]:
    yield from [script] if isinstance(script, str) else script


def test_requirement_is_this_release_or_a_compatible_later_one() -> None:
    assert starter.requirement("0.2.0") == "clearance>=0.2.0,<0.3"
    assert starter.requirement("1.4.2") == "clearance>=1.4.2,<2"
    assert Requirement(starter.requirement()).specifier.contains(__version__)


def test_generated_files_install_only_clearance(repo: Path, gitlab_repo: Path) -> None:
    """Every install command a new repository shows or runs names this project with
    a range this release satisfies, and nothing else but pre-commit; every registry
    link is to this project."""
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "clearance.yml").read_text("utf-8"))
    pipeline = yaml.safe_load((gitlab_repo / ".gitlab-ci.yml").read_text("utf-8"))
    commands = [(c, workflow["env"]) for job in workflow["jobs"].values() for step in job["steps"]
                for c in _commands(step.get("run", []))]
    for job in pipeline.values():
        if isinstance(job, dict):
            for key in ("before_script", "script"):
                commands += [(c, pipeline["variables"]) for c in _commands(job.get(key, []))]
    commands += [(c, {}) for c in [*readme_steps(repo), *(c for c, _ in starter.first_steps())]]
    hooks = re.search(r"\((python -m pip install .*?)\)", (repo / ".pre-commit-config.yaml").read_text("utf-8"))
    assert hooks
    commands.append((hooks.group(1), {}))
    installs = [reqs for c, env in commands if (reqs := pip_installs(c, env)) is not None]
    # GitHub: its three jobs (check, checkpoint, handbook); GitLab: before_script, and the
    # hooks job adds pre-commit; README, Next: and the pre-commit configuration's comment
    assert len(installs) == 8
    named = [r for requirements in installs for r in requirements if r.name == "clearance"]
    assert len(named) == 7
    assert {r.name for requirements in installs for r in requirements} == {"clearance", "pre-commit"}
    for clearance in named:
        assert clearance == Requirement(starter.requirement())
        assert clearance.specifier.contains(__version__)
    for generated in (repo, gitlab_repo):
        for path in generated.rglob("*"):
            if path.is_file() and ".git" not in path.parts:
                for project in re.findall(r"pypi\.org/project/([\w.-]+)", path.read_text("utf-8")):
                    assert project == "clearance", path


@dataclass(frozen=True)
class Signing:
    key: Path  # the CI's private key
    signers: Path  # its allowed-signers line
    remote: Path  # a bare repository standing for the code host


def ci_signing(where: Path) -> Signing:
    """A real CI key, the allowed-signers file naming it, and a bare remote."""
    where.mkdir()
    key = where / "clearance-ci"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "clearance-ci", "-f", str(key)],
                   check=True)
    public = key.with_name("clearance-ci.pub").read_text().strip()
    signers = where / "allowed_signers"
    signers.write_text(f'clearance-ci namespaces="git" {public}\n')
    remote = where / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    return Signing(key, signers, remote)


def _expression(value: str, settings: dict[str, dict[str, str]]) -> str:
    """A workflow value with its ${{ secrets.X }} / ${{ vars.X }} filled in from the settings."""
    return re.sub(r"\$\{\{\s*(secrets|vars)\.(\w+)\s*\}\}", lambda m: settings[m[1]].get(m[2], ""), value)


def _gitlab_expand(value: str, env: dict[str, str]) -> str:
    """A job variable as GitLab expands it from the other variables."""
    return re.sub(r"\$\{(\w+)\}", lambda m: env.get(m[1], ""), value)


def assert_signed_checkpoint(repo: Path, signing: Signing) -> None:
    """The CI run left exactly one checkpoint tag on the remote, at the verified HEAD,
    signed by the CI key; verify with the allowed signers accepts it, and rejects it
    with a list that does not hold the CI key."""
    tags = git(repo, "ls-remote", "--tags", str(signing.remote)).split()
    names = [t for t in tags if t.startswith("refs/tags/clearance-checkpoint/") and not t.endswith("^{}")]
    assert len(names) == 1, tags
    assert git(repo, "rev-parse", f"{names[0]}^{{commit}}").strip() == git(repo, "rev-parse", "HEAD").strip()
    good = run_cli("--root", str(repo), "verify", "--allowed-signers", str(signing.signers))
    assert good.code == 0, good.out + good.err
    stranger = signing.signers.with_name("other_signers")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger.with_suffix(".key"))],
                   check=True)
    stranger.write_text(f'other namespaces="git" {stranger.with_suffix(".key.pub").read_text().strip()}\n')
    bad = run_cli("--root", str(repo), "verify", "--allowed-signers", str(stranger))
    assert bad.code == 1 and "VER005" in bad.out, bad.out


@pytest.mark.slow
def test_github_workflow_is_valid_and_runs_green(repo: Path, home: Path, wheel: Path) -> None:
    path = repo / ".github" / "workflows" / "clearance.yml"
    schema_check("vendor.github-workflows", path)
    workflow = yaml.safe_load(path.read_text("utf-8"))
    assert workflow["env"]["CLEARANCE_REQUIREMENT"] == starter.requirement()
    assert workflow["env"]["NO_MKDOCS_2_WARNING"] == "1"
    uses = [step.get("uses", "") for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/deploy-pages@") for u in uses)
    base = fresh_env(home / "github-ci", wheel)
    # what the repository settings hold (see the workflow's header): a CI key as a secret,
    # its allowed-signers line as a variable; the runner's temp folder; origin is a remote
    context = ci_signing(home / "github-settings")
    settings = {"secrets": {"CLEARANCE_CHECKPOINT_KEY": context.key.read_text()},
                "vars": {"CLEARANCE_ALLOWED_SIGNERS": context.signers.read_text()}}
    (home / "github-runner").mkdir()
    base["RUNNER_TEMP"] = str(home / "github-runner")
    git(repo, "remote", "add", "origin", str(context.remote))
    ran = []
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if "run" not in step:
                continue
            given = {key: _expression(str(value), settings) for key, value in step.get("env", {}).items()}
            env = {**base, **workflow.get("env", {}), **job.get("env", {}), **given}
            for command in _commands(step["run"]):
                done = run(repo, command, env)
                assert done.returncode == 0, f"{name}: {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
                assert BANNER not in done.stderr, command
                ran.append(command)
                if "pip install" in command:
                    assert_installed_from(wheel, base)
    assert ran == [
        'python -m pip install "${CLEARANCE_REQUIREMENT}" pre-commit',
        "clearance check --format sarif > clearance.sarif",
        "clearance check --format github",
        "clearance codeowners --check",
        workflow["jobs"]["check"]["steps"][-2]["run"],
        "pre-commit run --all-files --show-diff-on-failure",
        'python -m pip install "${CLEARANCE_REQUIREMENT}"',
        workflow["jobs"]["checkpoint"]["steps"][-1]["run"],
        'python -m pip install "${CLEARANCE_REQUIREMENT}"',
        "mkdocs build --strict --site-dir _site",
    ]
    assert workflow["jobs"]["checkpoint"]["needs"] == ["check"]
    assert workflow["jobs"]["checkpoint"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert_signed_checkpoint(repo, context)
    sarif = json.loads((repo / "clearance.sarif").read_text("utf-8"))
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} <= EXPECTED
    # Pages get the public audience only: nothing internal is published
    assert (repo / "_site" / "index.html").is_file()
    assert "legal-counsel-1" not in (repo / "_site" / "search" / "search_index.json").read_text("utf-8")


@pytest.mark.slow
def test_gitlab_ci_is_valid_and_runs_green(gitlab_repo: Path, home: Path, wheel: Path) -> None:
    path = gitlab_repo / ".gitlab-ci.yml"
    schema_check("vendor.gitlab-ci", path)
    pipeline = yaml.safe_load(path.read_text("utf-8"))
    assert pipeline["variables"]["CLEARANCE_REQUIREMENT"] == starter.requirement()
    assert pipeline["variables"]["NO_MKDOCS_2_WARNING"] == "1"
    base = fresh_env(home / "gitlab-ci", wheel)
    # the project's CI/CD variables (see the file's header; File variables are paths) and
    # what GitLab sets; the push URL reaches a bare repository standing for the server
    context = ci_signing(home / "gitlab-settings")
    base.update({"CLEARANCE_CHECKPOINT_KEY": str(context.key), "CLEARANCE_ALLOWED_SIGNERS": str(context.signers),
                 "CLEARANCE_PUSH_TOKEN": "glpat-test", "CI_SERVER_HOST": "gitlab.test",
                 "CI_PROJECT_PATH": "oneill/handbook", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"})
    git(gitlab_repo, "config", f"url.{context.remote}.insteadOf",
        "https://clearance-ci:glpat-test@gitlab.test/oneill/handbook.git")
    ran = []
    done_before: set[tuple[str, str]] = set()
    for name, job in pipeline.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        env = {**base, **pipeline["variables"]}
        env.update({key: _gitlab_expand(str(value), dict(env)) for key, value in job.get("variables", {}).items()})
        before = [(c, "") for c in _commands(pipeline["default"]["before_script"])]  # the same in every job
        for command, variables in [*before, *((c, json.dumps(job.get("variables", {}), sort_keys=True))
                                              for c in _commands(job["script"]))]:
            if (command, variables) in done_before:  # the pages job repeats the handbook job on main
                continue
            done_before.add((command, variables))
            done = run(gitlab_repo, command, env)
            assert done.returncode == 0, f"{name}: {command}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
            assert BANNER not in done.stderr, command
            ran.append(shlex.split(command)[0])
            if "pip install" in command:
                assert_installed_from(wheel, base)
    assert ran.count("clearance") == 5 and ran.count("mkdocs") == 1 and ran.count("pre-commit") == 1
    assert pipeline["clearance:checkpoint"]["stage"] == "deploy"  # after every check passed
    assert_signed_checkpoint(gitlab_repo, context)
    assert ran.count("python") == 2  # before_script's install, and the hooks job's pre-commit
    assert {job["script"][-1] for job in (pipeline["handbook"], pipeline["pages"])} == {
        "mkdocs build --strict --site-dir public"
    }
    report = json.loads((gitlab_repo / "gl-code-quality-report.json").read_text("utf-8"))
    assert report and all(
        {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue) for issue in report
    )
    assert len({issue["fingerprint"] for issue in report}) == len(report)
    assert {issue["severity"] for issue in report} == {"info"}
    assert pipeline["clearance:check"]["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert (gitlab_repo / "public" / "index.html").is_file()


def test_local_hooks_mirror_the_published_ones(repo: Path) -> None:
    published = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"))}
    local = {h["id"]: h for h in yaml.safe_load((repo / ".pre-commit-config.yaml").read_text("utf-8"))["repos"][0]["hooks"]}
    assert set(published) <= set(local)
    for hook_id, hook in published.items():
        for key in ("entry", "files", "pass_filenames", "always_run", "require_serial"):
            assert local[hook_id].get(key) == hook.get(key), (hook_id, key)


@pytest.mark.slow
def test_init_from_the_built_wheel(tmp_path: Path, repo: Path, wheel: Path) -> None:
    """The wheel carries the reference content: with only the wheel's files on the
    path (no checkout to fall back on), init writes the same repository."""
    unpacked = tmp_path / "wheel"
    zipfile.ZipFile(wheel).extractall(unpacked)
    target = tmp_path / "from-wheel"
    script = (
        "import sys; from clearance import starter; print(starter.reference_root()); "
        "from clearance.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {**tool_env(tmp_path), "PYTHONPATH": str(unpacked)}
    args = ["init", str(target), "--org", ORG, "--domain", DOMAIN, "--ci", "github"]
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == str(unpacked / "clearance" / "starter" / "reference")
    checked = subprocess.run([sys.executable, "-c", script, "--root", str(target), "check"], env=env,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout
    assert git(target, "ls-files").splitlines() == git(repo, "ls-files").splitlines()


@pytest.mark.slow
def test_first_steps_run_as_written(tmp_path: Path, wheel: Path) -> None:
    """The README's first steps are the 'Next:' lines 'clearance init' prints, and
    they run as written in a new virtual environment with the wheel standing in for
    the registry; 'mkdocs serve' gets a free port added, since 8000 may be taken."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in GIT_ENV.items():
            patch.setenv(key, value)
        patch.chdir(tmp_path)
        result = run_cli("init", "fresh", "--ci", "none")
    assert result.code == 0, result.err
    steps = [line.removeprefix("  ") for line in result.out.split("\nNext:\n", 1)[1].splitlines()]
    assert steps[0] == "cd fresh"
    # the key step needs the person's own entry filled in first: shown, not run here
    steps = [step for step in steps if not step.startswith("clearance keys add ")]
    assert steps[1:] == readme_steps(tmp_path / "fresh")
    *commands, serve = steps
    assert serve == "NO_MKDOCS_2_WARNING=1 mkdocs serve"
    env = fresh_env(tmp_path, wheel)
    done = run(tmp_path, "\n".join(commands), env)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert_installed_from(wheel, env)
    assert (tmp_path / "fresh" / ".git" / "hooks" / "pre-commit").is_file()
    assert "PPL004" in done.stdout

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    server = subprocess.Popen(
        ["bash", "-c", f"{serve} --dev-addr {address}"], cwd=tmp_path / "fresh", env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        page = ""
        deadline = time.monotonic() + 180
        while not page and server.poll() is None and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://{address}/", timeout=5) as response:
                    page = response.read().decode("utf-8")
            except OSError:
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert "Example Organisation handbook" in page, err[-3000:]
    assert BANNER not in err
