"""Marstek discovery in the background: new batteries are offered, moved ones followed."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
import socket
from unittest.mock import AsyncMock, patch

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.vebus_marstek import marstek_discovery
from custom_components.vebus_marstek.const import DOMAIN
from simulators.marstek import MarstekSimulator

from .conftest import SECOND_HOST, SECOND_MAC, SIM_HOST, make_entry, make_simulator

pytestmark = pytest.mark.usefixtures("fast_probes", "loopback_scan")


@pytest.fixture
def loopback_scan(port: int) -> Generator[None]:
    """Scans go to the simulators, and the default port is this test's port."""
    with (
        patch.object(
            marstek_discovery,
            "async_broadcast_targets",
            AsyncMock(return_value=[SIM_HOST, SECOND_HOST]),
        ),
        patch.object(marstek_discovery, "DEFAULT_PORT", port),
    ):
        yield


async def test_scan_offers_new_and_follows_known(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """A minute after start: one flow for the new battery, the known one gets its new IP."""
    known = make_entry(port, host="127.0.0.50", ble_mac=SECOND_MAC)
    known.add_to_hass(hass)
    assert await async_setup_component(hass, DOMAIN, {})
    async with make_simulator("venus-a", SECOND_HOST, port, SECOND_MAC):
        # Real time runs on (the probes need it); only the first-scan timer is fired early.
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=1, seconds=1))
        await hass.async_block_till_done(wait_background_tasks=True)
        await hass.async_block_till_done()
    assert known.data["host"] == SECOND_HOST
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["step_id"] == "discovery_confirm"
    assert flows[0]["context"]["unique_id"] == "50:37:cd:7f:1e:c6"


async def test_scan_survives_port_in_use(hass: HomeAssistant, port: int) -> None:
    """A port held by another program is skipped, not fatal."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("0.0.0.0", port))
        await marstek_discovery.async_discover_and_report(hass)
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []
