"""What a loaded entry holds, whichever kind of device it talks to."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry

from .coordinator import MarstekRuntimeData
from .vebus_coordinator import VebusRuntimeData

type VebusMarstekConfigEntry = ConfigEntry[MarstekRuntimeData | VebusRuntimeData]
