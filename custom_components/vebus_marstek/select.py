"""Selects: the Marstek operating mode, the VE.Bus remote switch."""

from __future__ import annotations

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN
from .coordinator import MarstekCoordinator
from .entity import MarstekEntity
from .marstek import FirmwareProfile, MarstekDevice, OperatingMode
from .runtime import VebusMarstekConfigEntry, entities_for
from .vebus_controls import vebus_selects

PARALLEL_UPDATES = 1

# A primary control (like the VE.Bus switch mode), not configuration: automations switch it,
# and it belongs on the dashboards Home Assistant generates.
MARSTEK_MODE_SELECT = SelectEntityDescription(key="mode", translation_key="mode")


def supported_modes(profile: FirmwareProfile) -> list[OperatingMode]:
    """The modes this firmware offers."""
    modes = [OperatingMode.AUTO, OperatingMode.AI, OperatingMode.MANUAL, OperatingMode.PASSIVE]
    if profile.has_ups:
        modes.append(OperatingMode.UPS)
    return modes


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Every battery has an operating mode, every VE.Bus unit a remote switch."""
    async_add_entities(entities_for(entry, marstek=marstek_selects, vebus=vebus_selects))


def marstek_selects(coordinator: MarstekCoordinator) -> list[MarstekModeSelect]:
    """The operating mode."""
    return [MarstekModeSelect(coordinator, MARSTEK_MODE_SELECT)]


class MarstekModeSelect(MarstekEntity, SelectEntity):
    """Auto, AI, Manual, Passive (and UPS where supported)."""

    def __init__(
        self, coordinator: MarstekCoordinator, description: SelectEntityDescription
    ) -> None:
        super().__init__(coordinator, description)
        self._attr_options = [mode.value for mode in supported_modes(coordinator.profile)]

    @property
    def current_option(self) -> str | None:
        """The mode the battery reports."""
        status = self.coordinator.data.mode
        if status is None or status.mode is None or status.mode not in self.options:
            return None
        return status.mode.value

    async def async_select_option(self, option: str) -> None:
        """Switch mode; Passive needs a power and a duration, so it has its own action."""
        mode = OperatingMode(option)
        if mode is OperatingMode.PASSIVE:
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="passive_needs_action",
            )

        async def write(device: MarstekDevice) -> None:
            if mode is OperatingMode.MANUAL:
                self.coordinator.remember_slot(await device.select_manual_mode())
            else:
                await device.set_mode(mode)

        await self.coordinator.async_write(write)
