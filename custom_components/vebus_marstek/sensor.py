"""Sensors of both device families: state of charge, power flows, energy totals, diagnostics."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import NamedTuple, Protocol, TypedDict

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    PERCENTAGE,
    SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfFrequency,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import (
    EnergyCounter,
    MarstekCoordinator,
    MarstekData,
    VebusCoordinator,
    VebusData,
    VebusMarstekConfigEntry,
)
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
from .marstek import FirmwareProfile, MeterStatus
from .marstek_settings import WrittenSettings
from .site_coordinator import SiteCoordinator, SiteData
from .vebus import (
    CHARGE_STATES,
    DC,
    DEVICE_STATE,
    DEVICE_STATES,
    LEDS,
    DeviceState,
    PhaseValues,
    RamVar,
    Reads,
    VebusStatus,
    input_power,
    output_power,
    phase_read,
    ram_read,
    soc,
)

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One sensor per description the device supports."""
    async_add_entities(
        entities_for(entry, marstek=marstek_sensors, vebus=vebus_sensors, site=site_sensors)
    )


# --- shared by both families -------------------------------------------------------------------


class _Fields(TypedDict, total=False):
    """Description fields that several sensors share."""

    device_class: SensorDeviceClass
    state_class: SensorStateClass
    native_unit_of_measurement: str
    suggested_unit_of_measurement: str
    suggested_display_precision: int


POWER = _Fields(
    device_class=SensorDeviceClass.POWER,
    state_class=SensorStateClass.MEASUREMENT,
    native_unit_of_measurement=UnitOfPower.WATT,
    suggested_display_precision=0,
)


class _HasEnergy(Protocol):
    """Data of either family: it carries the energy totals its coordinator publishes."""

    @property
    def energy(self) -> Mapping[EnergyCounter, float | None]:
        """Totals by counter."""


def lifetime_energy[
    DescriptionT: (MarstekSensorDescription, VebusSensorDescription, SiteSensorDescription)
](description: type[DescriptionT], key: str, counter: EnergyCounter) -> DescriptionT:
    """An energy total for the Energy dashboard: it never goes down (see energy.py)."""

    def value(data: _HasEnergy) -> StateType:
        return data.energy.get(counter)

    return description(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=value,
    )


# --- Marstek ---------------------------------------------------------------------------------

BATTERY_STATES = ["charging", "discharging", "idle"]


@dataclass(frozen=True, kw_only=True)
class MarstekSensorDescription(MarstekEntityDescription, SensorEntityDescription):
    """A Marstek sensor: which models have it and where its value comes from."""

    value_fn: Callable[[MarstekData], StateType]


def _battery_power(data: MarstekData) -> float | None:
    return data.es.battery_power_w if data.es else None


def _positive(value: float | None) -> float | None:
    return None if value is None else max(value, 0.0)


def _negated(value: float | None) -> float | None:
    return None if value is None else -value


def _battery_state(data: MarstekData) -> str | None:
    power = _battery_power(data)
    if power is None:
        return None
    if power > 0:
        return "discharging"
    if power < 0:
        return "charging"
    return "idle"


def _pv_power(data: MarstekData) -> float | None:
    # The channel sum: ES.pv_power is hard-coded 0 on some Venus A/D firmware.
    return data.pv.total_power_w if data.pv else None


def _pv_channel_power(index: int) -> Callable[[MarstekData], StateType]:
    def value(data: MarstekData) -> StateType:
        if data.pv is None or index >= len(data.pv.channels):
            return None
        return data.pv.channels[index].power_w

    return value


def _always(_profile: FirmwareProfile) -> bool:
    return True


def _has_pv(profile: FirmwareProfile) -> bool:
    return profile.has_pv


def _has_pv_channel(index: int) -> Callable[[FirmwareProfile], bool]:
    return lambda profile: profile.pv_channels > index


def _has_meter(profile: FirmwareProfile) -> bool:
    return profile.has_meter


def _meter(value_fn: Callable[[MeterStatus], float | None]) -> Callable[[MarstekData], StateType]:
    return lambda data: value_fn(data.meter) if data.meter else None


def _power(
    key: str,
    value_fn: Callable[[MarstekData], StateType],
    has_fn: Callable[[FirmwareProfile], bool] = _always,
) -> MarstekSensorDescription:
    return MarstekSensorDescription(
        key=key, translation_key=key, has_fn=has_fn, value_fn=value_fn, **POWER
    )


