"""Diagnostics and system health of both families."""

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
from simulators.vebus import VebusSimulator

from .conftest import SIM_MAC, VEBUS_SERIAL, refresh_all_tiers, vebus_refresh

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")
async def test_marstek_diagnostics(
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


async def test_marstek_system_health(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
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


# --- VE.Bus ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")
async def test_vebus_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    snapshot: SnapshotAssertion,
) -> None:
    """Unit, scales, link counters; the serial number and the port are redacted."""
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, init_vebus)
    text = str(diagnostics)
    assert VEBUS_SERIAL not in text
    assert str(vebus_simulator.url) not in text
    assert diagnostics["link_counters"]["requests"] > 0
    assert diagnostics["parser_counters"]["frames"] > 0
    assert diagnostics == snapshot(
        exclude=props(
            "created_at", "modified_at", "link_counters", "parser_counters", "reinitialisations"
        )
    )


async def test_vebus_system_health(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """VE.Bus units are counted apart from batteries, and a sleeping one does not answer."""
    assert await async_setup_component(hass, "system_health", {})
    await hass.async_block_till_done()

    async def info_callback(hass: HomeAssistant) -> dict[str, object]:
        # What the frontend's system information page gets for this integration.
        return (await system_health.get_info(hass))[DOMAIN]

    assert await info_callback(hass) == {
        "configured_batteries": 0,
        "answering_batteries": 0,
        "configured_vebus_units": 1,
        "answering_vebus_units": 1,
    }
    # A port that went away: configured, not answering; nor once the entry is unloaded.
    await vebus_simulator.stop()
    await vebus_refresh(init_vebus)
    assert (await info_callback(hass))["answering_vebus_units"] == 0
    assert await hass.config_entries.async_unload(init_vebus.entry_id)
    assert (await info_callback(hass))["answering_vebus_units"] == 0
