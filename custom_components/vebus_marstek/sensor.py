"""Sensors: state of charge, power flows, energy totals and diagnostics (both kinds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTemperature,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import MarstekCoordinator, MarstekData
from .device_coordinator import EnergyCounter
from .entity import MarstekEntity
from .marstek import FirmwareProfile, MeterStatus
from .runtime import VebusMarstekConfigEntry, entities_for
from .vebus_sensors import vebus_sensors
from .written_settings import WrittenSettings

PARALLEL_UPDATES = 0

BATTERY_STATES = ["charging", "discharging", "idle"]


@dataclass(frozen=True, kw_only=True)
class MarstekSensorDescription(SensorEntityDescription):
    """A Marstek sensor: which models have it and where its value comes from."""

    has_fn: Callable[[FirmwareProfile], bool] = lambda _profile: True
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


def _energy(counter: EnergyCounter) -> Callable[[MarstekData], StateType]:
    return lambda data: data.energy.get(counter)


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
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        has_fn=has_fn,
        value_fn=value_fn,
    )


def _lifetime_energy(
    key: str, counter: EnergyCounter, has_fn: Callable[[FirmwareProfile], bool] = _always
) -> MarstekSensorDescription:
    return MarstekSensorDescription(
        key=key,
        translation_key=key,
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        has_fn=has_fn,
        value_fn=_energy(counter),
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
    *(
        _power(f"pv{index + 1}_power", _pv_channel_power(index), _has_pv_channel(index))
        for index in range(4)
    ),
    _power("ct_phase_a_power", _meter(lambda meter: meter.phase_a_power_w), _has_meter),
    _power("ct_phase_b_power", _meter(lambda meter: meter.phase_b_power_w), _has_meter),
    _power("ct_phase_c_power", _meter(lambda meter: meter.phase_c_power_w), _has_meter),
    _power("ct_total_power", _meter(lambda meter: meter.total_power_w), _has_meter),
    _lifetime_energy("grid_input_energy", EnergyCounter.GRID_INPUT),
    _lifetime_energy("grid_output_energy", EnergyCounter.GRID_OUTPUT),
    _lifetime_energy("pv_energy", EnergyCounter.PV, _has_pv),
    _lifetime_energy("load_energy", EnergyCounter.LOAD),
    _lifetime_energy("battery_charged_energy", EnergyCounter.BATTERY_CHARGED),
    _lifetime_energy("battery_discharged_energy", EnergyCounter.BATTERY_DISCHARGED),
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One sensor per description the device supports."""
    async_add_entities(entities_for(entry, marstek=marstek_sensors, vebus=vebus_sensors))


def marstek_sensors(coordinator: MarstekCoordinator) -> list[SensorEntity]:
    """The sensors this battery's firmware has values for."""
    sensors: list[SensorEntity] = [
        MarstekSensor(coordinator, description)
        for description in MARSTEK_SENSORS
        if description.has_fn(coordinator.profile)
    ]
    if coordinator.profile.accepts_passive:
        sensors += [
            MarstekSettingSensor(coordinator, description)
            for description in MARSTEK_PASSIVE_SENSORS
        ]
    return sensors


class MarstekSensor(MarstekEntity, SensorEntity):
    """A value read from the battery (or derived from what it reports)."""

    entity_description: MarstekSensorDescription

    @property
    def native_value(self) -> StateType:
        """The latest value."""
        return self.entity_description.value_fn(self.coordinator.data)


@dataclass(frozen=True, kw_only=True)
class MarstekSettingSensorDescription(SensorEntityDescription):
    """A setting the battery cannot report: shown as last written from Home Assistant."""

    value_fn: Callable[[WrittenSettings], float | datetime | None]


MARSTEK_PASSIVE_SENSORS = (
    MarstekSettingSensorDescription(
        key="passive_power",
        translation_key="passive_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda settings: settings.passive.power_w if settings.passive else None,
    ),
    MarstekSettingSensorDescription(
        key="passive_end",
        translation_key="passive_end",
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
