"""The test environment is one a user can have: every package the running Home Assistant pins
has exactly the pinned version (scripts/setup installs under those pins)."""

from __future__ import annotations

from importlib import metadata
import json
from pathlib import Path

import homeassistant
from homeassistant.const import __version__ as HA_VERSION
from packaging.requirements import Requirement

from tools.ha_releases import PIN, manifest_requirements, normalise

HOMEASSISTANT = Path(homeassistant.__file__).parent


def _installed() -> dict[str, str]:
    return {
        normalise(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }


def _constraint_pins() -> dict[str, str]:
    text = (HOMEASSISTANT / "package_constraints.txt").read_text(encoding="utf-8")
    return {normalise(m[1]): m[2] for line in text.splitlines() if (m := PIN.match(line))}


def _core_pins() -> dict[str, set[str]]:
    pins: dict[str, set[str]] = {}
    for manifest in (HOMEASSISTANT / "components").glob("*/manifest.json"):
        for requirement in json.loads(manifest.read_text(encoding="utf-8")).get("requirements", []):
            if match := PIN.match(requirement):
                pins.setdefault(normalise(match[1]), set()).add(match[2])
    return pins


def test_installed_packages_have_the_versions_this_release_pins() -> None:
    installed = _installed()
    wrong = {
        name: f"{installed[name]} installed, Home Assistant {HA_VERSION} pins {pinned}"
        for name, pinned in _constraint_pins().items()
        if name in installed and installed[name] != pinned
    }
    for name, versions in _core_pins().items():
        if name in installed and len(versions) == 1 and installed[name] not in versions:
            wrong[name] = f"{installed[name]} installed, core integrations pin {versions}"
    assert not wrong


def test_our_requirements_are_installed_at_the_release_pin() -> None:
    # serialx above all: the version Home Assistant itself would give this integration.
    installed = _installed()
    pins = _constraint_pins()
    for text in manifest_requirements():
        requirement = Requirement(text)
        name = normalise(requirement.name)
        assert name in installed
        assert installed[name] in requirement.specifier
        if name in pins:
            assert installed[name] == pins[name]
