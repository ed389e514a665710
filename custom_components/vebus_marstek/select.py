"""Selects: the Marstek operating mode, the VE.Bus remote switch and a site's mode."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import DOMAIN, SiteMode
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry
from .entity import (
    MarstekEntity,
    SiteEntity,
    SiteEntityDescription,
    VebusEntity,
    VebusEntityDescription,
    entities_for,
)
from .marstek import FirmwareProfile, MarstekClient, OperatingMode
from .site_coordinator import SiteCoordinator
from .vebus import INPUT_CONFIG, SwitchMode

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Every battery has an operating mode, every VE.Bus unit a remote switch, a site a mode."""
    async_add_entities(
        entities_for(entry, marstek=marstek_selects, vebus=vebus_selects, site=site_selects)
    )


# --- Marstek ---------------------------------------------------------------------------------

# A primary control (like the VE.Bus switch mode), not configuration: automations switch it,
# and it belongs on the dashboards Home Assistant generates.
MARSTEK_MODE_SELECT = SelectEntityDescription(key="mode", translation_key="mode")


def supported_modes(profile: FirmwareProfile) -> list[OperatingMode]:
    """The modes this firmware offers."""
    modes = [OperatingMode.AUTO, OperatingMode.AI, OperatingMode.MANUAL, OperatingMode.PASSIVE]
    if profile.has_ups:
        modes.append(OperatingMode.UPS)
    return modes


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

        async def write(device: MarstekClient) -> None:
            if mode is OperatingMode.MANUAL:
                self.coordinator.remember_slot(await device.select_manual_mode())
            else:
                await device.set_mode(mode)

        await self.coordinator.async_write(write)


# --- VE.Bus ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VebusSelectDescription(VebusEntityDescription, SelectEntityDescription):
    """A VE.Bus select and what it reads."""


VEBUS_SWITCH_MODE = VebusSelectDescription(
    key="switch_mode", translation_key="switch_mode", reads=frozenset({INPUT_CONFIG})
)


def vebus_selects(coordinator: VebusCoordinator) -> list[VebusSwitchModeSelect]:
    """Every unit has the remote switch."""
    return [VebusSwitchModeSelect(coordinator, VEBUS_SWITCH_MODE)]


class VebusSwitchModeSelect(VebusEntity, SelectEntity):
    """The remote switch: on, off, charger only, inverter only."""

    _attr_options = [mode.value for mode in SwitchMode]

    @property
    def current_option(self) -> str | None:
        """The position the unit reports."""
        mode = self.coordinator.data.status.switch_mode
        return None if mode is None else mode.value

    async def async_select_option(self, option: str) -> None:
        """Move the switch; the input current limit stays as it is."""
        mode = SwitchMode(option)
        await self.coordinator.async_write(lambda client: client.set_switch_mode(mode))


# --- site ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SiteSelectDescription(SiteEntityDescription, SelectEntityDescription):
    """A site select."""


SITE_MODE_SELECT = SiteSelectDescription(key="site_mode", translation_key="site_mode")


def site_selects(coordinator: SiteCoordinator) -> list[SiteModeSelect]:
    """The site's mode."""
    return [SiteModeSelect(coordinator, SITE_MODE_SELECT)]


class SiteModeSelect(SiteEntity, SelectEntity):
    """Off, Setpoint, and with a grid sensor Zero export and Self-consumption."""

    def __init__(self, coordinator: SiteCoordinator, description: SiteSelectDescription) -> None:
        super().__init__(coordinator, description)
        modes = [SiteMode.OFF, SiteMode.SETPOINT]
        if coordinator.grid_sensor is not None:
            modes += [SiteMode.ZERO_EXPORT, SiteMode.SELF_CONSUMPTION]
        self._attr_options = [str(mode) for mode in modes]

    @property
    def current_option(self) -> str:
        """The mode now (Off after a fail-safe)."""
        return str(self.coordinator.control.mode)

    async def async_select_option(self, option: str) -> None:
        """Change the mode; a mode the site cannot run is refused and nothing changes."""
        await self.coordinator.control.async_set_mode(SiteMode(option))
        self.coordinator.async_control_changed()
