"""System health: how many batteries are configured and how many are answering."""

from __future__ import annotations

from homeassistant.components import system_health
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback

from .const import DOMAIN
from .coordinator import MarstekConfigEntry


@callback
def async_register(hass: HomeAssistant, register: system_health.SystemHealthRegistration) -> None:
    """Register the info callback."""
    register.async_register_info(system_health_info)


async def system_health_info(hass: HomeAssistant) -> dict[str, object]:
    """Counts only: addresses and MACs stay out of system health."""
    entries: list[MarstekConfigEntry] = hass.config_entries.async_entries(DOMAIN)
    answering = sum(
        1
        for entry in entries
        if entry.state is ConfigEntryState.LOADED
        and entry.runtime_data.coordinator.last_update_success
        and entry.runtime_data.coordinator.failed_cycles == 0
    )
    return {"configured_batteries": len(entries), "answering_batteries": answering}
