"""Binary sensors of both device families: Marstek connection states, VE.Bus alarms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import MarstekCoordinator, MarstekData, VebusCoordinator, VebusMarstekConfigEntry
from .entity import (
    MarstekEntity,
    MarstekEntityDescription,
    VebusEntity,
    VebusEntityDescription,
    entities_for,
    marstek_entities,
    vebus_entities,
)
from .vebus import LEDS

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One binary sensor per description the device supports."""
    async_add_entities(
        entities_for(entry, marstek=marstek_binary_sensors, vebus=vebus_binary_sensors)
    )


# --- Marstek ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MarstekBinarySensorDescription(MarstekEntityDescription, BinarySensorEntityDescription):
    """A Marstek binary sensor: which models have it and where its value comes from."""

    value_fn: Callable[[MarstekData], bool | None]


MARSTEK_BINARY_SENSORS: tuple[MarstekBinarySensorDescription, ...] = (
    MarstekBinarySensorDescription(
        key="ct_connected",
        translation_key="ct_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        has_fn=lambda profile: profile.has_meter,
        value_fn=lambda data: data.meter.connected if data.meter else None,
    ),
    MarstekBinarySensorDescription(
        key="ble_connected",
        translation_key="ble_connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda data: data.ble.connected if data.ble else None,
    ),
)


def marstek_binary_sensors(coordinator: MarstekCoordinator) -> list[MarstekBinarySensor]:
    """The connection states this battery's firmware reports."""
    return marstek_entities(coordinator, MARSTEK_BINARY_SENSORS, MarstekBinarySensor)


class MarstekBinarySensor(MarstekEntity, BinarySensorEntity):
    """A connection state reported by the battery."""

    entity_description: MarstekBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The latest state."""
        return self.entity_description.value_fn(self.coordinator.data)


# --- VE.Bus ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class VebusAlarmDescription(VebusEntityDescription, BinarySensorEntityDescription):
    """One alarm (or pre-alarm) the unit reports with its LEDs."""

    alarm: str


def _alarm(key: str, alarm: str) -> VebusAlarmDescription:
    return VebusAlarmDescription(
        key=key,
        translation_key=key,
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Each one costs an 'L' request per poll; the VE.Bus error sensor is on by default.
        entity_registry_enabled_default=False,
        reads=frozenset({LEDS}),
        alarm=alarm,
    )


VEBUS_ALARMS: tuple[VebusAlarmDescription, ...] = (
    _alarm("alarm_temperature_prealarm", "temperature_prealarm"),
    _alarm("alarm_low_battery_prealarm", "low_battery_prealarm"),
    _alarm("alarm_overload_prealarm", "overload_prealarm"),
    _alarm("alarm_ripple_prealarm", "ripple_prealarm"),
    _alarm("alarm_temperature", "temperature"),
    _alarm("alarm_low_battery", "low_battery"),
    _alarm("alarm_overload", "overload"),
    _alarm("alarm_ripple", "ripple"),
)


def vebus_binary_sensors(coordinator: VebusCoordinator) -> list[VebusAlarm]:
    """Every alarm bit the MK2 protocol names."""
    return vebus_entities(coordinator, VEBUS_ALARMS, VebusAlarm)


class VebusAlarm(VebusEntity, BinarySensorEntity):
    """On while the unit reports this alarm."""

    entity_description: VebusAlarmDescription

    @property
    def is_on(self) -> bool | None:
        """Unknown when the interface's 'L' reply carries no alarm byte (old MK2)."""
        leds = self.coordinator.data.status.leds
        if leds is None or leds.alarms is None:
            return None
        return self.entity_description.alarm in leds.active_alarms()
