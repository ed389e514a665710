"""Finding this integration's devices in the registry the same way on every supported release."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

from custom_components.vebus_marstek.const import DOMAIN


def our_device(hass: HomeAssistant, identifier: str) -> dr.DeviceEntry:
    """The integration's device with ``identifier`` (a MAC address or a serial number).

    Through each entry's devices: ``async_get_device`` is deprecated from 2026.10 (an error in
    tests) and its replacement, ``async_get_device_by_identifier``, is not in the floor release.
    """
    registry = dr.async_get(hass)
    for entry in hass.config_entries.async_entries(DOMAIN):
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id):
            if (DOMAIN, identifier) in device.identifiers:
                return device
    raise AssertionError(f"no device {identifier} in the registry")
