"""The import architecture of ``hmogbench``, checked statically (an import-linter equivalent, no new dependency).

Every ``*.py`` under ``hmogbench/`` is parsed with ``ast`` (nothing is imported, the whole check takes well under
a second) and every ``import`` statement becomes an edge of the import graph -- including imports inside
functions, methods, ``try`` and ``if`` blocks: a function-level import postpones a cycle to run time, it does
not remove it.  ``if TYPE_CHECKING:`` imports count too (there are none today).

How an import statement becomes an edge (the rules of grimp, import-linter's graph builder):

* ``import a.b.c`` and ``from a.b.c import name`` are edges to the module ``a.b.c``;
  ``from a.b import c`` is an edge to ``a.b.c`` when ``c`` is a module, otherwise to ``a.b`` (the package's
  ``__init__``).  Relative imports are resolved against the importing module's package
  (``from . import x``, ``from ..models.spec import ModelSpec``, ``from .models import generator``).
* Importing ``a.b.c`` also runs ``a/__init__`` and ``a/b/__init__`` at run time, but that is not an edge:
  a module depends on what it names.  A package's ``__init__`` that re-exports its submodules
  (``hmogbench/models/__init__.py``) has its own edges to them.

The contract:

1. No import cycles between modules.  The one exception: an edge from a module into the ``__init__`` of a
   package that contains it (``from .. import __version__`` in ``hmogbench.metrics.cache``) is left out of
   the cycle check: that ``__init__`` always runs before its submodules anyway (the edge adds no import
   order that is not there already), and with a re-exporting ``__init__`` every such edge would otherwise be
   a "cycle".  Whether the name asked for is defined by then is the order of the ``__init__``'s own imports,
   which any test importing the package catches.
2. Layers (import-linter's "layers" contract): a module may import modules of its own layer or of lower
   layers, never of a higher one.  ``LAYERS`` names, top to bottom, the packages each layer holds (a folder of
   ``hmogbench/`` is one package, in one layer); ``*.cli`` puts every package's command-line part in the top
   layer.  Every module must be matched (a new folder cannot escape the contract), and every rule must match a
   module.
3. No function or method in ``hmogbench/`` or ``benchmarks/`` is longer than ``MAX_FUNCTION_LINES`` lines.

``HMOGBENCH_LAYERS_ROOT=/path/to/a/copy/of/hmogbench`` points the repository checks at another tree (the
package is still called ``hmogbench``), e.g. to see them fail on a planted violation.  The checker functions
take the root and the package name, and the synthetic tests at the end run them on tiny packages in tmp_path.
"""

from __future__ import annotations

import ast
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = "hmogbench"
ROOT = Path(os.environ.get("HMOGBENCH_LAYERS_ROOT", Path(__file__).resolve().parents[1] / PACKAGE))
THIS_FILE = "tests/test_layers.py"

# Top to bottom: (layer, what it is, its rules).  A module may import its own layer and the layers below it,
# never one above it.  A rule "x.*" matches the module x (a package's __init__) and everything below it; "*.cli"
# matches every package's cli.py; a rule without "*" matches that one module.  The longest matching rule wins
# (an exact rule, "*.cli" included, beats a "*" rule of the same length).
LAYERS = (
    ("cli", "the command line: hmogbench.cli assembles each package's cli.py",
     ("hmogbench.cli", "hmogbench.__main__", "*.cli")),
    ("jobs", "what one command does end to end: evaluate runs, draw a run's figures, run the toy experiments",
     ("hmogbench.evaluation.*", "hmogbench.interpret.*", "hmogbench.toy.*")),
    ("pictures", "every picture: agreement with the thesis, curves, sample grids, the interpretability figures",
     ("hmogbench.pictures.*",)),
    ("stages", "train, measure, tabulate: the training loop and its config, the metrics, the thesis tables",
     ("hmogbench.training.*", "hmogbench.metrics.*", "hmogbench.tables.*")),
    ("parts", "what a run is made of: the networks, the image sets, the workflow's paths, schema and job sizes",
     ("hmogbench.models.*", "hmogbench.data.*", "hmogbench.workflow.*")),
    ("runtime", "what every command runs on: device, locked environment, provenance and atomic writes, signals",
     ("hmogbench.runtime.*",)),
    ("registry", "the torch-free definitions everything derives from, the published numbers, __version__",
     ("hmogbench.registry.*", "hmogbench.resources.*", "hmogbench")),
)
LAYER_NAMES = tuple(name for name, _, _ in LAYERS)
LAYER_CONTRACT = {rule: name for name, _, rules in LAYERS for rule in rules}  # rule -> layer

