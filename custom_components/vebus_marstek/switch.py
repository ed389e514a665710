"""Switches of both device families: Marstek LED and Bluetooth advertising (write-only), the
MK3 standby line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_STANDBY
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry
from .entity import (
    MarstekEntity,
    MarstekEntityDescription,
    VebusEntity,
    VebusEntityDescription,
    entities_for,
    marstek_entities,
    vebus_entities,
)
from .marstek import MarstekClient
from .marstek_settings import WrittenSettings
from .startup import is_mk3

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The settings a device accepts as switches."""
    async_add_entities(entities_for(entry, marstek=marstek_switches, vebus=vebus_switches))


# --- Marstek ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MarstekSwitchDescription(MarstekEntityDescription, SwitchEntityDescription):
    """A write-only on/off setting."""

    value_fn: Callable[[WrittenSettings], bool | None]
    write_fn: Callable[[MarstekClient, bool], Awaitable[None]]
    remember_fn: Callable[[MarstekCoordinator, bool], None]


MARSTEK_SWITCHES: tuple[MarstekSwitchDescription, ...] = (
    MarstekSwitchDescription(
        key="led",
        translation_key="led",
        entity_category=EntityCategory.CONFIG,
        # Only firmware with system settings accepts Led.Ctrl and Ble.Adv.
        has_fn=lambda profile: profile.has_system_settings,
        value_fn=lambda settings: settings.led,
        write_fn=lambda device, on: device.set_led(on),
        remember_fn=lambda coordinator, on: coordinator.remember_settings(led=on),
    ),
    MarstekSwitchDescription(
        key="ble_advertising",
        translation_key="ble_advertising",
        entity_category=EntityCategory.CONFIG,
        has_fn=lambda profile: profile.has_system_settings,
        value_fn=lambda settings: settings.ble_advertising,
        write_fn=lambda device, on: device.set_ble_advertising(on),
        remember_fn=lambda coordinator, on: coordinator.remember_settings(ble_advertising=on),
    ),
)


def marstek_switches(coordinator: MarstekCoordinator) -> list[MarstekSwitch]:
    """The write-only settings this firmware accepts."""
    return marstek_entities(coordinator, MARSTEK_SWITCHES, MarstekSwitch)


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

        async def write(device: MarstekClient) -> None:
            await description.write_fn(device, on)

        await self.coordinator.async_write(write)
        description.remember_fn(self.coordinator, on)


# --- VE.Bus ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VebusSwitchDescription(VebusEntityDescription, SwitchEntityDescription):
    """A VE.Bus switch and what it reads (the standby line reads nothing: the client knows)."""


VEBUS_STANDBY = VebusSwitchDescription(
    key="standby",
    translation_key="standby",
    entity_category=EntityCategory.CONFIG,
    # Only an MK3 has the standby line.
    has_fn=is_mk3,
)


def vebus_switches(coordinator: VebusCoordinator) -> list[VebusStandbySwitch]:
    """The standby line, where the interface has one."""
    return vebus_entities(coordinator, (VEBUS_STANDBY,), VebusStandbySwitch)


class VebusStandbySwitch(VebusEntity, SwitchEntity):
    """The MK3 standby line: keeps a switched-off unit (and the MK3) awake, at some drain."""

    @property
    def is_on(self) -> bool:
        """Whether the line is held."""
        return self.coordinator.client.standby_wanted

    async def async_turn_on(self, **kwargs: object) -> None:
        """Hold the line (kept across restarts)."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: object) -> None:
        """Release the line."""
        await self._async_set(False)

    async def _async_set(self, on: bool) -> None:
        await self.coordinator.async_write(lambda client: client.set_standby(on))
        entry = self.coordinator.config_entry
        # The option applies it again at the next start; no reload is triggered by this.
        self.hass.config_entries.async_update_entry(
            entry, options={**entry.options, CONF_STANDBY: on}
        )
        self.async_write_ha_state()
