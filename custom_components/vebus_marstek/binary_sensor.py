"""Binary sensors: Marstek connection states, VE.Bus alarms."""

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

from .coordinator import MarstekCoordinator, MarstekData
from .entity import MarstekEntity
from .marstek import FirmwareProfile
from .runtime import VebusMarstekConfigEntry, entities_for
from .vebus_binary_sensors import vebus_binary_sensors

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class MarstekBinarySensorDescription(BinarySensorEntityDescription):
    """A Marstek binary sensor: which models have it and where its value comes from."""

    has_fn: Callable[[FirmwareProfile], bool] = lambda _profile: True
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


async def async_setup_entry(
    hass: HomeAssistant,
    entry: VebusMarstekConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One binary sensor per description the device supports."""
    async_add_entities(
        entities_for(entry, marstek=marstek_binary_sensors, vebus=vebus_binary_sensors)
    )


def marstek_binary_sensors(coordinator: MarstekCoordinator) -> list[MarstekBinarySensor]:
    """The connection states this battery's firmware reports."""
    return [
        MarstekBinarySensor(coordinator, description)
        for description in MARSTEK_BINARY_SENSORS
        if description.has_fn(coordinator.profile)
    ]


class MarstekBinarySensor(MarstekEntity, BinarySensorEntity):
    """A connection state reported by the battery."""

    entity_description: MarstekBinarySensorDescription

    @property
    def is_on(self) -> bool | None:
        """The latest state."""
        return self.entity_description.value_fn(self.coordinator.data)
