"""VE.Bus & Marstek Venus (local): Victron units over an MK3, Marstek batteries on the LAN."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv, issue_registry as ir
from homeassistant.helpers.typing import ConfigType

from .const import (
    CONF_DEVICE_KIND,
    DOMAIN,
    ENTRY_MINOR_VERSION,
    ISSUE_API_SILENT,
    ISSUE_PORT_MISSING,
    ISSUE_PV1_IN_WATTS,
    ISSUE_RESET_PRONE,
    PLATFORMS,
    SITE_PLATFORMS,
    DeviceKind,
    entry_kind,
)
from .coordinator import VebusMarstekConfigEntry, entry_store
from .marstek_discovery import async_start_background_discovery
from .services import async_setup_services
from .site_coordinator import SiteCoordinator
from .startup import async_start_marstek, async_start_vebus

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions and start looking for batteries on the LAN."""
    async_setup_services(hass)
    async_start_background_discovery(hass)
    return True


async def async_migrate_entry(hass: HomeAssistant, entry: VebusMarstekConfigEntry) -> bool:
    """Write the kind into entries from before VE.Bus.

    Home Assistant itself refuses an entry of a later major version (after a downgrade).
    """
    if entry.minor_version < ENTRY_MINOR_VERSION:
        hass.config_entries.async_update_entry(
            entry,
            data={**entry.data, CONF_DEVICE_KIND: entry_kind(entry).value},
            minor_version=ENTRY_MINOR_VERSION,
        )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: VebusMarstekConfigEntry) -> bool:
    """Start the entry's device, then its entities."""
    match entry_kind(entry):
        case DeviceKind.MARSTEK:
            entry.runtime_data = await async_start_marstek(hass, entry)
            await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        case DeviceKind.VEBUS:
            vebus = entry.runtime_data = await async_start_vebus(hass, entry)
            await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
            # Only now do the entities say which values they need: read those at once.
            await vebus.async_refresh()
        case DeviceKind.SITE:
            site = SiteCoordinator(hass, entry)
            await site.async_config_entry_first_refresh()
            entry.runtime_data = site
            await hass.config_entries.async_forward_entry_setups(entry, SITE_PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: VebusMarstekConfigEntry) -> bool:
    """Stop polling and keep the totals; ports are released by the unload callbacks."""
    if isinstance(site := entry.runtime_data, SiteCoordinator):
        await site.async_stop_driving("the site was unloaded")
    platforms = SITE_PLATFORMS if entry_kind(entry) is DeviceKind.SITE else PLATFORMS
    unloaded = await hass.config_entries.async_unload_platforms(entry, platforms)
    if unloaded:
        await entry.runtime_data.async_save()
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: VebusMarstekConfigEntry) -> None:
    """Forget the stored totals and the entry's repair issues."""
    await entry_store(hass, entry.entry_id).async_remove()
    for issue in (ISSUE_API_SILENT, ISSUE_RESET_PRONE, ISSUE_PORT_MISSING, ISSUE_PV1_IN_WATTS):
        ir.async_delete_issue(hass, DOMAIN, f"{issue}_{entry.entry_id}")
