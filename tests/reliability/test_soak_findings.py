"""Faults the soaks found, each reproduced on its own so that it stays fixed.

Every test states the behaviour the documentation (docs/marstek.md, docs/vebus.md) promises
and recreates, deterministically, the situation in which the soak first saw it broken (all six
were fixed in 9d05b08).
"""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.marstek import connection as marstek_connection
from simulators.marstek import MarstekSimulator, Mode
from simulators.vebus import VebusSimulator
from tests.conftest import make_vebus_entry

from .helpers import crash_records, drop_next_request

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

ESS = "number.victron_ve_bus_bcde_ess_setpoint"


async def test_marstek_lost_passive_write_in_passive(
    hass: HomeAssistant, marstek_device_id: str, simulator: MarstekSimulator
) -> None:
    """A new Passive power is either set on the battery or reported as failed, never lost.

    Was: lost on its way in, the write was "confirmed" by the ES.GetMode read-back because
    the battery was already in Passive mode (marstek/client.py _write_mode).
    """
    passive = {"device_id": marstek_device_id, "duration": 600}
    await hass.services.async_call(
        DOMAIN, "set_passive_mode", {**passive, "power": -1000}, blocking=True
    )
    assert simulator.state.passive_power_w == -1000
    dropped = drop_next_request(simulator, "ES.SetMode")
    try:
        await hass.services.async_call(
            DOMAIN, "set_passive_mode", {**passive, "power": 800}, blocking=True
        )
    except HomeAssistantError:
        return  # reported as failed: fine
    finally:
        assert dropped == ["ES.SetMode"]
    assert simulator.state.mode is Mode.PASSIVE
    assert simulator.state.passive_power_w == 800  # returned as done: it must be done


async def test_marstek_unload_during_poll_releases_port(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MarstekSimulator, port: int
) -> None:
    """Unloading while a poll waits between two attempts leaves the API port free.

    Was: the next attempt called connect() again after close() and bound the UDP port for
    good (marstek/device.py _request_once).
    """
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**mock_config_entry.options, "read_attempts": 2, "backoff": 0.3}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = mock_config_entry.runtime_data
    simulator.faults.silent = True
    poll = hass.async_create_task(coordinator.async_refresh())
    await asyncio.sleep(0.25)  # the first attempt timed out; the poll waits to try again
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await poll
    left_open = coordinator.client.endpoint is not None
    await coordinator.client.close()  # free the port for the tests that follow
    assert not left_open
    assert port not in marstek_connection._registry().endpoints


async def test_marstek_unload_during_request_logs_no_traceback(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MarstekSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Unloading while a poll waits for its turn ends the poll quietly.

    Was: the request met the closed endpoint and raised RuntimeError, logged as "Unexpected
    error fetching ... data" with a traceback (marstek/endpoint.py request).
    """
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry,
        options={**mock_config_entry.options, "request_spacing": 0.1, "quiet_gap": 0.1},
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    poll = hass.async_create_task(mock_config_entry.runtime_data.async_refresh())
    await asyncio.sleep(0.15)  # between two paced requests of the cycle
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await poll
    assert crash_records(caplog.records) == []


async def test_vebus_unload_during_poll_closes_port(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, vebus_entry: MockConfigEntry
) -> None:
    """Unloading while a poll is in flight leaves the serial port closed.

    Was: the poll took the closed port for a dropped link and reopened it, and nothing ever
    closed it again (coordinator.py _async_poll, vebus/client.py ensure_session).
    """
    vebus_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    coordinator = vebus_entry.runtime_data
    poll = hass.async_create_task(coordinator.async_refresh())
    await asyncio.sleep(0)
    assert await hass.config_entries.async_unload(vebus_entry.entry_id)
    await poll
    await asyncio.sleep(0.1)
    reopened = coordinator.client.connection.is_open
    await coordinator.client.connection.close()
    assert not reopened


@pytest.fixture
def quick_keepalive() -> Generator[None]:
    """The ESS keep-alive every 0.3 s instead of 5."""
    with patch("custom_components.vebus_marstek.vebus.client.ESS_KEEPALIVE_S", 0.3):
        yield


@pytest.mark.usefixtures("quick_keepalive")
async def test_vebus_keepalive_never_overrides_new_setpoint(
    hass: HomeAssistant, vebus_simulator: VebusSimulator
) -> None:
    """When a new setpoint is reported as set, the unit holds it (not the previous one).

    Was: a keep-alive of the old setpoint whose reply was lost was retried after the new
    write and overrode it until the next keep-alive (vebus/client.py _keep_ess_alive).
    """
    assert vebus_simulator.url is not None
    entry = make_vebus_entry(vebus_simulator.url, options={"request_timeout": 0.4})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    try:
        await hass.services.async_call(
            "number", "set_value", {"entity_id": ESS, "value": 500}, blocking=True
        )
        # The keep-alive's next write (of 500, due in 0.3 s) gets no reply: it waits 0.4 s,
        # then tries again, and the new setpoint goes out in between.
        vebus_simulator.faults.drop_next = 1
        await asyncio.sleep(0.4)
        await hass.services.async_call(
            "number", "set_value", {"entity_id": ESS, "value": 1000}, blocking=True
        )
        assert vebus_simulator.truth().ess_setpoint == 1000
    finally:
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_vebus_concurrent_session_restart(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After a unit restart, a poll and a write that meet start one session between them.

    Was: both started a session; each cleared the scales, so reads in between failed with
    a KeyError logged as "Unexpected error fetching" (vebus/client.py ensure_session).
    """
    client = init_vebus.runtime_data.client
    coordinator = init_vebus.runtime_data
    sessions = client.reinitialisations
    vebus_simulator.faults.reset()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if client._needs_init:
            break
    assert client._needs_init
    await asyncio.gather(
        coordinator.async_refresh(),
        hass.services.async_call(
            "number", "set_value", {"entity_id": ESS, "value": 300}, blocking=True
        ),
    )
    assert crash_records(caplog.records) == []
    assert coordinator.last_update_success
    assert client.reinitialisations == sessions + 1
