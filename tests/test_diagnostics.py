"""Diagnostics and system health."""

from __future__ import annotations

from homeassistant.components import system_health
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from custom_components.vebus_marstek.const import DOMAIN

from .conftest import SIM_MAC, refresh_all_tiers


@pytest.mark.usefixtures("clock")
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Identity, profile, data and link statistics, with MACs, SSID and ids redacted."""
    await refresh_all_tiers(hass, init_integration)
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
    assert SIM_MAC not in str(diagnostics)
    assert "MarstekLab" not in str(diagnostics)
    assert diagnostics == snapshot(
        exclude=props("last_latency_s", "average_latency_s", "created_at", "modified_at", "port")
    )


async def test_system_health(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Counts of configured and answering batteries."""
    assert await async_setup_component(hass, "system_health", {})
    await hass.async_block_till_done()
    info = (await system_health.get_info(hass))[DOMAIN]
    assert info == {
        "configured_batteries": 1,
        "answering_batteries": 1,
        "configured_vebus_units": 0,
        "answering_vebus_units": 0,
    }
