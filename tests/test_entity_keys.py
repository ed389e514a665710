"""Every entity key is written out in its description, so a search for it finds the code.

Keys reach users as unique-id suffixes and entity ids; translations and icons are keyed by the
descriptions' translation keys, and both files must name each of those.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from types import ModuleType

from homeassistant.helpers.entity import EntityDescription
import pytest

from custom_components.vebus_marstek import binary_sensor, number, select, sensor, switch

INTEGRATION = Path(sensor.__file__).parent

DESCRIPTIONS: dict[ModuleType, dict[str, tuple[EntityDescription, ...]]] = {
    sensor: {
        "marstek": (*sensor.MARSTEK_SENSORS, *sensor.MARSTEK_PASSIVE_SENSORS),
        "vebus": sensor.VEBUS_SENSORS,
        "site": sensor.SITE_SENSORS,
    },
    binary_sensor: {
        "marstek": binary_sensor.MARSTEK_BINARY_SENSORS,
        "vebus": binary_sensor.VEBUS_ALARMS,
    },
    number: {
        "marstek": (number.MARSTEK_DOD_NUMBER,),
        "vebus": number.VEBUS_NUMBERS,
        "site": number.SITE_NUMBERS,
    },
    select: {
        "marstek": (select.MARSTEK_MODE_SELECT,),
        "vebus": (select.VEBUS_SWITCH_MODE,),
        "site": (select.SITE_MODE_SELECT,),
    },
    switch: {"marstek": switch.MARSTEK_SWITCHES, "vebus": (switch.VEBUS_STANDBY,)},
}


def string_literals(module: ModuleType) -> list[str]:
    """Every string constant written in a module's source."""
    tree = ast.parse(Path(str(module.__file__)).read_text(encoding="utf-8"))
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


@pytest.mark.parametrize("module", DESCRIPTIONS, ids=lambda module: module.__name__.split(".")[-1])
def test_every_key_is_written_once_per_family(module: ModuleType) -> None:
    """No key is built from pieces, and no family repeats a key."""
    literals = string_literals(module)
    for family, descriptions in DESCRIPTIONS[module].items():
        keys = [description.key for description in descriptions]
        assert len(keys) == len(set(keys)), f"{family} repeats a key"
        assert [key for key in keys if key not in literals] == [], f"{family}: keys built"


@pytest.mark.parametrize("language", ["en", "nl"])
def test_translations_and_icons_are_keyed_by_the_descriptions(language: str) -> None:
    """Every name comes from the translations; no icon or name is left over from a lost key."""
    names = json.loads((INTEGRATION / "translations" / f"{language}.json").read_text())["entity"]
    icons = json.loads((INTEGRATION / "icons.json").read_text())["entity"]
    for module, families in DESCRIPTIONS.items():
        platform = module.__name__.split(".")[-1]
        keys = {
            description.translation_key
            for descriptions in families.values()
            for description in descriptions
        }
        assert set(names[platform]) == keys, platform
        assert set(icons.get(platform, {})) <= keys, platform
