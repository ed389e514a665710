"""VE.Bus sensors: AC in and out per phase, battery, states, LEDs and energy totals."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
)
from homeassistant.helpers.typing import StateType

from .device_coordinator import EnergyCounter
from .entity import VebusEntity
from .vebus import (
    CHARGE_STATES,
    DEVICE_STATES,
    LED_NAMES,
    DeviceState,
    PhaseValues,
    RamVar,
    UnitInfo,
    VebusStatus,
    input_power,
    output_power,
    soc,
)
from .vebus_coordinator import (
    DC,
    DEVICE_STATE,
    LEDS,
    Reads,
    VebusCoordinator,
    VebusData,
    phase_read,
    ram_read,
)

LED_STATES = ["off", "on", "blink", "blink_inverted"]


@dataclass(frozen=True, kw_only=True)
class VebusSensorDescription(SensorEntityDescription):
    """A VE.Bus sensor: what it reads from the unit, and which units have it."""

    reads: Reads
    value_fn: Callable[[VebusData], StateType]
    has_fn: Callable[[UnitInfo], bool] = lambda _unit: True


def _status(value_fn: Callable[[VebusStatus], StateType]) -> Callable[[VebusData], StateType]:
    return lambda data: value_fn(data.status)


def _measurement(
    key: str,
    device_class: SensorDeviceClass,
    unit: str,
    reads: Reads,
    value_fn: Callable[[VebusStatus], StateType],
    *,
    precision: int,
) -> VebusSensorDescription:
    return VebusSensorDescription(
        key=key,
        translation_key=key,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=unit,
        suggested_display_precision=precision,
        reads=reads,
        value_fn=_status(value_fn),
    )


def _phase_value(
    number: int, value_fn: Callable[[PhaseValues], float | None]
) -> Callable[[VebusStatus], StateType]:
    def value(status: VebusStatus) -> StateType:
        values = status.phases.get(number)
        return None if values is None else value_fn(values)

    return value


class _PhaseQuantity(NamedTuple):
    key: str
    device_class: SensorDeviceClass
    unit: str
    precision: int
    value_fn: Callable[[PhaseValues], float | None]


_PHASE_QUANTITIES = (
    _PhaseQuantity(
        "ac_input_voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        1,
        lambda values: values.input_voltage,
    ),
    # Positive when drawn from the grid, negative when fed into it.
    _PhaseQuantity(
        "ac_input_current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        2,
        lambda values: values.input_current,
    ),
    _PhaseQuantity(
        "ac_input_frequency",
        SensorDeviceClass.FREQUENCY,
        UnitOfFrequency.HERTZ,
        2,
        lambda values: values.input_frequency,
    ),
    _PhaseQuantity(
        "ac_output_voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        1,
        lambda values: values.output_voltage,
    ),
    _PhaseQuantity(
        "ac_output_current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        2,
        lambda values: values.output_current,
    ),
)


def _phase_sensors(number: int) -> Iterable[VebusSensorDescription]:
    """L1 keeps the plain names (most units have one phase); L2 and L3 say their phase."""
    for key, device_class, unit, precision, value_fn in _PHASE_QUANTITIES:
        yield VebusSensorDescription(
            key=key if number == 1 else f"{key}_l{number}",
            translation_key=key if number == 1 else f"{key}_phase",
            translation_placeholders=None if number == 1 else {"phase": f"L{number}"},
            device_class=device_class,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=unit,
            suggested_display_precision=precision,
            reads=frozenset({phase_read(number)}),
            value_fn=_status(_phase_value(number, value_fn)),
            has_fn=lambda unit_info: number in unit_info.phases,
        )


def _led_sensor(name: str) -> VebusSensorDescription:
    def value(status: VebusStatus) -> StateType:
        leds = status.leds
        if leds is None or leds.no_information:
            return None
        return leds.states()[name]

    return VebusSensorDescription(
        key=f"led_{name}",
        translation_key=f"led_{name}",
        device_class=SensorDeviceClass.ENUM,
        options=LED_STATES,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        reads=frozenset({LEDS}),
        value_fn=_status(value),
    )


def _state_sensor(
    key: str, names: tuple[str, ...], value_fn: Callable[[DeviceState], str | None]
) -> VebusSensorDescription:
    def value(status: VebusStatus) -> StateType:
        state = status.device_state
        return None if state is None else value_fn(state)

    return VebusSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENUM,
        options=list(names),
        reads=frozenset({DEVICE_STATE}),
        value_fn=_status(value),
    )


def _energy(key: str, counter: EnergyCounter) -> VebusSensorDescription:
    return VebusSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        # The coordinator always reads what the totals integrate.
        reads=frozenset(),
        value_fn=lambda data: data.energy.get(counter),
    )


VEBUS_SENSORS: tuple[VebusSensorDescription, ...] = (
    *(description for number in (1, 2, 3) for description in _phase_sensors(number)),
    _measurement(
        "ac_input_power",
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        frozenset({ram_read(RamVar.INPUT_POWER)}),
        input_power,
        precision=0,
    ),
    _measurement(
        "ac_output_power",
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        frozenset({ram_read(RamVar.OUTPUT_POWER)}),
        output_power,
        precision=0,
    ),
    _measurement(
        "ac_output_frequency",
        SensorDeviceClass.FREQUENCY,
        UnitOfFrequency.HERTZ,
        frozenset({DC}),
        lambda status: status.output_frequency,
        precision=2,
    ),
    _measurement(
        "battery_voltage",
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        frozenset({DC}),
        lambda status: status.battery_voltage,
        precision=2,
    ),
    # Positive while charging (the unit's own convention for current).
    _measurement(
        "battery_current",
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        frozenset({DC}),
        lambda status: status.battery_current,
        precision=1,
    ),
    # Positive while discharging: the Energy dashboard's battery power convention.
    _measurement(
        "battery_power",
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        frozenset({DC}),
        lambda status: status.battery_power,
        precision=0,
    ),
    VebusSensorDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        reads=frozenset({ram_read(RamVar.SOC)}),
        value_fn=_status(soc),
        # Without the battery monitor the unit's state of charge is a guess.
        has_fn=lambda unit: unit.battery_monitor,
    ),
    _state_sensor("device_state", DEVICE_STATES, lambda state: state.state),
    _state_sensor("charge_state", CHARGE_STATES, lambda state: state.charge_state),
    *(_led_sensor(name) for name in LED_NAMES),
    VebusSensorDescription(
        key="vebus_error",
        translation_key="vebus_error",
        entity_category=EntityCategory.DIAGNOSTIC,
        reads=frozenset({LEDS}),
        value_fn=_status(lambda status: None if status.leds is None else status.leds.error_code),
    ),
    _energy("battery_charged_energy", EnergyCounter.BATTERY_CHARGED),
    _energy("battery_discharged_energy", EnergyCounter.BATTERY_DISCHARGED),
    _energy("ac_input_imported_energy", EnergyCounter.GRID_INPUT),
    _energy("ac_input_exported_energy", EnergyCounter.GRID_OUTPUT),
)


def vebus_sensors(coordinator: VebusCoordinator) -> list[VebusSensor]:
    """The sensors this unit has."""
    return [
        VebusSensor(coordinator, description, description.reads)
        for description in VEBUS_SENSORS
        if description.has_fn(coordinator.unit)
    ]


class VebusSensor(VebusEntity, SensorEntity):
    """A value read from the unit (or integrated from what it reports)."""

    entity_description: VebusSensorDescription

    @property
    def native_value(self) -> StateType:
        """The latest value."""
        return self.entity_description.value_fn(self.coordinator.data)
