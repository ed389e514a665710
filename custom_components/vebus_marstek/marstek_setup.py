"""Starting one Marstek battery entry: connect, check it is the battery configured, poll."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import format_mac

from .const import (
    CONF_PV1_IN_WATTS,
    DOMAIN,
    ISSUE_PORT_IN_USE,
    ISSUE_RESET_PRONE,
)
from .coordinator import MarstekCoordinator, MarstekRuntimeData, pacing_from_options
from .marstek import MarstekDevice, MarstekError, MarstekPortInUseError


async def async_start_marstek(hass: HomeAssistant, entry: ConfigEntry) -> MarstekRuntimeData:
    """Connect to the battery, check it is the one configured, and start polling."""
    host: str = entry.data[CONF_HOST]
    port: int = entry.data[CONF_PORT]
    # Asked "who are you" without a MAC, so another battery at this address says so.
    device = MarstekDevice(
        host,
        port,
        pacing=pacing_from_options(entry.options),
        pv1_in_watts=bool(entry.options.get(CONF_PV1_IN_WATTS, False)),
    )
    port_issue = f"{ISSUE_PORT_IN_USE}_{port}"
    try:
        await device.connect()
    except MarstekPortInUseError as err:
        ir.async_create_issue(
            hass,
            DOMAIN,
            port_issue,
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=ISSUE_PORT_IN_USE,
            translation_placeholders={"port": str(port)},
        )
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_in_use",
            translation_placeholders={"port": str(port)},
        ) from err
    except (MarstekError, OSError) as err:  # e.g. a host name that does not resolve
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": host},
        ) from err
    # Registered before anything else can fail, so a failed setup still frees the port.
    entry.async_on_unload(device.close)
    ir.async_delete_issue(hass, DOMAIN, port_issue)

    try:
        identity = await device.get_device()
    except MarstekError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="cannot_connect",
            translation_placeholders={"host": host},
        ) from err
    found = format_mac(identity.ble_mac) if identity.ble_mac else "?"
    if found != entry.unique_id:
        # After a DHCP change another battery may answer at the old address.
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="wrong_device",
            translation_placeholders={
                "host": host,
                "expected": str(entry.unique_id),
                "found": found,
            },
        )

    coordinator = MarstekCoordinator(hass, entry, device, identity)
    await coordinator.async_config_entry_first_refresh()
    if entry.options.get(CONF_PV1_IN_WATTS):
        ir.async_delete_issue(hass, DOMAIN, coordinator.pv1_unit_issue_id)
    _async_update_firmware_issue(hass, entry, coordinator)
    return MarstekRuntimeData(device=device, coordinator=coordinator)


def _async_update_firmware_issue(
    hass: HomeAssistant, entry: ConfigEntry, coordinator: MarstekCoordinator
) -> None:
    issue_id = f"{ISSUE_RESET_PRONE}_{entry.entry_id}"
    profile = coordinator.profile
    if not profile.reset_prone:
        ir.async_delete_issue(hass, DOMAIN, issue_id)
        return
    coordinator.create_issue(
        issue_id,
        ISSUE_RESET_PRONE,
        ir.IssueSeverity.WARNING,
        model=profile.model,
        firmware=str(coordinator.identity.firmware),
    )