MARSTEK_SENSORS: tuple[MarstekSensorDescription, ...] = (
    MarstekSensorDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda data: data.es.soc if data.es else None,
    ),
    _power("battery_power", _battery_power),
    _power("battery_charge_power", lambda data: _positive(_negated(_battery_power(data)))),
    _power("battery_discharge_power", lambda data: _positive(_battery_power(data))),
    MarstekSensorDescription(
        key="battery_state",
        translation_key="battery_state",
        device_class=SensorDeviceClass.ENUM,
        options=BATTERY_STATES,
        value_fn=_battery_state,
    ),
    _power("ongrid_power", lambda data: data.es.ongrid_power_w if data.es else None),
    _power("offgrid_power", lambda data: data.es.offgrid_power_w if data.es else None),
    _power("pv_power", _pv_power, _has_pv),
    _power("pv1_power", _pv_channel_power(0), _has_pv_channel(0)),
    _power("pv2_power", _pv_channel_power(1), _has_pv_channel(1)),
    _power("pv3_power", _pv_channel_power(2), _has_pv_channel(2)),
    _power("pv4_power", _pv_channel_power(3), _has_pv_channel(3)),
    _power("ct_phase_a_power", _meter(lambda meter: meter.phase_a_power_w), _has_meter),
    _power("ct_phase_b_power", _meter(lambda meter: meter.phase_b_power_w), _has_meter),
    _power("ct_phase_c_power", _meter(lambda meter: meter.phase_c_power_w), _has_meter),
    _power("ct_total_power", _meter(lambda meter: meter.total_power_w), _has_meter),
    lifetime_energy(MarstekSensorDescription, "grid_input_energy", EnergyCounter.GRID_INPUT),
    lifetime_energy(MarstekSensorDescription, "grid_output_energy", EnergyCounter.GRID_OUTPUT),
    replace(
        lifetime_energy(MarstekSensorDescription, "pv_energy", EnergyCounter.PV), has_fn=_has_pv
    ),
    lifetime_energy(MarstekSensorDescription, "load_energy", EnergyCounter.LOAD),
    lifetime_energy(
        MarstekSensorDescription, "battery_charged_energy", EnergyCounter.BATTERY_CHARGED
    ),
    lifetime_energy(
        MarstekSensorDescription, "battery_discharged_energy", EnergyCounter.BATTERY_DISCHARGED
    ),
    MarstekSensorDescription(
        key="battery_temperature",
        translation_key="battery_temperature",
        device_class=SensorDeviceClass.TEMPERATURE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTemperature.CELSIUS,
        suggested_display_precision=1,
        value_fn=lambda data: data.battery.temperature_c if data.battery else None,
    ),
    MarstekSensorDescription(
        key="remaining_capacity",
        translation_key="remaining_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: (
            data.es.remaining_capacity_wh
            if data.es and data.es.remaining_capacity_wh is not None
            else data.battery.remaining_capacity_wh
            if data.battery
            else None
        ),
    ),
    MarstekSensorDescription(
        key="rated_capacity",
        translation_key="rated_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.battery.rated_capacity_wh if data.battery else None,
    ),
    MarstekSensorDescription(
        key="firmware",
        translation_key="firmware",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.identity.firmware,
    ),
    MarstekSensorDescription(
        key="wifi_rssi",
        translation_key="wifi_rssi",
        device_class=SensorDeviceClass.SIGNAL_STRENGTH,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=SIGNAL_STRENGTH_DECIBELS_MILLIWATT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.wifi.rssi_dbm if data.wifi else None,
    ),
    MarstekSensorDescription(
        key="ip_address",
        translation_key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.wifi.ip if data.wifi and data.wifi.ip else data.identity.ip,
    ),
)


def marstek_sensors(coordinator: MarstekCoordinator) -> list[SensorEntity]:
    """The sensors this battery's firmware has values for."""
    return [
        *marstek_entities(coordinator, MARSTEK_SENSORS, MarstekSensor),
        *marstek_entities(coordinator, MARSTEK_PASSIVE_SENSORS, MarstekSettingSensor),
    ]


class MarstekSensor(MarstekEntity, SensorEntity):
    """A value read from the battery (or derived from what it reports)."""

    entity_description: MarstekSensorDescription

    @property
    def native_value(self) -> StateType:
        """The latest value."""
        return self.entity_description.value_fn(self.coordinator.data)


@dataclass(frozen=True, kw_only=True)
class MarstekSettingSensorDescription(MarstekEntityDescription, SensorEntityDescription):
    """A setting the battery cannot report: shown as last written from Home Assistant."""

    value_fn: Callable[[WrittenSettings], float | datetime | None]


def _accepts_passive(profile: FirmwareProfile) -> bool:
    return profile.accepts_passive


MARSTEK_PASSIVE_SENSORS = (
    MarstekSettingSensorDescription(
        key="passive_power",
        translation_key="passive_power",
        has_fn=_accepts_passive,
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda settings: settings.passive.power_w if settings.passive else None,
    ),
    MarstekSettingSensorDescription(
        key="passive_end",
        translation_key="passive_end",
        has_fn=_accepts_passive,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda settings: settings.passive.ends_at if settings.passive else None,
    ),
)


class MarstekSettingSensor(MarstekEntity, SensorEntity):
    """The last Passive mode request (ES.GetMode does not report its power or end)."""

    entity_description: MarstekSettingSensorDescription
    _attr_assumed_state = True

    @property
    def native_value(self) -> float | datetime | None:
        """What was last written (unknown until then; kept across restarts)."""
        return self.entity_description.value_fn(self.coordinator.settings)


# --- VE.Bus ----------------------------------------------------------------------------------

LED_STATES = ["off", "on", "blink", "blink_inverted"]


@dataclass(frozen=True, kw_only=True)
class VebusSensorDescription(VebusEntityDescription, SensorEntityDescription):
    """A VE.Bus sensor: what it reads from the unit, and which units have it."""

    value_fn: Callable[[VebusData], StateType]


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


class _PhaseQuantity(NamedTuple):
    """One AC quantity measured per phase; L1 keeps the plain name (most units have one)."""

    translation_key: str
    phase_translation_key: str  # L2 and L3: the same name with the phase in it
    device_class: SensorDeviceClass
    unit: str
    precision: int
    value_fn: Callable[[PhaseValues], float | None]


AC_INPUT_VOLTAGE = _PhaseQuantity(
    "ac_input_voltage",
    "ac_input_voltage_phase",
    SensorDeviceClass.VOLTAGE,
    UnitOfElectricPotential.VOLT,
    1,
    lambda values: values.input_voltage,
)
# Positive when drawn from the grid, negative when fed into it.
AC_INPUT_CURRENT = _PhaseQuantity(
    "ac_input_current",
    "ac_input_current_phase",
    SensorDeviceClass.CURRENT,
    UnitOfElectricCurrent.AMPERE,
    2,
    lambda values: values.input_current,
)
AC_INPUT_FREQUENCY = _PhaseQuantity(
    "ac_input_frequency",
    "ac_input_frequency_phase",
    SensorDeviceClass.FREQUENCY,
    UnitOfFrequency.HERTZ,
    2,
    lambda values: values.input_frequency,
)
AC_OUTPUT_VOLTAGE = _PhaseQuantity(
    "ac_output_voltage",
    "ac_output_voltage_phase",
    SensorDeviceClass.VOLTAGE,
    UnitOfElectricPotential.VOLT,
    1,
    lambda values: values.output_voltage,
)
AC_OUTPUT_CURRENT = _PhaseQuantity(
    "ac_output_current",
    "ac_output_current_phase",
    SensorDeviceClass.CURRENT,
    UnitOfElectricCurrent.AMPERE,
    2,
    lambda values: values.output_current,
)


def _phase_sensor(key: str, quantity: _PhaseQuantity, number: int) -> VebusSensorDescription:
    def value(status: VebusStatus) -> StateType:
        values = status.phases.get(number)
        return None if values is None else quantity.value_fn(values)

    return VebusSensorDescription(
        key=key,
        translation_key=quantity.translation_key if number == 1 else quantity.phase_translation_key,
        translation_placeholders=None if number == 1 else {"phase": f"L{number}"},
        device_class=quantity.device_class,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=quantity.unit,
        suggested_display_precision=quantity.precision,
        reads=frozenset({phase_read(number)}),
        value_fn=_status(value),
        has_fn=lambda unit_info: number in unit_info.phases,
    )


