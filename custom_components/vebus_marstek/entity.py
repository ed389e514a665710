"""The entity bases of both device kinds: one device per config entry."""

from __future__ import annotations

from homeassistant.helpers.device_registry import (
    CONNECTION_BLUETOOTH,
    CONNECTION_NETWORK_MAC,
    DeviceInfo,
    format_mac,
)
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, VEBUS_MODEL, VICTRON
from .coordinator import MarstekCoordinator
from .marstek import Family
from .vebus_coordinator import Reads, VebusCoordinator


def marstek_device_info(coordinator: MarstekCoordinator) -> DeviceInfo:
    """The device-registry entry of the battery behind a coordinator."""
    identity = coordinator.identity
    profile = coordinator.profile
    ble_mac = format_mac(identity.ble_mac or "")
    connections = {(CONNECTION_BLUETOOTH, ble_mac)}
    # A Venus E 3.0 reports its access point's BSSID as wifi_mac: not its own address.
    if identity.wifi_mac and profile.family is not Family.VENUS_E3:
        connections.add((CONNECTION_NETWORK_MAC, format_mac(identity.wifi_mac)))
    return DeviceInfo(
        identifiers={(DOMAIN, ble_mac)},
        connections=connections,
        manufacturer="Marstek",
        model=profile.model,
        model_id=identity.device,
        name=coordinator.config_entry.title,
        sw_version=str(identity.firmware) if identity.firmware is not None else None,
    )


class MarstekEntity(CoordinatorEntity[MarstekCoordinator]):
    """An entity of one Marstek battery."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: MarstekCoordinator, description: EntityDescription) -> None:
        super().__init__(coordinator)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{description.key}"
        self._attr_device_info = marstek_device_info(coordinator)


def vebus_device_info(coordinator: VebusCoordinator) -> DeviceInfo:
    """The device-registry entry of the VE.Bus unit behind a coordinator."""
    unit = coordinator.unit
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, str(entry.unique_id))},
        manufacturer=VICTRON,
        # The MK2 protocol does not name the model; the firmware number does not either.
        model=VEBUS_MODEL,
        name=entry.title,
        sw_version=str(unit.firmware) if unit.firmware is not None else None,
        hw_version=str(unit.mk_version) if unit.mk_version is not None else None,
        serial_number=unit.serial_number,
    )


class VebusEntity(CoordinatorEntity[VebusCoordinator]):
    """An entity of one VE.Bus unit; ``reads`` tells the coordinator what it needs."""

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: VebusCoordinator, description: EntityDescription, reads: Reads
    ) -> None:
        super().__init__(coordinator, context=reads)
        self.entity_description = description
        self._attr_unique_id = f"{coordinator.config_entry.unique_id}_{description.key}"
        self._attr_device_info = vebus_device_info(coordinator)

    @property
    def available(self) -> bool:
        """A sleeping unit reports nothing."""
        return super().available and not self.coordinator.data.asleep
