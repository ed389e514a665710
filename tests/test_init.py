"""Setting up, unloading and retrying an entry of either family: a battery against a
simulated battery, a VE.Bus unit against the simulated MK3."""

from __future__ import annotations

import socket

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import (
    CONF_DEVICE_KIND,
    DOMAIN,
    DeviceKind,
    entry_kind,
)
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator
from tests.registry import our_device

from .conftest import SIM_MAC, VEBUS_SERIAL, make_entry, make_vebus_entry

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

# --- Marstek --------------------------------------------------------------------------------


async def test_marstek_setup_and_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry, device_registry: dr.DeviceRegistry
) -> None:
    """The entry loads, registers one device, unloads and frees the port."""
    entry = init_integration
    assert entry.state is ConfigEntryState.LOADED
    device = our_device(hass, "50:37:cd:7f:1e:c6")
    assert device.manufacturer == "Marstek"
    assert device.model == "Venus E 3.0"
    assert device.model_id == "VenusE 3.0"
    assert device.sw_version == "150"
    # A Venus E 3.0 reports its access point's BSSID as wifi_mac: not a connection of its own.
    assert device.connections == {(dr.CONNECTION_BLUETOOTH, "50:37:cd:7f:1e:c6")}

    client = entry.runtime_data.client
    endpoint = client.endpoint
    assert endpoint is not None
    assert endpoint.is_open
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    # The last (only) battery on the port closed the shared socket.
    assert client.endpoint is None
    assert not endpoint.is_open


async def test_marstek_silent_device_retries_setup(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """A battery that does not answer leaves the entry retrying."""
    simulator.faults.silent = True
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_marstek_port_in_use_retries_with_repair(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    port: int,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Another program holding the port: retry, and a repair issue that names the port."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as blocker:
        blocker.bind(("0.0.0.0", port))
        mock_config_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
        issue = issue_registry.async_get_issue(DOMAIN, f"port_in_use_{port}")
        assert issue is not None
        assert issue.translation_placeholders == {"port": str(port)}

    async with MarstekSimulator(profile="venus-e3", host="127.0.0.2", port=port, ble_mac=SIM_MAC):
        await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        assert mock_config_entry.state is ConfigEntryState.LOADED
        assert issue_registry.async_get_issue(DOMAIN, f"port_in_use_{port}") is None
        assert await hass.config_entries.async_unload(mock_config_entry.entry_id)


async def test_marstek_other_battery_at_address_retries(
    hass: HomeAssistant, port: int, simulator: MarstekSimulator
) -> None:
    """After a DHCP change another battery may answer: do not take it over."""
    entry = make_entry(port, ble_mac="aabbccddeeff")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "Another battery (50:37:cd:7f:1e:c6) answers" in entry.reason


@pytest.mark.usefixtures("invalid_names_do_not_resolve")
async def test_marstek_unresolvable_host_retries(hass: HomeAssistant, port: int) -> None:
    """A host name that does not resolve is a connection problem, not a crash."""
    entry = make_entry(port, host="battery.invalid")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY


async def test_a_battery_added_before_vebus_support_is_migrated_and_loads(
    hass: HomeAssistant, simulator: MarstekSimulator, port: int
) -> None:
    """Entries of version 1.1 say nothing of their kind: they are batteries, and say so now."""
    current = make_entry(port)
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=current.title,
        unique_id=current.unique_id,
        data={key: value for key, value in current.data.items() if key != CONF_DEVICE_KIND},
        options=current.options,
        version=1,
        minor_version=1,
    )
    assert entry_kind(entry) is DeviceKind.MARSTEK, "read as a battery until it is migrated"
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert (entry.version, entry.minor_version) == (1, 2)
    assert entry.data == {**current.data, CONF_DEVICE_KIND: "marstek"}
    assert await hass.config_entries.async_unload(entry.entry_id)


def test_an_entry_that_says_no_kind_is_refused_once_kinds_are_written() -> None:
    entry = MockConfigEntry(domain=DOMAIN, data={}, version=1, minor_version=2)
    with pytest.raises(ValueError, match="says no device kind"):
        entry_kind(entry)


# --- VE.Bus ---------------------------------------------------------------------------------


async def test_vebus_setup_and_unload(
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


async def test_vebus_missing_port_retries(hass: HomeAssistant) -> None:
    """A port that cannot be opened leaves the entry retrying."""
    entry = make_vebus_entry("/dev/serial/by-id/usb-VictronEnergy_MK3-USB_missing-if00-port0")
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.SETUP_RETRY
    assert "is not there" in str(entry.reason)


async def test_vebus_silent_unit_retries(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, vebus_entry: MockConfigEntry
) -> None:
    """The port opens but the unit sleeps: retry, and the port is released again."""
    vebus_simulator.faults.asleep = True
    vebus_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    assert vebus_entry.state is ConfigEntryState.SETUP_RETRY
    assert "does not answer" in str(vebus_entry.reason)
