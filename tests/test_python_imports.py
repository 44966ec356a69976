"""The Python under scripts/ imports in layers: no module may import itself back through others.

An import circle makes a module's names depend on which module was imported first, and hides
which module is the library and which the caller. Every import is counted, also one inside a
function (a lazy import still ties the two modules together).
"""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = os.path.join(ROOT, "scripts")


def module_name(path, base):
    rel = os.path.relpath(path, base)[:-3].split(os.sep)
    if rel[-1] == "__init__":
        rel = rel[:-1]
    return ".".join(rel)


def imports_of(name, tree, is_package, known):
    """The modules in `known` that a module imports (absolute, relative, `from X import module`)."""
    package = name if is_package else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - (node.level - 1)])
                origin = f"{base}.{node.module}" if node.module else base
            else:
                origin = node.module
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def import_graph(base):
    """{module: set of modules it imports} for every .py under base."""
    files = {}
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for f in filenames:
            if f.endswith(".py"):
                path = os.path.join(dirpath, f)
                files[module_name(path, base)] = path
    graph = {}
    for name, path in files.items():
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
        graph[name] = imports_of(name, tree, path.endswith("__init__.py"), files)
    return graph


def cycles(graph):
    """Every import circle, each as a list of modules starting and ending with the same one."""
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_no_import_circle_in_scripts():
    graph = import_graph(SCRIPTS)
    assert "c10k.runner" in graph and "perfcheck.cli" in graph  # the walk found the packages
    assert cycles(graph) == []


def test_the_check_finds_a_circle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("import os\n\ndef f():\n    from .c import g\n")
    (pkg / "c.py").write_text("from pkg.a import x\n")
    (tmp_path / "top.py").write_text("from pkg import a\n")
    graph = import_graph(str(tmp_path))
    assert graph["top"] == {"pkg.a"} and graph["pkg.b"] == {"pkg.c"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (pkg / "c.py").write_text("import pkg\n")  # the package itself, not a module of the circle
    assert cycles(import_graph(str(tmp_path))) == []


@pytest.mark.parametrize("source, expected", [
    ("from .. import results", {"c10k.results"}),
    ("from ..plots import PLOTS", {"c10k.plots"}),
    ("import c10k.results as r", {"c10k.results"}),
])
def test_relative_and_absolute_imports_resolve(source, expected):
    known = {"c10k", "c10k.results", "c10k.plots", "c10k.sub.x"}
    assert imports_of("c10k.sub.x", ast.parse(source), False, known) == expected
