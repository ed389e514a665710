"""Pieces the actions of both device families share: validation errors, finding the target."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import device_registry as dr

from .const import DOMAIN, DeviceKind, entry_kind
from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry

# Said when a device of this integration is of the other kind (or of another integration).
_WRONG_KIND = {
    DeviceKind.MARSTEK: "not_marstek_device",
    DeviceKind.VEBUS: "not_vebus_device",
}


def validation_error(key: str, **placeholders: str) -> ServiceValidationError:
    """A translated error about the action's input."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def device_entry_ids(device: dr.DeviceEntry) -> set[str]:
    """The config entries a device belongs to.

    Home Assistant 2026.8 gave every device one config entry (``config_entry_id``) and deprecated
    ``config_entries``, which it reports from 2026.11 and removes in 2027.10. The fallback is for
    2026.5-2026.7 and can go once the floor in hacs.json reaches 2026.8.
    """
    entry_id: object = getattr(device, "config_entry_id", None)
    if isinstance(entry_id, str):
        return {entry_id}
    return set(device.config_entries)


_FAMILY_KIND: dict[type[MarstekCoordinator | VebusCoordinator], DeviceKind] = {
    MarstekCoordinator: DeviceKind.MARSTEK,
    VebusCoordinator: DeviceKind.VEBUS,
}


def loaded_coordinator[CoordinatorT: (MarstekCoordinator, VebusCoordinator)](
    hass: HomeAssistant, device_id: str, family: type[CoordinatorT]
) -> CoordinatorT:
    """The coordinator of the loaded ``family`` entry behind a device, or why there is none."""
    kind = _FAMILY_KIND[family]
    device = dr.async_get(hass).async_get(device_id)
    if device is None:
        raise validation_error("device_not_found", device_id=device_id)
    entries: list[VebusMarstekConfigEntry] = [
        entry
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry.entry_id in device_entry_ids(device) and entry_kind(entry) is kind
    ]
    if not entries:
        raise validation_error(_WRONG_KIND[kind], device=device.name_by_user or device.name or "")
    entry = entries[0]
    if entry.state is not ConfigEntryState.LOADED:
        raise validation_error("entry_not_loaded", name=entry.title)
    coordinator = entry.runtime_data
    assert isinstance(coordinator, family)  # an entry of this kind runs this coordinator
    return coordinator
