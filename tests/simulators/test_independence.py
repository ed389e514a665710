"""The simulators import nothing from the integration, so a protocol mistake cannot hide in both."""

from __future__ import annotations

import ast
from pathlib import Path

SIMULATORS = Path(__file__).resolve().parents[2] / "simulators"
CLIENT_PACKAGE = "custom_components"
DYNAMIC_IMPORTS = frozenset({"import_module", "__import__"})


def _imported_modules(tree: ast.AST) -> list[str]:
    """Every absolute module name the source imports, statically or by name at run time."""
    modules: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.append(node.module)
        elif isinstance(node, ast.Call) and node.args:
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            first = node.args[0]
            if name in DYNAMIC_IMPORTS and isinstance(first, ast.Constant):
                modules.append(str(first.value))
    return modules


def test_simulators_import_nothing_from_the_clients() -> None:
    sources = sorted(SIMULATORS.rglob("*.py"))
    # A path mistake would find no files and pass for nothing.
    assert SIMULATORS / "vebus" / "__init__.py" in sources
    assert SIMULATORS / "marstek" / "__init__.py" in sources
    offenders = {
        str(path.relative_to(SIMULATORS)): imported
        for path in sources
        if (
            imported := [
                module
                for module in _imported_modules(ast.parse(path.read_bytes(), str(path)))
                if module.split(".")[0] == CLIENT_PACKAGE
            ]
        )
    }
    assert offenders == {}
