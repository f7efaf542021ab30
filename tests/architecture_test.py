"""The shape of the package, held as tests: imports form no cycle, lower layers never
import higher ones, the speed wing wraps the pipeline from above, only the
reporting layer formats output for people, only ``history`` talks to git, and no
module grows past what one reader can hold."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tools" / "clearance"
MAX_LINES = 550


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("clearance", *path.relative_to(PACKAGE).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every clearance module ``name`` imports, at any depth of the file (imports
    inside functions count: they are still dependencies), TYPE_CHECKING ones aside."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in MODULES}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = full if full in MODULES else base
                if target in MODULES:
                    found.add(target)
    found.discard(name)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _cycles() -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return result


def test_the_import_graph_has_no_cycles() -> None:
    assert _cycles() == []


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# The pipeline and what it is built from, lowest first; none of these may import
# anything of the layers above them.
CORE = (
    "clearance.errors",
    "clearance.model",
    "clearance.loading",
    "clearance.schemas",
    "clearance.index",
    "clearance.engine",
)
ABOVE_CORE = (
    "clearance.incremental",
    "clearance.report",
    "clearance.site",
    "clearance.evidence",
    "clearance.commands",
    "clearance.cli",
)


@pytest.mark.parametrize("module", [m for m in MODULES if _within(m, CORE) or _within(m, ("clearance.checks",))])
def test_the_pipeline_never_imports_a_higher_layer(module: str) -> None:
    upward = sorted(t for t in GRAPH[module] if _within(t, ABOVE_CORE))
    assert upward == [], f"{module} imports {upward}"


def test_the_speed_wing_wraps_the_pipeline_from_above() -> None:
    users = sorted(m for m, targets in GRAPH.items() if any(_within(t, ("clearance.incremental",)) for t in targets))
    below = [m for m in users if _within(m, CORE) or _within(m, ("clearance.checks", "clearance.scan"))]
    assert below == [], f"the pipeline must not know the cache: {below}"


def test_reporters_and_commands_are_the_top() -> None:
    for module, targets in GRAPH.items():
        if _within(module, ("clearance.commands", "clearance.cli", "clearance.__main__")):
            continue
        assert not any(_within(t, ("clearance.commands", "clearance.cli")) for t in targets), module
    for module in MODULES:
        if _within(module, ("clearance.report",)):
            assert not any(_within(t, ("clearance.commands", "clearance.cli", "clearance.site")) for t in GRAPH[module])


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_grows_past_what_one_reader_holds(module: str) -> None:
    lines = len(MODULES[module].read_text("utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by what each part owns"
