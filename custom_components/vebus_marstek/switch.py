"""Switches: Marstek LED and Bluetooth advertising (write-only), the MK3 standby line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MarstekCoordinator
from .entity import MarstekEntity
from .marstek import MarstekDevice
from .runtime import VebusMarstekConfigEntry, entities_for
from .vebus_controls import vebus_switches
from .written_settings import WrittenSettings

PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class MarstekSwitchDescription(SwitchEntityDescription):
    """A write-only on/off setting."""

    value_fn: Callable[[WrittenSettings], bool | None]
    write_fn: Callable[[MarstekDevice, bool], Awaitable[None]]
    remember_fn: Callable[[MarstekCoordinator, bool], None]


MARSTEK_SWITCHES: tuple[MarstekSwitchDescription, ...] = (
    MarstekSwitchDescription(
        key="led",
        translation_key="led",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda settings: settings.led,
        write_fn=lambda device, on: device.set_led(on),
        remember_fn=lambda coordinator, on: coordinator.remember_settings(led=on),
    ),
    MarstekSwitchDescription(
        key="ble_advertising",
        translation_key="ble_advertising",
        entity_category=EntityCategory.CONFIG,
        value_fn=lambda settings: settings.ble_advertising,
        write_fn=lambda device, on: device.set_ble_advertising(on),
        remember_fn=lambda coordinator, on: coordinator.remember_settings(ble_advertising=on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The settings a device accepts as switches."""
    async_add_entities(entities_for(entry, marstek=marstek_switches, vebus=vebus_switches))


def marstek_switches(coordinator: MarstekCoordinator) -> list[MarstekSwitch]:
    """Only firmware with system settings accepts Led.Ctrl and Ble.Adv."""
    if not coordinator.profile.has_system_settings:
        return []
    return [MarstekSwitch(coordinator, description) for description in MARSTEK_SWITCHES]


class MarstekSwitch(MarstekEntity, SwitchEntity):
    """Shows what was last written; the device cannot report it."""

    entity_description: MarstekSwitchDescription
    _attr_assumed_state = True

    @property
    def is_on(self) -> bool | None:
        """The last written state, unknown until first written."""
        return self.entity_description.value_fn(self.coordinator.settings)

    async def async_turn_on(self, **kwargs: object) -> None:
        """Switch the setting on."""
        await self._async_write(True)

    async def async_turn_off(self, **kwargs: object) -> None:
        """Switch the setting off."""
        await self._async_write(False)

    async def _async_write(self, on: bool) -> None:
        description = self.entity_description

        async def write(device: MarstekDevice) -> None:
            await description.write_fn(device, on)

        await self.coordinator.async_write(write)
        description.remember_fn(self.coordinator, on)
