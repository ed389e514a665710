"""The base every Marstek entity shares: one device per battery."""

from __future__ import annotations

from homeassistant.helpers.device_registry import (
    CONNECTION_BLUETOOTH,
    CONNECTION_NETWORK_MAC,
    DeviceInfo,
    format_mac,
)
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import MarstekCoordinator
from .marstek import Family


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
