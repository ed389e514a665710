"""VE.Bus binary sensors: one per alarm bit of the 'L' reply."""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory

from .entity import VebusEntity
from .vebus import ALARM_NAMES
from .vebus_coordinator import LEDS, VebusCoordinator


@dataclass(frozen=True, kw_only=True)
class VebusAlarmDescription(BinarySensorEntityDescription):
    """One alarm (or pre-alarm) the unit reports with its LEDs."""

    alarm: str


VEBUS_ALARMS: tuple[VebusAlarmDescription, ...] = tuple(
    VebusAlarmDescription(
        key=f"alarm_{name}",
        translation_key=f"alarm_{name}",
        device_class=BinarySensorDeviceClass.PROBLEM,
        entity_category=EntityCategory.DIAGNOSTIC,
        # Each one costs an 'L' request per poll; the VE.Bus error sensor is on by default.
        entity_registry_enabled_default=False,
        alarm=name,
    )
    for name in ALARM_NAMES
)


def vebus_binary_sensors(coordinator: VebusCoordinator) -> list[VebusAlarm]:
    """Every alarm bit the MK2 protocol names."""
    return [VebusAlarm(coordinator, description, frozenset({LEDS})) for description in VEBUS_ALARMS]


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
