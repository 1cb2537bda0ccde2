"""The package's layers: no module imports from a higher layer (docs/design/architecture.md).

Every ``import`` of a ``laplace_inv`` module counts, at module level or inside a function,
``if TYPE_CHECKING`` blocks included. The only exceptions are listed in ``ALLOWED`` with the
reason each upward import is deliberate.
"""

from __future__ import annotations

import ast
from pathlib import Path

import laplace_inv

PACKAGE = Path(__file__).resolve().parents[1] / "laplace_inv"

#: Lowest first. A module may import from its own layer and the layers before it.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        "foundation",
        (
            "laplace_inv._validation",
            "laplace_inv.robust_statistics",
            "laplace_inv.phase",
            "laplace_inv.threads",
        ),
    ),
    ("operator", ("laplace_inv.operator",)),
    ("physics", ("laplace_inv.kernels",)),
    ("measures", ("laplace_inv.metrics", "laplace_inv.diagnostics", "laplace_inv.scaling")),
    (
        "data",
        ("laplace_inv.simulate", "laplace_inv.io", "laplace_inv.datasets", "laplace_inv.data"),
    ),
    ("solvers", ("laplace_inv.solvers",)),
    (
        "estimators",
        (
            "laplace_inv.base",
            "laplace_inv.result",
            "laplace_inv.peak_table",
            "laplace_inv.batching",
            "laplace_inv.classical",
            "laplace_inv.acquisition_model",
            "laplace_inv.dlemlr",
            "laplace_inv.methods",
            "laplace_inv.parallel",
        ),
    ),
    ("analysis", ("laplace_inv.analysis",)),
    ("presentation", ("laplace_inv.plotting",)),
    ("applications", ("laplace_inv.cli", "laplace_inv.bench", "laplace_inv.viewer")),
]

#: (importer, imported): deliberate upward imports, each lazy inside one function.
ALLOWED: dict[tuple[str, str], str] = {
    (
        "laplace_inv.result",
        "laplace_inv.plotting",
    ): "InversionResult.plot() is a convenience that hands the result to the plotting layer; "
    "imported on call so that results never need matplotlib",
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _layer_of(module: str) -> int | None:
    best: tuple[int, int] | None = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (index, len(prefix))
    return None if best is None else best[0]


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("laplace_inv"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import: resolve against the importing package
                base = module.split(".")[: -node.level or None]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            if name.startswith("laplace_inv"):
                found.add(name)
                # ``from laplace_inv import x`` may import the submodule ``x``
                found.update(
                    f"{name}.{a.name}"
                    for a in node.names
                    if (PACKAGE.parent / name.replace(".", "/") / a.name).exists()
                )
    return found


def _modules() -> list[tuple[str, Path]]:
    return [(_module_name(p), p) for p in sorted(PACKAGE.rglob("*.py"))]


def test_every_module_has_a_layer():
    missing = [m for m, _ in _modules() if m != "laplace_inv" and _layer_of(m) is None]
    assert not missing, f"add these modules to LAYERS: {missing}"


def test_no_module_imports_from_a_higher_layer():
    violations = []
    for module, path in _modules():
        own = _layer_of(module)
        if own is None:  # the package __init__ re-exports everything lazily
            continue
        for imported in _imports(path, module):
            layer = _layer_of(imported)
            if layer is None or layer <= own or (module, imported) in ALLOWED:
                continue
            violations.append(
                f"{module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[layer][0]})"
            )
    assert not violations, "\n".join(violations)


def test_the_checker_catches_an_upward_import(tmp_path):
    path = tmp_path / "probe.py"
    path.write_text("def f():\n    from laplace_inv.cli import main\n")
    imported = _imports(path, "laplace_inv.kernels")
    assert "laplace_inv.cli" in imported
    assert _layer_of("laplace_inv.cli") > _layer_of("laplace_inv.kernels")


def test_allowed_exceptions_are_still_needed():
    """An exception that no code uses any more must leave the list."""
    used = {
        (module, imported)
        for module, path in _modules()
        if _layer_of(module) is not None
        for imported in _imports(path, module)
    }
    assert set(ALLOWED) <= used, set(ALLOWED) - used


def test_no_module_is_over_500_lines():
    """Small files that each do one thing (issue 19): split a module before it passes 500."""
    root = Path(laplace_inv.__file__).parent
    long = {
        str(p.relative_to(root)): n
        for p in root.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, f"modules over 500 lines: {long}"
