"""The layer order of ``guiders_lab`` is a contract checked in CI (issue 15).

Every module under ``guiders_lab/`` is parsed with :mod:`ast` (nothing is imported) and each
import of a ``guiders_lab`` module is checked against :data:`LAYERS`:

* a module may import its own unit and any unit of a lower layer; a same-layer unit only
  through an edge listed in :data:`ALLOWED_SIBLINGS`, or for types (under ``if
  TYPE_CHECKING:``). Type-only imports otherwise count: types are dependencies. Imports
  inside functions (lazy imports) count too;
* the simulator (``guiders_lab/sim/``) imports only the shared event schemas, never client
  code (:data:`SIM_MAY_IMPORT`);
* the graph between units (type-only edges included) has no cycle;
* no module is longer than :data:`MAX_LINES` lines.

A failure prints every offending import as ``file:line: a -> b (reason)``.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "guiders_lab"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

# A unit is a top-level module or a subpackage (with everything in it): ``guiders_lab.x``.
# The package root's own ``__init__.py`` is the unit ``guiders_lab.__init__``.
# Lower number = lower layer. Every unit in the tree must be listed here.
LAYERS: dict[str, int] = {
    # 0: foundation, importable by all
    "guiders_lab._version": 0,
    "guiders_lab.errors": 0,
    "guiders_lab._loop": 0,
    "guiders_lab._gc": 0,
    "guiders_lab._running": 0,
    "guiders_lab._warn": 0,
    "guiders_lab.secrets": 0,
    "guiders_lab.privacy": 0,
    "guiders_lab.sync": 0,
    # 1: wire shapes, transports, dialects, pure libraries and the simulator
    "guiders_lab._interrupt": 1,  # raises errors.Interrupted
    "guiders_lab.events": 1,
    "guiders_lab.transport": 1,
    "guiders_lab.dialects": 1,
    "guiders_lab.sentiment": 1,  # a pure library
    "guiders_lab.sim": 1,  # further constrained by SIM_MAY_IMPORT
    # 2: the store
    "guiders_lab.store": 2,
    # 3: sessions and recordings
    "guiders_lab.session": 3,
    "guiders_lab.record": 3,
    # 4: pure DataFrame functions and reply models
    "guiders_lab.analysis": 4,
    "guiders_lab.models": 4,
    # 5: bots, what the leaves need of the core, and the lab (bots < _protocols < lab)
    "guiders_lab.bots": 5,
    # Not a leaf itself but the Protocols the leaves are typed against: lab (layer 5) uses
    # them, so they cannot sit in layer 6; they name ``Bot`` (type-only, same layer).
    "guiders_lab._protocols": 5,
    "guiders_lab.lab": 5,
    # 6: leaves (report composes charts and summary; widgets use charts)
    "guiders_lab.charts": 6,
    "guiders_lab.widgets": 6,
    "guiders_lab.summary": 6,
    "guiders_lab.dataset": 6,
    "guiders_lab.report": 6,
    # 7: tools and entry points (connect is the live client the others start)
    "guiders_lab.connect": 7,
    "guiders_lab.sample": 7,
    "guiders_lab.demo": 7,
    "guiders_lab.cli": 7,
    # 8: the package root and ``python -m guiders_lab``, which may import everything
    "guiders_lab.__init__": 8,
    "guiders_lab.__main__": 8,
}

# Same-layer edges that are allowed, (importer, imported). The reverse edges are not.
ALLOWED_SIBLINGS: frozenset[tuple[str, str]] = frozenset(
    {
        ("guiders_lab.transport", "guiders_lab.events"),
        ("guiders_lab.dialects", "guiders_lab.events"),
        ("guiders_lab.sim", "guiders_lab.events"),
        # only ``dialects.<name>.wire``, the shared schemas of a dialect (SIM_MAY_IMPORT)
        ("guiders_lab.sim", "guiders_lab.dialects"),
        ("guiders_lab.record", "guiders_lab.session"),  # record builds sessions
        ("guiders_lab.lab", "guiders_lab.bots"),  # the lab runs bots (gl.lab.watch)
        ("guiders_lab.lab", "guiders_lab._protocols"),
        ("guiders_lab.widgets", "guiders_lab.charts"),
        ("guiders_lab.report", "guiders_lab.charts"),  # the report is summary + charts
        ("guiders_lab.report", "guiders_lab.summary"),
        ("guiders_lab.demo", "guiders_lab.connect"),
        ("guiders_lab.sample", "guiders_lab.connect"),
        ("guiders_lab.cli", "guiders_lab.connect"),
        ("guiders_lab.cli", "guiders_lab.demo"),
        ("guiders_lab.cli", "guiders_lab.sample"),
    }
)

# What the simulator may import of guiders_lab: itself, the shared wire shapes and records,
# the foundation's errors and version, and the shared schemas of a dialect.
SIM_MAY_IMPORT = re.compile(
    r"guiders_lab\.(sim|events)(\..+)?"
    r"|guiders_lab\.(errors|_version|_running)"
    r"|guiders_lab\.dialects\.[^.]+\.wire(\..+)?"
)

# Imports today's code makes that the contract forbids: (importer, imported) modules.
# Each is a bug in the code, not in the table: fix the code, then delete the entry (the
# test fails while an entry matches no import). Never add an entry to silence a new one.
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


# Modules longer than this are split. Data files (non-.py) are exempt.
MAX_LINES = 400

# Modules over MAX_LINES today, to be split; delete an entry once its module is back under
# (the test fails until then). Never add an entry: split the module instead.
TOO_LONG_TODAY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Import:
    """One import of a guiders_lab module, resolved to the module it names."""

    path: str  # the importing file, relative to the repository
    line: int
    importer: str  # the importing module, e.g. guiders_lab.sim.engine
    target: str  # the imported module, e.g. guiders_lab.events.records
    type_only: bool  # under ``if TYPE_CHECKING:``

    def where(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} -> {self.target}"


def unit_of(module: str) -> str:
    """``guiders_lab.x.y.z`` -> ``guiders_lab.x``; the package root -> ``guiders_lab.__init__``."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else f"{PACKAGE}.__init__"


