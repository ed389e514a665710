"""The plain-Python packages stay publishable on their own, and layered.

Both protocol clients, and the site core, import nothing from Home Assistant or from the glue
around them (only the standard library, their declared requirements and, for the site, the
integration's Home Assistant-free ``energy`` module), and each module imports only from layers
below its own: framing and models -> messages -> connection -> client -> command line.
"""

from __future__ import annotations

import ast
from pathlib import Path
import shutil
import sys

import pytest

PACKAGES = Path(__file__).parent.parent / "custom_components" / "vebus_marstek"

# serialx is in the manifest; aioesphomeapi comes with Home Assistant's ESPHome integration
# and is imported only when an esphome:// port is opened.
THIRD_PARTY = {"serialx", "aioesphomeapi"}

# Lower numbers are lower layers; a module may import from lower layers only.
LAYERS: dict[str, dict[str, int]] = {
    "vebus": {
        "errors": 0,
        "framing": 0,
        "models": 0,
        "messages": 1,
        "ports": 2,
        "connection": 2,
        "client": 3,
        "report": 4,
        "refresh": 4,
        "cli": 5,
        "__main__": 6,
        "__init__": 6,
    },
    "marstek": {
        "errors": 0,
        "framing": 0,
        "models": 0,
        "profile": 0,
        "messages": 1,
        "pv_units": 1,
        "silent_zeros": 1,
        "connection": 2,
        "discovery": 3,
        "client": 3,
        "cli": 4,
        "__main__": 5,
        "__init__": 5,
    },
    "site": {
        "models": 0,
        "split": 1,
        "totals": 1,
        "controller": 1,
        "writes": 1,
        "loop": 2,
        "__init__": 3,
    },
}
# Modules of the integration a package may import from its parent: free of Home Assistant.
PARENT_MODULES: dict[str, set[str]] = {"site": {"energy"}}


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(relative level, module) of every import in a file, nested ones included."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(0, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.level, node.module or ""))
    return found


def layer_violations(package: str, root: Path = PACKAGES) -> list[str]:
    """What breaks the rules above, one line per import."""
    layers = LAYERS[package]
    problems = []
    modules = sorted((root / package).glob("*.py"))
    assert {path.stem for path in modules} == set(layers), "every module has a layer"
    for path in modules:
        own = layers[path.stem]
        for level, module in imports_of(path):
            top = module.split(".")[0]
            if level == 0 and top not in sys.stdlib_module_names and top not in THIRD_PARTY:
                problems.append(f"{package}/{path.name} imports {module}")
            elif level > 2 or (level == 2 and module not in PARENT_MODULES.get(package, set())):
                problems.append(f"{package}/{path.name} imports from outside its package")
            elif level == 1 and path.stem != "__init__" and layers[top] >= own:
                problems.append(f"{package}/{path.name} imports .{module} from its layer or above")
    return problems


@pytest.mark.parametrize("package", sorted(LAYERS))
def test_package_imports_only_what_it_may(package: str) -> None:
    """No Home Assistant, no integration glue, no upward import."""
    assert layer_violations(package) == []


def test_what_a_package_takes_from_its_parent_has_no_home_assistant_import() -> None:
    for name in set().union(*PARENT_MODULES.values()):
        tops = {module.split(".")[0] for _, module in imports_of(PACKAGES / f"{name}.py")}
        assert tops <= set(sys.stdlib_module_names), name


def test_the_check_finds_a_home_assistant_import_and_an_upward_one(tmp_path: Path) -> None:
    """The rule is not vacuous: both kinds of import are reported."""
    shutil.copytree(PACKAGES / "vebus", tmp_path / "vebus")
    with (tmp_path / "vebus" / "client.py").open("a", encoding="utf-8") as client:
        client.write("from homeassistant.core import HomeAssistant\n")
    with (tmp_path / "vebus" / "framing.py").open("a", encoding="utf-8") as framing:
        framing.write("from .client import VebusClient\n")
    assert layer_violations("vebus", tmp_path) == [
        "vebus/client.py imports homeassistant.core",
        "vebus/framing.py imports .client from its layer or above",
    ]


def test_the_check_finds_glue_imported_by_the_site(tmp_path: Path) -> None:
    """The site may take ``energy`` from its parent, and nothing else."""
    shutil.copytree(PACKAGES / "site", tmp_path / "site")
    with (tmp_path / "site" / "split.py").open("a", encoding="utf-8") as split:
        split.write("from ..coordinator import VebusCoordinator\n")
    assert layer_violations("site", tmp_path) == ["site/split.py imports from outside its package"]
