"""Numbers of both device families: Marstek depth of discharge; VE.Bus limits, ESS setpoint
and charger settings.

Every VE.Bus write is range-checked by the client against the unit's own limits before
anything is sent. Its settings are written to RAM only (effective now, gone after a unit
reset) unless the entry's "persist setting writes" option is on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple

from homeassistant.components.number import (
    NumberDeviceClass,
    NumberEntity,
    NumberEntityDescription,
    NumberMode,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .const import CONF_PERSIST_SETTINGS
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry
from .entity import (
    MarstekEntity,
    MarstekEntityDescription,
    SiteEntity,
    SiteEntityDescription,
    VebusEntity,
    VebusEntityDescription,
    entities_for,
    marstek_entities,
    site_entities,
    vebus_entities,
)
from .marstek import DOD_MAX, DOD_MIN, MarstekClient
from .site_control import SiteControl
from .site_coordinator import SiteCoordinator
from .vebus import INPUT_CONFIG, Setting, setting_read

PARALLEL_UPDATES = 1


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """The settings a device accepts as numbers; a site's setpoint and grid target."""
    async_add_entities(
        entities_for(entry, marstek=marstek_numbers, vebus=vebus_numbers, site=site_numbers)
    )


# --- Marstek ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MarstekNumberDescription(MarstekEntityDescription, NumberEntityDescription):
    """A Marstek number and which firmware accepts it."""


MARSTEK_DOD_NUMBER = MarstekNumberDescription(
    key="depth_of_discharge",
    translation_key="depth_of_discharge",
    # Only firmware with system settings accepts DOD.SET.
    has_fn=lambda profile: profile.has_system_settings,
    entity_category=EntityCategory.CONFIG,
    native_min_value=DOD_MIN,
    native_max_value=DOD_MAX,
    native_step=1,
    native_unit_of_measurement=PERCENTAGE,
    mode=NumberMode.BOX,
)


def marstek_numbers(coordinator: MarstekCoordinator) -> list[MarstekDepthOfDischarge]:
    """The depth of discharge, where the firmware accepts it."""
    return marstek_entities(coordinator, (MARSTEK_DOD_NUMBER,), MarstekDepthOfDischarge)


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

        async def write(device: MarstekClient) -> None:
            await device.set_dod(percent)

        await self.coordinator.async_write(write)
        self.coordinator.remember_settings(dod=percent)


# --- VE.Bus ----------------------------------------------------------------------------------

# What fits the ESS assistant's signed 16-bit setpoint word.
ESS_SETPOINT_LIMIT_W = 32767


class NumberRange(NamedTuple):
    """Limits and resolution of a number, as the unit reports them."""

    minimum: float
    maximum: float
    step: float


@dataclass(frozen=True, kw_only=True)
class VebusNumberDescription(VebusEntityDescription, NumberEntityDescription):
    """A VE.Bus number: what it reads, its limits, its value and how it is written."""

    range_fn: Callable[[VebusCoordinator], NumberRange | None]
    value_fn: Callable[[VebusCoordinator], float | None]
    set_fn: Callable[[VebusCoordinator, float], Awaitable[None]]


def _input_limit_range(coordinator: VebusCoordinator) -> NumberRange | None:
    config = coordinator.data.status.input_config
    return None if config is None else NumberRange(config.minimum, config.maximum, 0.1)


def _input_limit(coordinator: VebusCoordinator) -> float | None:
    config = coordinator.data.status.input_config
    return None if config is None else config.current_limit


async def _set_input_limit(coordinator: VebusCoordinator, amps: float) -> None:
    await coordinator.async_write(lambda client: client.set_input_current_limit(amps))


def _ess_range(_coordinator: VebusCoordinator) -> NumberRange:
    return NumberRange(-ESS_SETPOINT_LIMIT_W, ESS_SETPOINT_LIMIT_W, 1)


def _ess_target(coordinator: VebusCoordinator) -> float:
    # Nothing held and 0 W mean the same to the assistant: it follows its own rules.
    return float(coordinator.client.ess_target or 0)


async def async_set_ess_setpoint(
    coordinator: VebusCoordinator, watts: float, duration_s: float | None = None
) -> None:
    """Hold a setpoint (rewritten every few seconds); 0 without a duration releases it."""
    target = round(watts)
    if target == 0 and duration_s is None:
        await coordinator.async_write(lambda client: client.release_ess_setpoint())
    else:
        await coordinator.async_write(lambda client: client.hold_ess_setpoint(target, duration_s))


def _setting_number(
    key: str, setting: Setting, device_class: NumberDeviceClass, unit: str
) -> VebusNumberDescription:
    def limits(coordinator: VebusCoordinator) -> NumberRange | None:
        known = coordinator.settings.get(setting)
        if known is None:
            return None
        info = known.info
        return NumberRange(info.min_value, info.max_value, info.multiplier)

    def value(coordinator: VebusCoordinator) -> float | None:
        known = coordinator.settings.get(setting)
        return None if known is None else known.value

    async def write(coordinator: VebusCoordinator, new_value: float) -> None:
        persist = bool(coordinator.config_entry.options.get(CONF_PERSIST_SETTINGS, False))
        await coordinator.async_write(
            lambda client: client.set_setting(setting, new_value, persist=persist)
        )
        coordinator.remember_setting(setting, new_value)

    return VebusNumberDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        native_unit_of_measurement=unit,
        mode=NumberMode.BOX,
        entity_category=EntityCategory.CONFIG,
        # Charger settings are for people who know their battery's data sheet.
        entity_registry_enabled_default=False,
        reads=frozenset({setting_read(setting)}),
        range_fn=limits,
        value_fn=value,
        set_fn=write,
    )


