"""What a loaded entry holds, whichever kind of device it talks to."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers.entity import Entity

from .coordinator import MarstekCoordinator, MarstekRuntimeData
from .vebus_coordinator import VebusCoordinator, VebusRuntimeData

type VebusMarstekConfigEntry = ConfigEntry[MarstekRuntimeData | VebusRuntimeData]


def entities_for(
    entry: VebusMarstekConfigEntry,
    *,
    marstek: Callable[[MarstekCoordinator], Iterable[Entity]],
    vebus: Callable[[VebusCoordinator], Iterable[Entity]],
) -> Iterable[Entity]:
    """A platform's entities for the kind of device this entry talks to."""
    runtime = entry.runtime_data
    if isinstance(runtime, VebusRuntimeData):
        return vebus(runtime.coordinator)
    return marstek(runtime.coordinator)