def _module_name(root: Path, file: Path) -> tuple[str, bool]:
    """The dotted name of ``file`` and whether it is a package (``__init__.py``)."""
    parts = [root.name, *file.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(
    body: list[ast.stmt], type_only: bool = False
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement in ``body``, at any depth (functions, classes, ``try``...), and
    whether it is for types only (in the body of ``if TYPE_CHECKING:``, not its ``else``)."""
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            yield stmt, type_only
        elif isinstance(stmt, ast.If) and _is_type_checking(stmt.test):
            yield from _import_nodes(stmt.body, True)
            yield from _import_nodes(stmt.orelse, type_only)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for child in getattr(stmt, field, ()):
                    if isinstance(child, ast.ExceptHandler | ast.match_case):
                        yield from _import_nodes(child.body, type_only)
                    else:
                        yield from _import_nodes([child], type_only)


def _ours(module: str) -> bool:
    return module == PACKAGE or module.startswith(PACKAGE + ".")


def _targets(
    node: ast.Import | ast.ImportFrom, importer: str, is_package: bool, modules: set[str]
) -> list[str]:
    """The guiders_lab modules one import statement names (a name that is a submodule
    counts as that submodule, any other name as the module it comes from)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if _ours(alias.name)]
    if node.level == 0:
        base = node.module or ""
    else:
        package = importer.split(".") if is_package else importer.split(".")[:-1]
        up = node.level - 1
        if up >= len(package):
            raise AssertionError(f"{importer}: relative import beyond the top-level package")
        base = ".".join(package[: len(package) - up] + ([node.module] if node.module else []))
    if not _ours(base):
        return []
    return [
        f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
        for alias in node.names
    ]


@functools.cache
def scan(root: Path = ROOT) -> tuple[Import, ...]:
    """Every import of a guiders_lab module made by a module under ``root``."""
    files = sorted(root.rglob("*.py"))
    names = {file: _module_name(root, file) for file in files}
    modules = {name for name, _ in names.values()}
    found: list[Import] = []
    for file in files:
        importer, is_package = names[file]
        tree = ast.parse(file.read_bytes(), filename=str(file))
        path = file.relative_to(root.parent).as_posix()
        for node, type_only in _import_nodes(tree.body):
            for target in _targets(node, importer, is_package, modules):
                found.append(Import(path, node.lineno, importer, target, type_only))
    return tuple(dict.fromkeys(found))  # one per statement line and target


def _known(imp: Import) -> bool:
    return (imp.importer, imp.target) in KNOWN_VIOLATIONS


def layer_violations(imports: tuple[Import, ...]) -> list[str]:
    """Every import that goes up the layer order, or sideways without an allowed edge."""
    errors = []
    for imp in imports:
        a, b = unit_of(imp.importer), unit_of(imp.target)
        if a == b:
            continue
        missing = [unit for unit in (a, b) if unit not in LAYERS]
        if missing:
            errors.append(f"{imp.where()} ({', '.join(missing)} not in the layer table)")
            continue
        i, j = LAYERS[a], LAYERS[b]
        if j < i or (a, b) in ALLOWED_SIBLINGS or (j == i and imp.type_only) or _known(imp):
            continue
        errors.append(f"{imp.where()} (layer {i} may not import layer {j})")
    return errors


def sim_violations(imports: tuple[Import, ...]) -> list[str]:
    """Every import by the simulator of anything but the shared event schemas."""
    return [
        f"{imp.where()} (the simulator may import only sim, events, errors, _version"
        " and dialects.<name>.wire)"
        for imp in imports
        if unit_of(imp.importer) == f"{PACKAGE}.sim"
        and not SIM_MAY_IMPORT.fullmatch(imp.target)
        and not _known(imp)
    ]


def cycles(imports: tuple[Import, ...]) -> list[str]:
    """One cycle per strongly connected group of units, with the imports that make it."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in imports:
        a, b = unit_of(imp.importer), unit_of(imp.target)
        if a != b and not _known(imp):
            edges.setdefault((a, b), []).append(imp)
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())

    # Tarjan's strongly connected components (the graph has a few dozen nodes).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)

    errors = []
    for group in groups:
        if len(group) < 2:
            continue
        # The shortest cycle through the group's first unit (breadth-first, inside the group).
        start = min(group)
        paths = {start: [start]}
        queue = [start]
        cycle: list[str] = []
        while queue and not cycle:
            node = queue.pop(0)
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    cycle = [*paths[node], start]
                    break
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    queue.append(nxt)
        lines = [f"import cycle: {' -> '.join(cycle)} (units in the cycle: {sorted(group)})"]
        for a, b in itertools.pairwise(cycle):
            lines += [f"  {imp.where()} (part of the cycle)" for imp in edges[a, b]]
        errors.append("\n".join(lines))
    return errors


def stale_known_violations(imports: tuple[Import, ...]) -> list[str]:
    """Entries of KNOWN_VIOLATIONS that no import makes any more (fixed: delete them)."""
    made = {(imp.importer, imp.target) for imp in imports}
    return [
        f"{a} -> {b} is fixed: remove it from KNOWN_VIOLATIONS"
        for a, b in sorted(KNOWN_VIOLATIONS - made)
    ]


def long_modules(root: Path = ROOT) -> dict[str, int]:
    """Every .py module under ``root`` with more than MAX_LINES lines, with its length."""
    lengths = {
        file.relative_to(root.parent).as_posix(): len(file.read_bytes().splitlines())
        for file in sorted(root.rglob("*.py"))
    }
    return {path: n for path, n in lengths.items() if n > MAX_LINES}


def _report(errors: list[str]) -> str:
    return f"{len(errors)} offending import(s):\n" + "\n".join(errors)


def test_scan_finds_the_package() -> None:
    imports = scan()
    assert len(imports) > 100, "the scan found almost no guiders_lab imports"
    units = {unit_of(imp.importer) for imp in imports}
    assert {"guiders_lab.sim", "guiders_lab.store", "guiders_lab.__init__"} <= units


def test_every_unit_is_in_the_layer_table() -> None:
    units = {unit_of(_module_name(ROOT, file)[0]) for file in ROOT.rglob("*.py")}
    missing = sorted(units - LAYERS.keys())
    assert not missing, f"units not in the layer table (place them in LAYERS): {missing}"


def test_imports_follow_the_layer_order() -> None:
    errors = layer_violations(scan())
    assert not errors, _report(errors)


def test_simulator_imports_only_the_shared_schemas() -> None:
    errors = sim_violations(scan())
    assert not errors, _report(errors)


def test_no_import_cycle_between_units() -> None:
    errors = cycles(scan())
    assert not errors, "\n".join(errors)


def test_known_violations_are_still_there() -> None:
    errors = stale_known_violations(scan())
    assert not errors, "\n".join(errors)


def test_modules_are_at_most_400_lines() -> None:
    long = long_modules()
    over = {path: n for path, n in long.items() if path not in TOO_LONG_TODAY}
    assert not over, "\n".join(
        f"{path}: {n} lines (at most {MAX_LINES}; split the module)" for path, n in over.items()
    )
    back = sorted(TOO_LONG_TODAY - long.keys())
    assert not back, f"back under {MAX_LINES} lines, remove from TOO_LONG_TODAY: {back}"
