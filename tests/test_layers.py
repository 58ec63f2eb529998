"""The package's layout holds: each package imports only what its docstring allows, no two
modules import each other (lazy imports inside functions included), no module is past 400
lines. Read from the source with ast, nothing imported."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "relocator"
LIMIT = 400

#: Imports inside functions that go back against the layering, each closing a cycle, and why
#: each stays lazy. A new one fails the test until it is listed here with its reason.
BACK_EDGES: dict[tuple[str, str], str] = {}
#: Modules past the limit until each is split by concept; a size may only go down.
OVER_LIMIT: dict[str, int] = {}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = modules()


def resolve(dotted: str) -> str | None:
    """The module (relative to relocator) that an import of ``relocator.<dotted>`` loads."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test)


def imports(path: Path) -> tuple[set[str], set[str]]:
    """The relocator modules ``path`` imports at its top level and inside functions (imports
    under ``if TYPE_CHECKING:`` are for mypy alone, and left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top: set[str] = set()
    lazy: set[str] = set()

    def walk(node: ast.AST, into: set[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if type_checking(child):
                continue
            target = lazy if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else into
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.startswith("relocator."):
                        found = resolve(alias.name.removeprefix("relocator."))
                        if found:
                            target.add(found)
            elif isinstance(child, ast.ImportFrom) and child.module:
                assert child.level == 0, f"{path}: a relative import"
                if child.module == "relocator" or child.module.startswith("relocator."):
                    base = child.module.removeprefix("relocator").removeprefix(".")
                    for alias in child.names:
                        name = f"{base}.{alias.name}" if base else alias.name
                        found = name if name in MODULES else resolve(base)
                        if found:
                            target.add(found)
            walk(child, target)

    walk(tree, top)
    return top, lazy


GRAPH = {name: imports(path) for name, path in MODULES.items()}


def allowed(package: str) -> tuple[set[str], set[str]]:
    """What a package's docstring says it may import: packages and top modules, and what it
    may import inside a function only."""
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text())) or ""
    _, found, line = " ".join(doc.split()).partition("Imports from relocator: ")
    assert found, f"relocator/{package}/__init__.py: no 'Imports from relocator: ...' line"
    line = re.sub(r"\s*\(.*", "", line).rstrip(".")
    top, _, lazily = line.partition("; inside a function, ")

    def words(text: str) -> set[str]:
        return {w.strip() for w in text.split(",") if w.strip()}

    return words(top), words(lazily)


def layer(module: str) -> str:
    return module.partition(".")[0]


def test_each_package_is_a_docstring_and_nothing_else() -> None:
    for init in PACKAGE.glob("*/__init__.py"):
        body = ast.parse(init.read_text()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), init
        assert isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)


def test_each_package_imports_only_what_its_docstring_allows() -> None:
    wrong = []
    for name, (top, lazy) in GRAPH.items():
        if "." not in name:
            continue  # errors, records, __main__, the package itself
        package = layer(name)
        may, may_lazily = allowed(package)
        for target, lazily in [*((t, False) for t in top), *((t, True) for t in lazy)]:
            if layer(target) in (package, *may) or (lazily and target in may_lazily):
                continue
            wrong.append(f"{name} -> {target}{' (in a function)' if lazily else ''}")
    assert not wrong, "imports the package docstrings do not allow:\n" + "\n".join(wrong)


def test_the_top_modules_import_no_package() -> None:
    for name in ("errors", "records"):
        top, lazy = GRAPH[name]
        assert not (top | lazy) - {"errors", "records"}, name


def cycle(edges: dict[str, set[str]]) -> list[str]:
    """One cycle in ``edges``, or []."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycle_at_the_top_level() -> None:
    top = {name: set(t) - {name} for name, (t, _) in GRAPH.items()}
    assert not cycle(top), " -> ".join(cycle(top))


def test_no_import_cycle_but_the_listed_lazy_back_edges() -> None:
    every = {name: (t | lazy) - {name} for name, (t, lazy) in GRAPH.items()}
    for a, b in BACK_EDGES:
        assert b in GRAPH[a][1], f"{a} -> {b} is gone: take it off BACK_EDGES"
        every[a].discard(b)
    found = cycle(every)
    assert not found, "an import cycle: " + " -> ".join(found)


def test_no_module_past_the_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in MODULES.items()}
    over = {name: n for name, n in sizes.items() if n > LIMIT and n > OVER_LIMIT.get(name, 0)}
    assert not over, f"past {LIMIT} lines (split by concept): {over}"
    stale = {name for name in OVER_LIMIT if sizes.get(name, 0) <= LIMIT}
    assert not stale, f"now within the limit: take them off OVER_LIMIT: {stale}"
