"""Site entries for the tests: made as the config flow makes them, then set up."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import CONF_DEVICE_KIND, CONF_MEMBERS, DOMAIN
from custom_components.vebus_marstek.site_coordinator import SiteCoordinator


def make_site(
    entry_id: str,
    members: list[str],
    *,
    title: str = "Home battery",
    options: dict[str, Any] | None = None,
    **data: object,
) -> MockConfigEntry:
    """A site entry over ``members`` (entry ids), with more ``data`` (grid sensor, sign)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        data={CONF_DEVICE_KIND: "site", CONF_MEMBERS: members, **data},
        options=options or {},
        entry_id=entry_id,
    )


async def start_site(hass: HomeAssistant, site: MockConfigEntry) -> SiteCoordinator:
    """Add the site to Home Assistant and set it up."""
    site.add_to_hass(hass)
    assert await hass.config_entries.async_setup(site.entry_id)
    await hass.async_block_till_done()
    coordinator: SiteCoordinator = site.runtime_data
    return coordinator