MAX_FUNCTION_LINES = 60
LONG_FUNCTION_FOLDERS = (PACKAGE, "benchmarks")  # beside each other in the repository (ROOT.parent)


# ---------------------------------------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Edge:
    source: str  # importing module
    target: str  # imported module
    path: str  # file of the importing module, as shown in messages
    line: int
    in_function: bool

    def where(self) -> str:
        return f"{self.path}:{self.line}" + (" (inside a function)" if self.in_function else "")


def discover(root: Path, package: str | None = None) -> dict[str, Path]:
    """Module name -> file, for every ``*.py`` under ``root`` (the package folder ``package``)."""
    root = Path(root)
    package = package or root.name
    modules = {}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if "__pycache__" in relative.parts:
            continue
        parts = [package, *relative.parts[:-1]]
        if relative.name != "__init__.py":
            parts.append(relative.stem)
        modules[".".join(parts)] = path
    return modules


def _display(path: Path, root: Path, package: str) -> str:
    return str(Path(package) / path.relative_to(root))


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The most specific existing module that ``name`` names (``a.b.c`` -> ``a.b`` if only that exists)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _anchor(module: str, modules: dict[str, Path], level: int) -> str:
    """The package that a relative import of ``level`` dots in ``module`` is relative to."""
    is_package = modules[module].name == "__init__.py"
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        raise ValueError(f"{module}: relative import beyond the top-level package")
    return ".".join(parts[: len(parts) - (level - 1)])


class _ImportCollector(ast.NodeVisitor):
    def __init__(self, module: str, modules: dict[str, Path], package: str, display: str):
        self.module, self.modules, self.package, self.display = module, modules, package, display
        self.depth = 0
        self.edges: list[Edge] = []

    def _add(self, name: str, node: ast.stmt) -> None:
        if name != self.package and not name.startswith(self.package + "."):
            return
        target = _resolve(name, self.modules)
        if target is not None and target != self.module:
            self.edges.append(Edge(self.module, target, self.display, node.lineno, self.depth > 0))

    def _function(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = _anchor(self.module, self.modules, node.level)
            base = f"{base}.{node.module}" if node.module else base
        else:
            base = node.module or ""
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            self._add(submodule if alias.name != "*" and submodule in self.modules else base, node)


def import_edges(root: Path, package: str | None = None) -> list[Edge]:
    """Every import of a module of ``package`` by a module of ``package``, function-level ones included."""
    root = Path(root)
    package = package or root.name
    modules = discover(root, package)
    edges = []
    for module, path in modules.items():
        display = _display(path, root, package)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=display)
        collector = _ImportCollector(module, modules, package, display)
        collector.visit(tree)
        edges.extend(collector.edges)
    return edges


def _contains(package: str, module: str) -> bool:
    return module.startswith(package + ".")


def cycle_graph(edges: list[Edge]) -> dict[str, dict[str, Edge]]:
    """source -> target -> first edge, without the edges into an enclosing package's ``__init__``."""
    graph: dict[str, dict[str, Edge]] = {}
    for edge in edges:
        if _contains(edge.target, edge.source):
            continue
        graph.setdefault(edge.source, {}).setdefault(edge.target, edge)
    return graph


