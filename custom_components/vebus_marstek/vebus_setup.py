"""Starting one VE.Bus entry: open the interface, start a session with the unit, poll."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_DEVICE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady

from .const import CONF_READ_ATTEMPTS, CONF_REQUEST_TIMEOUT, CONF_STANDBY, DOMAIN
from .device_coordinator import option_number
from .vebus import (
    UnitInfo,
    VebusClient,
    VebusConnectionError,
    VebusError,
    VebusTimeoutError,
)
from .vebus_coordinator import VebusCoordinator, VebusRuntimeData

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


async def async_start_vebus(hass: HomeAssistant, entry: ConfigEntry) -> VebusRuntimeData:
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
    return VebusRuntimeData(client=client, coordinator=coordinator)