def _led_sensor(key: str, led: str) -> VebusSensorDescription:
    def value(status: VebusStatus) -> StateType:
        leds = status.leds
        if leds is None or leds.no_information:
            return None
        return leds.states()[led]

    return VebusSensorDescription(
        key=key,
        translation_key=key,
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


VEBUS_SENSORS: tuple[VebusSensorDescription, ...] = (
    _phase_sensor("ac_input_voltage", AC_INPUT_VOLTAGE, 1),
    _phase_sensor("ac_input_current", AC_INPUT_CURRENT, 1),
    _phase_sensor("ac_input_frequency", AC_INPUT_FREQUENCY, 1),
    _phase_sensor("ac_output_voltage", AC_OUTPUT_VOLTAGE, 1),
    _phase_sensor("ac_output_current", AC_OUTPUT_CURRENT, 1),
    _phase_sensor("ac_input_voltage_l2", AC_INPUT_VOLTAGE, 2),
    _phase_sensor("ac_input_current_l2", AC_INPUT_CURRENT, 2),
    _phase_sensor("ac_input_frequency_l2", AC_INPUT_FREQUENCY, 2),
    _phase_sensor("ac_output_voltage_l2", AC_OUTPUT_VOLTAGE, 2),
    _phase_sensor("ac_output_current_l2", AC_OUTPUT_CURRENT, 2),
    _phase_sensor("ac_input_voltage_l3", AC_INPUT_VOLTAGE, 3),
    _phase_sensor("ac_input_current_l3", AC_INPUT_CURRENT, 3),
    _phase_sensor("ac_input_frequency_l3", AC_INPUT_FREQUENCY, 3),
    _phase_sensor("ac_output_voltage_l3", AC_OUTPUT_VOLTAGE, 3),
    _phase_sensor("ac_output_current_l3", AC_OUTPUT_CURRENT, 3),
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
    _led_sensor("led_mains", "mains"),
    _led_sensor("led_absorption", "absorption"),
    _led_sensor("led_bulk", "bulk"),
    _led_sensor("led_float", "float"),
    _led_sensor("led_inverter", "inverter"),
    _led_sensor("led_overload", "overload"),
    _led_sensor("led_low_battery", "low_battery"),
    _led_sensor("led_temperature", "temperature"),
    VebusSensorDescription(
        key="vebus_error",
        translation_key="vebus_error",
        entity_category=EntityCategory.DIAGNOSTIC,
        reads=frozenset({LEDS}),
        value_fn=_status(lambda status: None if status.leds is None else status.leds.error_code),
    ),
    # The coordinator always reads what the totals integrate: they read nothing themselves.
    lifetime_energy(
        VebusSensorDescription, "battery_charged_energy", EnergyCounter.BATTERY_CHARGED
    ),
    lifetime_energy(
        VebusSensorDescription, "battery_discharged_energy", EnergyCounter.BATTERY_DISCHARGED
    ),
    lifetime_energy(VebusSensorDescription, "ac_input_imported_energy", EnergyCounter.GRID_INPUT),
    lifetime_energy(VebusSensorDescription, "ac_input_exported_energy", EnergyCounter.GRID_OUTPUT),
)


def vebus_sensors(coordinator: VebusCoordinator) -> list[VebusSensor]:
    """The sensors this unit has."""
    return vebus_entities(coordinator, VEBUS_SENSORS, VebusSensor)


class VebusSensor(VebusEntity, SensorEntity):
    """A value read from the unit (or integrated from what it reports)."""

    entity_description: VebusSensorDescription

    @property
    def native_value(self) -> StateType:
        """The latest value."""
        return self.entity_description.value_fn(self.coordinator.data)


# --- site ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SiteSensorDescription(SiteEntityDescription, SensorEntityDescription):
    """A site sensor: where its value comes from."""

    value_fn: Callable[[SiteData], StateType]


SITE_SENSORS: tuple[SiteSensorDescription, ...] = (
    # Stored energy over capacity of the members that report both: a big battery weighs more.
    SiteSensorDescription(
        key="soc",
        translation_key="soc",
        device_class=SensorDeviceClass.BATTERY,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=PERCENTAGE,
        suggested_display_precision=0,
        value_fn=lambda data: data.summary.soc_percent,
    ),
    SiteSensorDescription(
        key="remaining_capacity",
        translation_key="remaining_capacity",
        device_class=SensorDeviceClass.ENERGY_STORAGE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data: data.summary.stored_wh,
    ),
    # Positive while discharging, as every member's battery power.
    SiteSensorDescription(
        key="battery_power",
        translation_key="battery_power",
        **POWER,
        value_fn=lambda data: data.summary.battery_power_w,
    ),
    # Magnitudes, summed per member: one member may charge while another discharges.
    SiteSensorDescription(
        key="battery_charge_power",
        translation_key="battery_charge_power",
        **POWER,
        value_fn=lambda data: data.summary.charge_power_w,
    ),
    SiteSensorDescription(
        key="battery_discharge_power",
        translation_key="battery_discharge_power",
        **POWER,
        value_fn=lambda data: data.summary.discharge_power_w,
    ),
    # The grid sensor's reading in W, positive while importing, whatever its own sign and unit.
    SiteSensorDescription(
        key="grid_power",
        translation_key="grid_power",
        **POWER,
        value_fn=lambda data: data.grid_power_w,
        has_fn=lambda site: site.grid_sensor is not None,
    ),
    SiteSensorDescription(
        key="members_answering",
        translation_key="members_answering",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.available_members,
    ),
    # What the members moved since they joined the site; never down (see site/totals.py).
    lifetime_energy(SiteSensorDescription, "battery_charged_energy", EnergyCounter.BATTERY_CHARGED),
    lifetime_energy(
        SiteSensorDescription, "battery_discharged_energy", EnergyCounter.BATTERY_DISCHARGED
    ),
)


def site_sensors(coordinator: SiteCoordinator) -> list[SiteSensor]:
    """The sensors this site has."""
    return site_entities(coordinator, SITE_SENSORS, SiteSensor)


class SiteSensor(SiteEntity, SensorEntity):
    """A value of the site as one battery."""

    entity_description: SiteSensorDescription

    @property
    def native_value(self) -> StateType:
        """The latest value."""
        return self.entity_description.value_fn(self.coordinator.data)
