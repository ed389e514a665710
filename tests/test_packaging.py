"""What HACS, the Marketplace and hassfest check in the repository, and that the support range
is stated the same everywhere (offline: the checks that need GitHub run there, not here)."""

from __future__ import annotations

import json
from pathlib import Path
import re
import struct
import tomllib
from typing import Any

from awesomeversion import AwesomeVersion
from packaging.requirements import Requirement
import pytest

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = REPO / "custom_components" / "vebus_marstek"

# The keys the Marketplace reads from hacs.json (2026.11, marketplace/utils/validate.py), and
# their types; a key of the wrong type is ignored there, which would silently drop it.
HACS_KEYS: dict[str, type] = {
    "name": str,
    "homeassistant": str,
    "hacs": str,
    "content_in_root": bool,
    "zip_release": bool,
    "filename": str,
    "hide_default_branch": bool,
    "persistent_directory": str,
}


def _json(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(name="hacs")
def hacs_fixture() -> dict[str, Any]:
    return _json(REPO / "hacs.json")


@pytest.fixture(name="manifest")
def manifest_fixture() -> dict[str, Any]:
    return _json(INTEGRATION / "manifest.json")


def test_hacs_json_has_only_keys_the_marketplace_reads(hacs: dict[str, Any]) -> None:
    assert "name" in hacs
    for key, value in hacs.items():
        assert key in HACS_KEYS, f"hacs.json: unknown key {key}"
        assert isinstance(value, HACS_KEYS[key]), f"hacs.json: {key} must be {HACS_KEYS[key]}"


def test_hacs_offers_the_default_branch_while_there_are_no_releases(hacs: dict[str, Any]) -> None:
    # Versions are published from the default branch (see README, Installation): hiding it, or
    # asking for a release zip, would leave HACS nothing to install.
    assert not hacs.get("hide_default_branch", False)
    assert not hacs.get("zip_release", False)
    assert not hacs.get("content_in_root", False)


def test_manifest_has_what_hacs_and_hassfest_require(manifest: dict[str, Any]) -> None:
    for key in ("domain", "name", "documentation", "issue_tracker", "codeowners", "version"):
        assert manifest.get(key), f"manifest.json: {key} is required"
    assert manifest["domain"] == INTEGRATION.name
    assert manifest["documentation"].startswith("https://")
    assert manifest["iot_class"] == "local_polling"
    assert manifest["config_flow"] is True
    # hassfest: domain, name, then the rest in alphabetical order.
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_version_is_loadable_and_in_step_with_the_project(
    manifest: dict[str, Any],
) -> None:
    version = AwesomeVersion(manifest["version"])
    assert version.valid
    assert version.strategy != "unknown"
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert manifest["version"] == project["version"]


def test_requirements_are_lower_bounds_only(manifest: dict[str, Any]) -> None:
    # An exact pin (or an upper bound) clashes with the pins of some Home Assistant release.
    for text in manifest["requirements"]:
        requirement = Requirement(text)
        assert requirement.specifier, f"{text}: give the lowest version the code works with"
        for specifier in requirement.specifier:
            assert specifier.operator == ">=", f"{text}: only a lower bound"


def test_license_is_at_the_root_and_named_in_the_readme() -> None:
    license_text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "MIT" in readme
    assert "(LICENSE)" in readme


@pytest.mark.parametrize(("name", "size"), [("icon.png", 256), ("icon@2x.png", 512)])
def test_brand_icon_is_a_square_png_of_the_size_home_assistant_serves(name: str, size: int) -> None:
    header = (INTEGRATION / "brand" / name).read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (size, size)


def test_one_support_range_everywhere(hacs: dict[str, Any]) -> None:
    floor = hacs["homeassistant"]
    # The local brand/ folder is served from 2026.3 on: the icon shows on every supported release.
    assert AwesomeVersion(floor) >= AwesomeVersion("2026.3.0")
    floor_requirements = (REPO / "requirements" / "floor.txt").read_text(encoding="utf-8")
    assert floor_requirements.startswith(f"# Home Assistant {floor}:")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    line = next(
        (text for text in readme.splitlines() if text.startswith("**Supported Home Assistant")),
        "",
    )
    assert f"{floor.rsplit('.', 1)[0]}" in line, "README: the supported range names the floor"
    assert "verified" in line


def test_every_dhcp_matcher_is_explained_in_the_marstek_docs(manifest: dict[str, Any]) -> None:
    # The DHCP matchers are Marstek's (the battery's configuration in docs/marstek.md).
    docs = (REPO / "docs" / "marstek.md").read_text(encoding="utf-8")
    for matcher in manifest["dhcp"]:
        for key, value in matcher.items():
            shown = f"`{key}`" if value is True else f"`{key}: {value}`"
            assert shown in docs, f"docs/marstek.md must say what the DHCP matcher {shown} rests on"
    assert re.search(r"registered_devices", docs)
