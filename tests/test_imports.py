"""No import cycles among the project's modules: every `import` counts, at the top of a module,
inside a function or under `if TYPE_CHECKING:`, since a cycle a deferred import hides still
ties the two modules together (and breaks the first time someone moves the import up)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "review_sentiment"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE


def module_names(root: Path = SOURCE) -> dict[str, Path]:
    """`{dotted name: file}` of every module of the package (a package by its `__init__.py`)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `module` imports anywhere in its file."""
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node.module, node.level)
            # `from a.b import c` imports the module a.b.c when there is one, else a name of a.b.
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            targets = [t for t in targets[:-1] if t in modules] or [base]
        else:
            continue
        for target in targets:
            # `import a.b.c` of a name that is no module (a typo aside): its nearest module.
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _absolute(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{name}" if name else package


def import_graph(root: Path = SOURCE) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (`[a, b, ..., a]`) per strongly connected group of modules, by Tarjan's
    algorithm, iterative so that a deep chain of imports cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(group)
    return [_cycle_in(group, graph) for group in groups]


def _cycle_in(group: set[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest cycle through the group's first module (breadth first, within the group)."""
    start = min(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & group):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {sorted(group)}")  # Tarjan's groups always have one


def test_the_project_has_no_import_cycles():
    cycles = find_cycles(import_graph())

    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


@pytest.mark.parametrize(
    ("a_imports", "b_imports"),
    [
        ("from pkg import b\n", "from pkg.a import X\n"),  # top level
        ("def f():\n    from . import b\n", "import pkg.a\n"),  # in a function, relative
        (  # only for type checkers
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import Y\n",
            "from .a import X\n",
        ),
    ],
    ids=["top-level", "function", "type-checking"],
)
def test_a_cycle_is_found_and_named_however_it_is_imported(tmp_path, a_imports, b_imports):
    root = _write(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/a.py": f"{a_imports}X = 1\n", "pkg/b.py": f"{b_imports}Y = 2\n"},
    )

    cycles = find_cycles(import_graph(root))

    assert cycles == [["pkg.a", "pkg.b", "pkg.a"]]


def test_modules_that_import_one_way_are_no_cycle(tmp_path):
    root = _write(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.a import X\n",  # a package re-exporting its module
            "pkg/a.py": "from pkg.types import T\nX = 1\n",
            "pkg/b.py": "from pkg import a\nfrom pkg.types import T\n",
            "pkg/types.py": "T = int\n",
        },
    )

    assert find_cycles(import_graph(root)) == []


def pipeline_of(module: str) -> str | None:
    """The pipeline a module belongs to (`review_sentiment.pipelines.<name>…`), or None."""
    parts = module.split(".")
    return parts[2] if parts[:2] == [PACKAGE, "pipelines"] and len(parts) > 2 else None


def imports_across_pipelines(graph: dict[str, set[str]]) -> list[str]:
    """`a -> b` for every module of one pipeline that imports a module of another."""
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items()
        for target in targets
        if pipeline_of(module) and pipeline_of(target) and pipeline_of(module) != pipeline_of(target)
    )


def test_no_pipeline_imports_another():
    """What two pipelines share lives in a domain module (`modeling`, `reviews`, `labeling`): Kedro
    loads only the pipelines a run names, and one built from another's module breaks when the two
    change apart."""
    crossings = imports_across_pipelines(import_graph())

    assert not crossings, "pipelines importing each other:\n" + "\n".join(crossings)


def test_a_pipeline_importing_another_is_found(tmp_path):
    files = {
        f"{PACKAGE}/__init__.py": "",
        f"{PACKAGE}/pipelines/__init__.py": "",
        f"{PACKAGE}/pipelines/a/__init__.py": "",
        f"{PACKAGE}/pipelines/a/pipeline.py": f"from {PACKAGE}.pipelines.b.nodes import f\n",
        f"{PACKAGE}/pipelines/b/__init__.py": "",
        f"{PACKAGE}/pipelines/b/nodes.py": "from .helpers import g\ndef f(): pass\n",
        f"{PACKAGE}/pipelines/b/helpers.py": "def g(): pass\n",
    }

    crossings = imports_across_pipelines(import_graph(_write(tmp_path, files).parent / PACKAGE))

    assert crossings == [f"{PACKAGE}.pipelines.a.pipeline -> {PACKAGE}.pipelines.b.nodes"]
