"""Every release line's snapshots hold the same entities, states and diagnostics.

Snapshots are kept per release line (tests/snapshots/ha-<line>/) because each release
serialises registry entries and states its own way; what they record must not differ.
A snapshot updated on one release only is caught here.
"""

from __future__ import annotations

from pathlib import Path
import re

SNAPSHOTS = Path(__file__).parent / "snapshots"
# "<SensorEntityCapabilityAttribute.STATE_CLASS: 'state_class'>: " -> "'state_class': "
ENUM_KEY = re.compile(r"<[A-Za-z]+\.[A-Z_]+: ('[a-z_]+')>: ")
# No aliases, written as an empty set before 2026.10 and as [None] (the entity's name) after.
NO_ALIASES = re.compile(r"'aliases': (?:set\(\{\s*\}\)|list\(\[\s*None,\s*\]\)),")


def _content(path: Path) -> str:
    return NO_ALIASES.sub("'aliases': none,", ENUM_KEY.sub(r"\1: ", path.read_text("utf-8")))


def test_every_release_line_snapshots_the_same_values() -> None:
    lines = sorted(directory for directory in SNAPSHOTS.iterdir() if directory.is_dir())
    assert len(lines) >= 2, "snapshots of the floor and the newest release line"
    names = {path.name for path in lines[0].glob("*.ambr")}
    assert names
    for line in lines[1:]:
        assert {path.name for path in line.glob("*.ambr")} == names, line.name
        for name in sorted(names):
            assert _content(line / name) == _content(lines[0] / name), f"{line.name}/{name}"
