"""Which module may import which: the pipeline's direction holds (nothing outside the
command line imports it), and no two modules import each other, even from inside a
function."""

from __future__ import annotations

import ast
from pathlib import Path

import voice_coach

PACKAGE = Path(voice_coach.__file__).resolve().parent


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path) -> set[str]:
    """The project's modules that module `name` imports anywhere in it (top level, in a
    function, under TYPE_CHECKING: each is a dependency a reader must know of)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("voice_coach")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            elif node.module and node.module.startswith("voice_coach"):
                target = node.module
            else:
                continue
            for alias in node.names:  # `from . import yamlsafe` names a module
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def test_the_graph_sees_imports_inside_functions() -> None:
    """A check on the checker: `export.batch` imports `plan` inside a function."""
    assert "voice_coach.plan" in GRAPH["voice_coach.export.batch"]
    assert "voice_coach.routine.model" in GRAPH["voice_coach.settings.table"]


def test_nothing_outside_the_command_line_imports_it() -> None:
    wrong = {
        (name, dep)
        for name, deps in GRAPH.items()
        if not name.startswith("voice_coach.cli") and name != "voice_coach.__main__"
        for dep in deps
        if dep.startswith("voice_coach.cli")
    }
    assert not wrong


def test_no_modules_import_each_other() -> None:
    """No cycle of any length: a depth-first walk finds no module on its own path."""
    cycles: list[list[str]] = []
    state: dict[str, str] = {}

    def walk(name: str, path: list[str]) -> None:
        state[name] = "open"
        for dep in sorted(GRAPH[name]):
            if state.get(dep) == "open":
                cycles.append([*path[path.index(dep) :], dep])
            elif dep not in state:
                walk(dep, [*path, dep])
        state[name] = "done"

    for name in sorted(GRAPH):
        if name not in state:
            walk(name, [name])
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)
