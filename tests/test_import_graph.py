"""Our modules import each other without circles, and never optionally.

Read from the source (every import statement, lazy ones inside functions too), so a circle
dodged by a function-level import still counts: the layering transports → dispatch → handlers
→ services → models only holds if nothing reaches back up.
"""
from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "nlp", "schedules")


def module_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            files[".".join(parts).removesuffix(".__init__")] = path
    return files


def imported_names(module: str, path: Path, tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's own package, up level-1 packages
                package = module if path.name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}".strip(".")
            names += [base] + [f"{base}.{alias.name}" for alias in node.names]
    return names


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    graph: dict[str, set[str]] = {module: set() for module in files}
    for module, path in files.items():
        for name in imported_names(module, path, ast.parse(path.read_text(encoding="utf-8"))):
            while name and name not in files:
                name = name.rpartition(".")[0]
            # A package and its own submodules are one unit here (an __init__ re-exporting is not a circle).
            if name and name != module and not module.startswith(name + ".") and not name.startswith(module + "."):
                graph[module].add(name)
    return graph


def test_no_import_cycles_between_our_modules() -> None:
    try:
        tuple(TopologicalSorter(import_graph()).static_order())
    except CycleError as exc:
        raise AssertionError("import cycle: " + " -> ".join(exc.args[1])) from None


def test_a_cycle_in_a_graph_is_reported() -> None:
    # The check above must be able to fail.
    graph = {"bot.a": {"bot.b"}, "bot.b": {"bot.a"}}
    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError:
        return
    raise AssertionError("a two-module circle went unnoticed")


def test_our_own_modules_are_never_imported_optionally() -> None:
    # `except ImportError` around our code hides a real ImportError as a missing feature.
    offenders = []
    for module, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Try):
                continue
            catches = {ast.unparse(h.type) for h in node.handlers if h.type is not None}
            if not catches & {"ImportError", "ModuleNotFoundError"}:
                continue
            inner = ast.Module(body=node.body, type_ignores=[])
            ours = [n for n in imported_names(module, path, inner) if n.split(".")[0] in PACKAGES]
            if ours:
                offenders.append(f"{module}:{node.lineno} {ours[0]}")
    assert offenders == []