def _strongly_connected(graph: dict[str, dict[str, Edge]]) -> list[list[str]]:
    """Tarjan's strongly connected components (iterative), those of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    for start in nodes:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, {}))))]
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
                    work.append((child, iter(sorted(graph.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def _shortest_cycle(graph: dict[str, dict[str, Edge]], component: list[str], start: str) -> list[str]:
    """A shortest cycle through ``start``, staying inside its strongly connected component."""
    members = set(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph.get(node, {})):
                if child not in members:
                    continue
                if child == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return [start, *reversed(chain[:-1]), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle through {start} in the strongly connected component {component}")


MAX_CYCLES_SHOWN = 12  # per group of mutually importing modules


def find_cycles(edges: list[Edge]) -> list[tuple[list[str], list[Edge], list[str]]]:
    """Readable cycles, (chain, its edges, the group of mutually importing modules it lies in): for each group,
    the distinct shortest cycles through each of its modules, shortest first, at most ``MAX_CYCLES_SHOWN``."""
    graph = cycle_graph(edges)
    found = []
    for component in _strongly_connected(graph):
        chains = {}
        for start in component:
            chain = _shortest_cycle(graph, component, start)
            ring = chain[:-1]
            first = ring.index(min(ring))
            ring = ring[first:] + ring[:first]
            chains.setdefault(tuple(ring), [*ring, ring[0]])
        for chain in sorted(chains.values(), key=lambda c: (len(c), c))[:MAX_CYCLES_SHOWN]:
            found.append((chain, [graph[a][b] for a, b in zip(chain, chain[1:])], component))
    return found


def _rule_length(rule: str, module: str) -> float | None:
    """How specific ``rule`` is for ``module`` (longer wins), or None if it does not match."""
    if rule.startswith("*."):
        return len(module) + 0.5 if module.endswith(rule[1:]) else None
    if rule.endswith(".*"):
        prefix = rule[:-2]
        return len(prefix) if module == prefix or module.startswith(prefix + ".") else None
    return len(rule) + 0.5 if module == rule else None  # an exact rule beats a ".*" rule of the same module


def layer_of(module: str, contract: dict[str, str] = LAYER_CONTRACT) -> str | None:
    """The layer of the longest contract rule matching ``module``; ``None`` if no rule matches."""
    best, best_length = None, -1.0
    for rule, layer in contract.items():
        length = _rule_length(rule, module)
        if length is not None and length > best_length:
            best, best_length = layer, length
    return best


def unassigned(modules, contract: dict[str, str] = LAYER_CONTRACT) -> list[str]:
    return sorted(m for m in modules if layer_of(m, contract) is None)


def layer_violations(edges: list[Edge], contract=LAYER_CONTRACT, layers=LAYER_NAMES) -> list[Edge]:
    """The edges from a module to a module of a higher layer."""
    rank = {layer: i for i, layer in enumerate(layers)}  # 0 = top
    bad = []
    for edge in edges:
        source, target = layer_of(edge.source, contract), layer_of(edge.target, contract)
        if source is not None and target is not None and rank[target] < rank[source]:
            bad.append(edge)
    return bad


def long_functions(folder: Path, limit: int, shown_from: Path | None = None) -> list[str]:
    """``file:line name (N lines)`` for each function or method in ``folder`` longer than ``limit`` lines,
    counted from its ``def`` line (decorators excluded) to its last line."""
    folder = Path(folder)
    shown_from = shown_from or folder.parent
    found = []
    for path in sorted(folder.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found.extend(_long_in(tree, limit, str(path.relative_to(shown_from)), ""))
    return found


def _long_in(node: ast.AST, limit: int, display: str, qualifier: str) -> list[str]:
    found = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = f"{qualifier}{child.name}"
            if not isinstance(child, ast.ClassDef):
                length = child.end_lineno - child.lineno + 1
                if length > limit:
                    found.append(f"{display}:{child.lineno} {name} ({length} lines)")
            found.extend(_long_in(child, limit, display, name + "."))
        else:
            found.extend(_long_in(child, limit, display, qualifier))
    return found


def _describe_cycles(cycles) -> str:
    lines = []
    for i, (chain, chain_edges, component) in enumerate(cycles):
        lines.append("  " + " -> ".join(chain))
        lines.extend(f"      {e.where()}: {e.source} imports {e.target}" for e in chain_edges)
        last_of_group = i + 1 == len(cycles) or cycles[i + 1][2] != component
        if last_of_group and len(component) > len(chain) - 1:
            lines.append(
                f"  (the cycles above lie in one group of {len(component)} modules that all reach each other: "
                f"{', '.join(component)})"
            )
    return "\n".join(lines)


def _describe_violations(violations: list[Edge], contract=LAYER_CONTRACT) -> str:
    return "\n".join(
        f"  {e.where()}: {e.source} [{layer_of(e.source, contract)}] imports {e.target} "
        f"[{layer_of(e.target, contract)}]"
        for e in violations
    )


# ---------------------------------------------------------------------------------------------------------
# The contract, on the repository (or on HMOGBENCH_LAYERS_ROOT)
# ---------------------------------------------------------------------------------------------------------


def _fail(message: str) -> None:
    pytest.fail(message, pytrace=False)  # the message says it all; no traceback with the whole edge list


@pytest.fixture(scope="module")
def edges() -> list[Edge]:
    assert (ROOT / "__init__.py").is_file(), f"no package at {ROOT} (HMOGBENCH_LAYERS_ROOT?)"
    return import_edges(ROOT, PACKAGE)


def test_every_module_is_in_the_layer_contract():
    missing = unassigned(discover(ROOT, PACKAGE))
    if missing:
        _fail(
            f"modules in no layer of LAYERS ({THIS_FILE}):\n  " + "\n  ".join(missing) + "\n"
            f"Put each in the package of the layer its imports fit (or add its package to that layer's rules): "
            f"top to bottom {' > '.join(LAYER_NAMES)}; a module may import its own layer and the ones below."
        )


def test_every_contract_rule_matches_a_module():
    modules = discover(ROOT, PACKAGE)
    stale = sorted(rule for rule in LAYER_CONTRACT if not any(layer_of(m, {rule: "x"}) for m in modules))
    if stale:
        _fail(f"rules of LAYERS ({THIS_FILE}) that match no module any more: {stale}; remove them")


def test_no_import_cycles(edges):
    cycles = find_cycles(edges)
    if cycles:
        _fail(
            f"import cycles:\n{_describe_cycles(cycles)}\n"
            "Break each cycle: move what both modules need into a module that neither imports (in a lower "
            "layer if that is where it belongs), or pass the function / object in as an argument. An import inside a "
            "function does not remove a cycle, it only postpones it to run time."
        )


def test_layers(edges):
    violations = layer_violations(edges)
    if violations:
        _fail(
            f"imports from a lower layer into a higher one (layers top to bottom: {' > '.join(LAYER_NAMES)}):\n"
            f"{_describe_violations(violations)}\n"
            "Fix the import: move the code the lower module needs down into its layer (or lower), or pass it "
            "in from the caller. Only if the importing module itself sits in the wrong package, move it (its "
            f"folder says its layer, LAYERS in {THIS_FILE}) -- never to hide a real upward dependency."
        )


@pytest.mark.parametrize("folder", LONG_FUNCTION_FOLDERS)
def test_functions_are_short(folder):
    path = ROOT.parent / folder if folder != PACKAGE else ROOT
    if not path.is_dir():
        _fail(f"{path} is missing (this test fails, not skips, without the folder)")
    offenders = long_functions(path, MAX_FUNCTION_LINES, shown_from=ROOT.parent)
    if offenders:
        _fail(
            f"functions in {folder}/ longer than {MAX_FUNCTION_LINES} lines (def line to last line):\n  "
            + "\n  ".join(offenders) + "\nSplit each into named steps."
        )


def test_the_whole_check_is_fast():
    import time

    start = time.process_time()  # CPU time: a busy machine does not make this test flaky
    all_edges = import_edges(ROOT, PACKAGE)
    find_cycles(all_edges)
    layer_violations(all_edges)
    assert time.process_time() - start < 2.0, "the static import check should take well under 2 s"


# ---------------------------------------------------------------------------------------------------------
# The checker, on tiny synthetic packages
# ---------------------------------------------------------------------------------------------------------


def _package(tmp_path: Path, files: dict[str, str], name: str = "pkg") -> Path:
    root = tmp_path / name
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _pairs(edges):
    return {(e.source, e.target) for e in edges}


def test_relative_imports_are_resolved(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "__version__ = '1'\n",
            "a.py": "from . import b\nfrom . import __version__\nfrom .models import generator\n",
            "b.py": "import pkg.models.spec\nfrom pkg.models import ModelSpec\n",
            "models/__init__.py": "from .spec import ModelSpec\nfrom . import generator\n",
            "models/spec.py": "class ModelSpec: ...\n",
            "models/generator.py": "from ..models.spec import ModelSpec\nfrom .. import a\nfrom ..a import *\n",
            "models/deep/__init__.py": "",
            "models/deep/x.py": "from ...b import thing\nfrom .. import spec\n",
        },
    )
    assert _pairs(import_edges(root)) == {
        ("pkg.a", "pkg.b"),
        ("pkg.a", "pkg"),
        ("pkg.a", "pkg.models.generator"),
        ("pkg.b", "pkg.models.spec"),
        ("pkg.b", "pkg.models"),
        ("pkg.models", "pkg.models.spec"),
        ("pkg.models", "pkg.models.generator"),
        ("pkg.models.generator", "pkg.models.spec"),
        ("pkg.models.generator", "pkg.a"),
        ("pkg.models.deep.x", "pkg.b"),
        ("pkg.models.deep.x", "pkg.models.spec"),
    }


def test_a_function_level_import_cycle_is_found(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "from . import b\n",
            "b.py": "import os\n\n\ndef late():\n    from .a import thing\n    return thing\n",
            "c.py": "from .b import late\n",
        },
    )
    cycles = find_cycles(import_edges(root))
    assert [chain for chain, _, _ in cycles] == [["pkg.a", "pkg.b", "pkg.a"]]
    text = _describe_cycles(cycles)
    assert "pkg.a -> pkg.b -> pkg.a" in text
    assert "pkg/b.py:5 (inside a function): pkg.b imports pkg.a" in text
    with pytest.raises(AssertionError, match=r"pkg\.a -> pkg\.b -> pkg\.a"):
        _fail_like_the_real_test(root)


def _fail_like_the_real_test(root):
    cycles = find_cycles(import_edges(root))
    assert not cycles, _describe_cycles(cycles)


def test_a_longer_cycle_is_shown_as_a_chain(tmp_path):
    root = _package(
        tmp_path,
        {"__init__.py": "", "a.py": "from . import b\n", "b.py": "from . import c\n", "c.py": "import pkg.a\n"},
    )
    assert [chain for chain, _, _ in find_cycles(import_edges(root))] == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_a_re_exporting_package_init_is_no_cycle(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "from .sub import x\n",
            "sub/__init__.py": "from .spec import Spec\nfrom .gen import Gen\n",
            "sub/spec.py": "from .. import __version__\n",
            "sub/gen.py": "from .spec import Spec\nfrom . import Spec as Again\n",
            "sub/x.py": "",
        },
    )
    assert find_cycles(import_edges(root)) == []


def test_an_upward_import_is_a_violation_and_siblings_are_not(tmp_path):
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "top.py": "from .low import util\nfrom .mid import one\n",
            "mid/__init__.py": "",
            "mid/one.py": "from . import two\nfrom ..low import util\n",
            "mid/two.py": "def f():\n    from ..top import main\n",
            "low.py": "",
            "new.py": "",
        },
    )
    contract = {"pkg.top": "top", "pkg.mid.*": "mid", "pkg.low": "low", "pkg": "low"}
    violations = layer_violations(import_edges(root), contract, ("top", "mid", "low"))
    assert [(e.source, e.target, e.line, e.in_function) for e in violations] == [("pkg.mid.two", "pkg.top", 2, True)]
    assert "pkg/mid/two.py:2 (inside a function): pkg.mid.two [mid] imports pkg.top [top]" in _describe_violations(
        violations, contract
    )
    assert unassigned(discover(root), contract) == ["pkg.new"]


def test_the_longest_contract_rule_wins():
    contract = {"p": "base", "p.m.*": "training", "*.cli": "cli", "p.m.cli.*": "workflow"}
    assert layer_of("p", contract) == "base"
    assert layer_of("p.m", contract) == "training"
    assert layer_of("p.m.score", contract) == "training"
    assert layer_of("p.m.cli", contract) == "cli"  # "*.cli" beats the package's "p.m.*"
    assert layer_of("p.cli", contract) == "cli"
    assert layer_of("p.m.client", contract) == "training"  # "*.cli" is the module cli, not a prefix
    assert layer_of("p.m.cli.sub", contract) == "workflow"
    assert layer_of("p.other", contract) is None  # "p" matches only the package's __init__


def test_the_real_layers_catch_a_planted_upward_import(tmp_path):
    copy = tmp_path / PACKAGE
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns("__pycache__"))
    device = copy / "runtime" / "device.py"
    device.write_text(device.read_text(encoding="utf-8") + "\n\ndef _planted():\n    from ..training import loop\n")
    violations = layer_violations(import_edges(copy, PACKAGE))
    assert [(e.source, e.target, e.in_function) for e in violations] == [
        ("hmogbench.runtime.device", "hmogbench.training.loop", True)
    ]
    assert "[runtime] imports hmogbench.training.loop [stages]" in _describe_violations(violations)


def test_long_functions_are_named(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(59))
    root = _package(
        tmp_path,
        {
            "training/ok.py": f"@decorator\n@another\ndef sixty():\n{body}\n",  # 1 + 59 lines: allowed
            "training/long.py": f"class Loop:\n    def run(self):\n    {body.replace(chr(10), chr(10) + '    ')}\n"
            "        return 1\n",  # 1 + 59 + 1 lines
        },
    )
    assert long_functions(root / "training", 60, shown_from=root) == ["training/long.py:2 Loop.run (61 lines)"]
