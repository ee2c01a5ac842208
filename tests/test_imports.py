"""The package's import graph has no cycle (issue 13): data flows one way, cli -> api -> ... -> network.

Every ``import`` and ``from ... import`` of every module counts, those inside functions too:
a cycle through a function-level import works until someone moves the import up.
"""

import ast
import importlib.util
from pathlib import Path

import networkx as nx

import lptrain

ROOT = Path(lptrain.__file__).parent


def _module_name(path: Path) -> str:
    parts = ["lptrain", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> nx.DiGraph:
    files = {_module_name(p): p for p in ROOT.rglob("*.py")}
    g = nx.DiGraph()
    g.add_nodes_from(files)
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                    if node.level else node.module
                for a in node.names:  # "from pkg import module" imports the module
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in files else base)
            for t in targets:
                while t and t not in files and t.startswith("lptrain."):
                    t = t.rpartition(".")[0]
                if t in files and t != mod:
                    g.add_edge(mod, t)
    return g


def test_the_graph_sees_the_imports():
    g = import_graph()
    assert g.has_edge("lptrain.api", "lptrain.face")
    assert g.has_edge("lptrain.solvers.registry", "lptrain.solvers.highs")
    assert g.has_edge("lptrain.cli", "lptrain.solvers.highs")  # a function-level import
    assert g.has_edge("lptrain.solvers.bnb", "lptrain.activations")  # from .. import activations


def test_import_graph_has_no_cycle():
    g = import_graph()
    try:
        cycle = nx.find_cycle(g)
    except nx.NetworkXNoCycle:
        return
    raise AssertionError("import cycle: " + " -> ".join([u for u, _ in cycle] + [cycle[-1][1]]))


def test_the_solver_base_imports_no_solver():
    g = import_graph()
    assert not [t for t in g.successors("lptrain.solvers.base") if t.startswith("lptrain.solvers")]


def test_size_helpers_come_from_sizes():
    """``DEFAULT_MEMORY``, ``human_bytes``, ``big`` and ``lp_bytes`` live in lptrain.sizes; no module
    (tests and benchmarks included) takes them from the polytope module any more."""
    helpers = {"DEFAULT_MEMORY", "human_bytes", "big", "lp_bytes"}
    top = ROOT.parent.parent
    paths = [*ROOT.rglob("*.py"), *(top / "tests").glob("*.py"), *(top / "benchmarks").glob("*.py")]
    bad = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "polytope":
                bad += [f"{path.name}: {a.name}" for a in node.names if a.name in helpers]
    assert not bad, bad