VEBUS_NUMBERS: tuple[VebusNumberDescription, ...] = (
    VebusNumberDescription(
        key="input_current_limit",
        translation_key="input_current_limit",
        device_class=NumberDeviceClass.CURRENT,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        mode=NumberMode.BOX,
        reads=frozenset({INPUT_CONFIG}),
        range_fn=_input_limit_range,
        value_fn=_input_limit,
        set_fn=_set_input_limit,
    ),
    VebusNumberDescription(
        key="ess_setpoint",
        translation_key="ess_setpoint",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        mode=NumberMode.BOX,
        has_fn=lambda unit: unit.ess_setpoint_id is not None,
        range_fn=_ess_range,
        value_fn=_ess_target,
        set_fn=async_set_ess_setpoint,
    ),
    _setting_number(
        "charge_current",
        Setting.CHARGE_CURRENT,
        NumberDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
    ),
    _setting_number(
        "absorption_voltage",
        Setting.ABSORPTION_VOLTAGE,
        NumberDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
    ),
    _setting_number(
        "float_voltage",
        Setting.FLOAT_VOLTAGE,
        NumberDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
    ),
)


def vebus_numbers(coordinator: VebusCoordinator) -> list[VebusNumber]:
    """The numbers this unit has."""
    return vebus_entities(coordinator, VEBUS_NUMBERS, VebusNumber)


class VebusNumber(VebusEntity, NumberEntity):
    """A value with limits the unit reports; unavailable until they are known."""

    entity_description: VebusNumberDescription

    @property
    def _range(self) -> NumberRange | None:
        return self.entity_description.range_fn(self.coordinator)

    @property
    def available(self) -> bool:
        """Writable only while the unit's limits are known."""
        return super().available and self._range is not None

    @property
    def native_min_value(self) -> float:
        """The unit's minimum."""
        limits = self._range
        return limits.minimum if limits else 0.0

    @property
    def native_max_value(self) -> float:
        """The unit's maximum."""
        limits = self._range
        return limits.maximum if limits else 0.0

    @property
    def native_step(self) -> float:
        """The unit's resolution."""
        limits = self._range
        return limits.step if limits else 1.0

    @property
    def native_value(self) -> float | None:
        """The present value."""
        return self.entity_description.value_fn(self.coordinator)

    async def async_set_native_value(self, value: float) -> None:
        """Write the value (the client checks it against the unit's limits first)."""
        await self.entity_description.set_fn(self.coordinator, value)


# --- site ------------------------------------------------------------------------------------

# The grid target in either direction: far beyond any home connection.
SITE_GRID_TARGET_LIMIT_W = 25_000


@dataclass(frozen=True, kw_only=True)
class SiteNumberDescription(SiteEntityDescription, NumberEntityDescription):
    """A site number: where its value is kept in the site's control."""

    value_fn: Callable[[SiteControl], float]
    set_fn: Callable[[SiteControl, float], None]
    # A range that follows the members: from -limit to +limit (W).
    limit_fn: Callable[[SiteControl], float] | None = None


def _set_setpoint(control: SiteControl, watts: float) -> None:
    control.setpoint_w = watts


SITE_NUMBERS = (
    # What the Setpoint mode holds: + = the batteries discharge, - = they charge.
    SiteNumberDescription(
        key="power_setpoint",
        translation_key="power_setpoint",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        native_step=10,
        mode=NumberMode.BOX,
        value_fn=lambda control: control.setpoint_w,
        set_fn=_set_setpoint,
        limit_fn=lambda control: control.max_power_w(),
    ),
    # What zero export and self-consumption aim at: + = import. Zero export keeps the grid
    # power at or above it (0: no export; -500: up to 500 W export).
    SiteNumberDescription(
        key="grid_target",
        translation_key="grid_target",
        device_class=NumberDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        native_min_value=-SITE_GRID_TARGET_LIMIT_W,
        native_max_value=SITE_GRID_TARGET_LIMIT_W,
        native_step=10,
        mode=NumberMode.BOX,
        value_fn=lambda control: control.grid_target_w,
        set_fn=lambda control, watts: control.set_grid_target(watts),
        has_fn=lambda site: site.grid_sensor is not None,
    ),
)


def site_numbers(coordinator: SiteCoordinator) -> list[SiteNumber]:
    """The setpoint, and the grid target when the site reads a grid sensor."""
    return site_entities(coordinator, SITE_NUMBERS, SiteNumber)


class SiteNumber(SiteEntity, NumberEntity):
    """A number of the site's control; kept with the site, so it survives restarts."""

    entity_description: SiteNumberDescription

    @property
    def native_value(self) -> float:
        """The value set."""
        return self.entity_description.value_fn(self.coordinator.control)

    @property
    def native_min_value(self) -> float:
        """The setpoint: what the members may charge at together."""
        limit_fn = self.entity_description.limit_fn
        return super().native_min_value if limit_fn is None else -limit_fn(self.coordinator.control)

    @property
    def native_max_value(self) -> float:
        """The setpoint: what the members may discharge at together."""
        limit_fn = self.entity_description.limit_fn
        return super().native_max_value if limit_fn is None else limit_fn(self.coordinator.control)

    async def async_set_native_value(self, value: float) -> None:
        """Keep the value; the site acts on it at once (Home Assistant checked the range)."""
        self.entity_description.set_fn(self.coordinator.control, value)
        self.coordinator.async_control_changed()
