"""Numbers: the Marstek depth of discharge, VE.Bus limits, setpoint and charger settings."""

from __future__ import annotations

from homeassistant.components.number import NumberEntity, NumberEntityDescription, NumberMode
from homeassistant.const import PERCENTAGE, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MarstekCoordinator
from .entity import MarstekEntity
from .marstek import DOD_MAX, DOD_MIN, MarstekDevice
from .runtime import VebusMarstekConfigEntry, entities_for
from .vebus_controls import vebus_numbers

PARALLEL_UPDATES = 1

MARSTEK_DOD_NUMBER = NumberEntityDescription(
    key="depth_of_discharge",
    translation_key="depth_of_discharge",
    entity_category=EntityCategory.CONFIG,
    native_min_value=DOD_MIN,
    native_max_value=DOD_MAX,
    native_step=1,
    native_unit_of_measurement=PERCENTAGE,
    mode=NumberMode.BOX,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The settings a device accepts as numbers."""
    async_add_entities(entities_for(entry, marstek=marstek_numbers, vebus=vebus_numbers))


def marstek_numbers(coordinator: MarstekCoordinator) -> list[MarstekDepthOfDischarge]:
    """Only firmware with system settings accepts DOD.SET."""
    if not coordinator.profile.has_system_settings:
        return []
    return [MarstekDepthOfDischarge(coordinator, MARSTEK_DOD_NUMBER)]


class MarstekDepthOfDischarge(MarstekEntity, NumberEntity):
    """How deep the battery may be discharged, as last written from Home Assistant."""

    _attr_assumed_state = True

    @property
    def native_value(self) -> float | None:
        """The device cannot report it: show what was last written (unknown until then)."""
        dod = self.coordinator.settings.dod
        return None if dod is None else float(dod)

    async def async_set_native_value(self, value: float) -> None:
        """Write the new depth of discharge."""
        percent = round(value)

        async def write(device: MarstekDevice) -> None:
            await device.set_dod(percent)

        await self.coordinator.async_write(write)
        self.coordinator.remember_settings(dod=percent)
