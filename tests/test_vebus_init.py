"""Setting up, unloading and retrying a VE.Bus entry against the simulated MK3."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from simulators.vebus import VebusSimulator
from tests.registry import our_device

from .conftest import VEBUS_SERIAL, make_vebus_entry

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]


async def test_setup_and_unload(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The entry loads, registers one device, unloads and closes the port."""
    entry = init_vebus
    assert entry.state is ConfigEntryState.LOADED
    device = our_device(hass, VEBUS_SERIAL)
    assert device.manufacturer == "Victron Energy"
    assert device.model == "MultiPlus/Quattro (VE.Bus)"
    assert device.serial_number == VEBUS_SERIAL
    assert device.sw_version == "2648506"
    assert device.hw_version == "1170212"

    client = entry.runtime_data.client
    assert client.connection.is_open
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not client.connection.is_open
    assert vebus_simulator.dangerous == []
    assert vebus_simulator.eeprom_writes == []


async def test_missing_port_retries(hass: HomeAssistant) -> None:
    """A port that cannot be opened leaves the entry retrying."""
    entry = make_vebus_entry("/dev/serial/by-id/usb-VictronEnergy_MK3-USB_missing-if00-port0")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "is not there" in str(entry.reason)


async def test_silent_unit_retries(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, vebus_entry: MockConfigEntry
) -> None:
    """The port opens but the unit sleeps: retry, and the port is released again."""
    vebus_simulator.faults.asleep = True
    vebus_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    assert vebus_entry.state is ConfigEntryState.SETUP_RETRY
    assert "does not answer" in str(vebus_entry.reason)
