"""VE.Bus controls: remote switch, input current limit, ESS setpoint, charger settings, standby.

Every write is range-checked by the client against the unit's own limits before anything is
sent. Settings are written to RAM only (effective now, gone after a unit reset) unless the
entry's "persist setting writes" option is on.
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
from homeassistant.components.select import SelectEntity, SelectEntityDescription
from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfPower,
)

from .const import CONF_PERSIST_SETTINGS, CONF_STANDBY
from .entity import VebusEntity
from .vebus import Setting, SwitchMode, UnitInfo
from .vebus_coordinator import INPUT_CONFIG, Reads, VebusCoordinator, setting_read
from .vebus_setup import is_mk3

# What fits the ESS assistant's signed 16-bit setpoint word.
ESS_SETPOINT_LIMIT_W = 32767


class NumberRange(NamedTuple):
    """Limits and resolution of a number, as the unit reports them."""

    minimum: float
    maximum: float
    step: float


@dataclass(frozen=True, kw_only=True)
class VebusNumberDescription(NumberEntityDescription):
    """A VE.Bus number: what it reads, its limits, its value and how it is written."""

    reads: Reads = frozenset()
    has_fn: Callable[[UnitInfo], bool] = lambda _unit: True
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
            lambda client: client.write_setting(setting, new_value, persist=persist)
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

VEBUS_SWITCH_MODE = SelectEntityDescription(key="switch_mode", translation_key="switch_mode")

VEBUS_STANDBY = SwitchEntityDescription(
    key="standby", translation_key="standby", entity_category=EntityCategory.CONFIG
)


def vebus_numbers(coordinator: VebusCoordinator) -> list[VebusNumber]:
    """The numbers this unit has."""
    return [
        VebusNumber(coordinator, description, description.reads)
        for description in VEBUS_NUMBERS
        if description.has_fn(coordinator.unit)
    ]


def vebus_selects(coordinator: VebusCoordinator) -> list[VebusSwitchModeSelect]:
    """Every unit has the remote switch."""
    return [VebusSwitchModeSelect(coordinator, VEBUS_SWITCH_MODE, frozenset({INPUT_CONFIG}))]


def vebus_switches(coordinator: VebusCoordinator) -> list[VebusStandbySwitch]:
    """Only an MK3 has the standby line."""
    if not is_mk3(coordinator.unit):
        return []
    return [VebusStandbySwitch(coordinator, VEBUS_STANDBY, frozenset())]


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
