"""Starting an entry's device: connect, check it is the device configured, first refresh.

Errors become ConfigEntryNotReady with a translated reason, so Home Assistant retries.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_DEVICE, CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.device_registry import format_mac

from .const import (
    CONF_PV1_IN_WATTS,
    CONF_READ_ATTEMPTS,
    CONF_REQUEST_TIMEOUT,
    CONF_STANDBY,
    DOMAIN,
    ISSUE_PORT_IN_USE,
    ISSUE_RESET_PRONE,
)
from .coordinator import (
    MarstekCoordinator,
    VebusCoordinator,
    VebusMarstekConfigEntry,
    option_number,
    pacing_from_options,
)
from .marstek import MarstekClient, MarstekError, MarstekPortInUseError
from .vebus import (
    UnitInfo,
    VebusClient,
    VebusConnectionError,
    VebusError,
    VebusTimeoutError,
)


async def async_start_marstek(
    hass: HomeAssistant, entry: VebusMarstekConfigEntry
) -> MarstekCoordinator:
    """Connect to the battery, check it is the one configured, and start polling."""
    host: str = entry.data[CONF_HOST]
    port: int = entry.data[CONF_PORT]
    # Asked "who are you" without a MAC, so another battery at this address says so.
    device = MarstekClient(
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
        identity = await device.read_identity()
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
    return coordinator


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


# The MK3-USB reports interface versions 117xxxx; only it has the standby line.
MK3_VERSION_FAMILY = 117


def is_mk3(unit: UnitInfo) -> bool:
    """Whether the interface is an MK3 (an MK2 has no standby line)."""
    return unit.mk_version is not None and unit.mk_version // 10000 == MK3_VERSION_FAMILY


def client_for(entry: ConfigEntry) -> VebusClient:
    """A client for the entry's port; tests shorten the timeouts through hidden options."""
    timeout_s = option_number(entry.options, CONF_REQUEST_TIMEOUT, 0.5)
    return VebusClient(
        entry.data[CONF_DEVICE],
        timeout_s=timeout_s,
        slow_timeout_s=2 * timeout_s,
        attempts=int(option_number(entry.options, CONF_READ_ATTEMPTS, 3)),
    )


async def async_start_vebus(
    hass: HomeAssistant, entry: VebusMarstekConfigEntry
) -> VebusCoordinator:
    """Open the port and start a session; a missing port or a silent unit is retried."""
    client = client_for(entry)
    # Registered first, so that a setup failing half-way still releases the port.
    entry.async_on_unload(client.close)
    placeholders = {"name": entry.title}  # logged by Home Assistant: no port path
    try:
        unit = await client.connect()
        if entry.options.get(CONF_STANDBY) and is_mk3(unit):
            await client.set_standby(True)
    except VebusConnectionError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="port_missing",
            translation_placeholders=placeholders,
        ) from err
    except VebusTimeoutError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="unit_silent",
            translation_placeholders=placeholders,
        ) from err
    except VebusError as err:
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN,
            translation_key="vebus_error",
            translation_placeholders={"error": str(err)},
        ) from err
    coordinator = VebusCoordinator(hass, entry, client, unit)
    await coordinator.async_config_entry_first_refresh()
    return coordinator
