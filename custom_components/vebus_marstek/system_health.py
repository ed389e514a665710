"""System health: how many devices of each family are configured and how many answer."""

from __future__ import annotations

from homeassistant.components import system_health
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN, DeviceKind, entry_kind
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry


@callback
def async_register(hass: HomeAssistant, register: system_health.SystemHealthRegistration) -> None:
    """Register the info callback."""
    register.async_register_info(system_health_info)


def _answering(entry: VebusMarstekConfigEntry) -> bool:
    if entry.state is not ConfigEntryState.LOADED:
        return False
    coordinator = entry.runtime_data
    if not coordinator.last_update_success:
        return False
    if isinstance(coordinator, VebusCoordinator):
        return not coordinator.data.asleep
    return isinstance(coordinator, MarstekCoordinator) and coordinator.failed_cycles == 0


async def system_health_info(hass: HomeAssistant) -> dict[str, object]:
    """Counts only: addresses, ports and serial numbers stay out of system health."""
    entries: list[VebusMarstekConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    batteries = [entry for entry in entries if entry_kind(entry) is DeviceKind.MARSTEK]
    units = [entry for entry in entries if entry_kind(entry) is DeviceKind.VEBUS]
    return {
        "configured_batteries": len(batteries),
        "answering_batteries": sum(1 for entry in batteries if _answering(entry)),
        "configured_vebus_units": len(units),
        "answering_vebus_units": sum(1 for entry in units if _answering(entry)),
    }
