"""Restart safety: energy totals and write-only settings survive a restart and a reload, and
Home Assistant never sees a total go down, whether the device is offline or reports a zero.

A restart is the real thing: the first Home Assistant stops (flushing its delayed saves at the
final write, without unloading anything), its sockets close as when the process ends, and a
second Home Assistant starts on the same storage.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from unittest.mock import patch

from homeassistant import loader
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import format_mac
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    async_test_home_assistant,
)

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.coordinator import MarstekCoordinator
from simulators.marstek import MarstekSimulator, Mode
from simulators.vebus import VebusSimulator
from tests.conftest import (
    SIM_HOST,
    SIM_MAC,
    FakeClock,
    make_entry,
    make_simulator,
    make_vebus_entry,
    make_vebus_simulator,
    refresh,
    vebus_refresh,
)
from tests.registry import our_device

from .helpers import NeverDecreasing

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

E3 = "venus_e_3_0_1ec6"
MARSTEK_TOTALS = [
    f"sensor.{E3}_{name}"
    for name in (
        "grid_input_energy",
        "grid_output_energy",
        "backup_output_energy",
        "battery_charged_energy",
        "battery_discharged_energy",
    )
]
DOD = f"number.{E3}_depth_of_discharge"
LED = f"switch.{E3}_led"
PASSIVE_POWER = f"sensor.{E3}_passive_power"
PASSIVE_END = f"sensor.{E3}_passive_mode_ends"
BLE_ADV = f"switch.{E3}_bluetooth_advertising"
VICTRON = "victron_ve_bus_bcde"
VEBUS_TOTALS = [
    f"sensor.{VICTRON}_{name}"
    for name in (
        "battery_charged_energy",
        "battery_discharged_energy",
        "ac_input_imported_energy",
        "ac_input_exported_energy",
    )
]


def _values(hass: HomeAssistant, entity_ids: list[str]) -> dict[str, float]:
    return {entity_id: float(hass.states.get(entity_id).state) for entity_id in entity_ids}


def _settings(hass: HomeAssistant) -> tuple[str, ...]:
    return tuple(
        hass.states.get(entity_id).state
        for entity_id in (DOD, LED, BLE_ADV, PASSIVE_POWER, PASSIVE_END)
    )


async def _write_passive_and_slot(hass: HomeAssistant) -> None:
    """A schedule slot, then Passive again (a slot write switches the battery to Manual)."""
    device = our_device(hass, format_mac(SIM_MAC))
    slot = {"slot": 3, "start_time": "07:00", "end_time": "08:30", "power": -600}
    await hass.services.async_call(
        DOMAIN, "set_manual_schedule", {"device_id": device.id, **slot}, blocking=True
    )
    await hass.services.async_call(
        DOMAIN, "set_passive_mode", {"device_id": device.id, "power": 720}, blocking=True
    )


@asynccontextmanager
async def restarted_hass() -> AsyncIterator[HomeAssistant]:
    """A second Home Assistant on the same (mocked) storage, with this integration."""
    async with async_test_home_assistant() as hass:
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)
        try:
            yield hass
        finally:
            await hass.async_stop(force=True)


async def _process_ends(entry: MockConfigEntry) -> None:
    """What the end of the process does to a stopped Home Assistant: no more polls, no port.

    (Both instances share this test's event loop, so the first one's timers and sockets
    would otherwise outlive it.)
    """
    coordinator = entry.runtime_data
    await coordinator.async_shutdown()
    if isinstance(coordinator, MarstekCoordinator):
        await coordinator.client.close()
    else:
        await coordinator.client.connection.close()


async def _retry_setup(hass: HomeAssistant) -> None:
    """Let Home Assistant retry a setup that was not ready."""
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=20))
    await hass.async_block_till_done(wait_background_tasks=True)


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> bool:
    entry.add_to_hass(hass)
    ready = await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return ready


@pytest.fixture
async def battery(port: int) -> AsyncIterator[MarstekSimulator]:
    """A battery discharging at 720 W in Passive mode (so battery energy accumulates)."""
    async with make_simulator("venus-e3", SIM_HOST, port, SIM_MAC) as sim:
        sim.set_ground_truth(mode=Mode.PASSIVE)
        sim.state.passive_power_w = 720.0
        sim.state.passive_remaining_s = 3600.0
        yield sim


async def test_marstek_restart_keeps_totals_and_settings(
    hass: HomeAssistant,
    clock: FakeClock,
    battery: MarstekSimulator,
    port: int,
    hass_storage: dict[str, Any],
) -> None:
    """Stop, start again on the same storage with the battery first offline, then at zero."""
    entry = make_entry(port)
    assert await _start(hass, entry)
    await refresh(entry)
    clock.tick(30)
    await refresh(entry)
    await hass.services.async_call("number", "set_value", {"entity_id": DOD, "value": 60}, True)
    await hass.services.async_call("switch", "turn_off", {"entity_id": LED}, True)
    await hass.services.async_call("switch", "turn_off", {"entity_id": BLE_ADV}, True)
    await _write_passive_and_slot(hass)
    totals = _values(hass, MARSTEK_TOTALS)
    assert totals[f"sensor.{E3}_battery_discharged_energy"] == pytest.approx(0.006, abs=5e-4)
    settings = _settings(hass)
    assert settings[:4] == ("60.0", "off", "off", "720")

    # Stop: the delayed save is written at the final write, nothing is unloaded.
    await hass.async_stop()
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    assert stored["settings"]["dod"] == 60
    assert stored["settings"]["passive"]["power_w"] == 720
    assert stored["settings"]["manual_slots"]["3"]["start"] == "07:00"
    assert stored["battery"]["positive_wh"] == pytest.approx(6.0)
    await _process_ends(entry)

    battery.faults.silent = True
    async with restarted_hass() as hass2:
        watcher = NeverDecreasing(hass2, MARSTEK_TOTALS)
        entry2 = make_entry(port)
        assert not await _start(hass2, entry2)  # offline: not ready, retried
        assert entry2.state is ConfigEntryState.SETUP_RETRY
        battery.faults.silent = False
        battery.state.grid_input_wh = 0.0  # its first reading after a restart is a glitch
        battery.state.grid_output_wh = 0.0
        await _retry_setup(hass2)
        assert entry2.state is ConfigEntryState.LOADED
        assert _values(hass2, MARSTEK_TOTALS) == totals
        assert _settings(hass2) == settings
        slot = entry2.runtime_data.settings.manual_slots[3]
        assert (slot.power_w, slot.weekdays) == (-600, frozenset(range(7)))
        # Real readings again: the totals continue from where they were.
        battery.state.grid_input_wh = 123_500.0
        battery.state.grid_output_wh = 98_760.0
        await refresh(entry2)
        clock.tick(30)
        await refresh(entry2)
        after = _values(hass2, MARSTEK_TOTALS)
        assert after[f"sensor.{E3}_grid_input_energy"] == pytest.approx(123.5)
        assert after[f"sensor.{E3}_battery_discharged_energy"] == pytest.approx(0.012, abs=5e-4)
        assert watcher.drops == []
        watcher.close()
        assert await hass2.config_entries.async_unload(entry2.entry_id)


async def test_marstek_reload_keeps_settings(
    hass: HomeAssistant, battery: MarstekSimulator, port: int
) -> None:
    """Every write-only setting comes back after a reload, and the totals do not move."""
    entry = make_entry(port)
    assert await _start(hass, entry)
    await hass.services.async_call("number", "set_value", {"entity_id": DOD, "value": 45}, True)
    await hass.services.async_call("switch", "turn_off", {"entity_id": LED}, True)
    await hass.services.async_call("switch", "turn_on", {"entity_id": BLE_ADV}, True)
    await _write_passive_and_slot(hass)
    totals = _values(hass, MARSTEK_TOTALS)
    settings = _settings(hass)
    assert settings[:4] == ("45.0", "off", "on", "720")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert _settings(hass) == settings
    assert _values(hass, MARSTEK_TOTALS) == totals
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("clock")
async def test_marstek_totals_never_decrease_through_outages(
    hass: HomeAssistant, battery: MarstekSimulator, port: int
) -> None:
    """Offline for long enough to go unavailable, then every counter at 0 for a while."""
    entry = make_entry(port)
    watcher = NeverDecreasing(hass, MARSTEK_TOTALS)
    assert await _start(hass, entry)
    await refresh(entry)
    before = _values(hass, MARSTEK_TOTALS)
    battery.faults.silent = True
    await refresh(entry, 4)
    assert hass.states.get(MARSTEK_TOTALS[0]).state == STATE_UNAVAILABLE
    battery.faults.silent = False
    for name in ("grid_input_wh", "grid_output_wh", "pv_energy_wh", "load_energy_wh"):
        setattr(battery.state, name, 0.0)
    await refresh(entry, 2)
    assert _values(hass, MARSTEK_TOTALS) == before
    battery.state.grid_input_wh = 123_460.0
    await refresh(entry)
    assert _values(hass, MARSTEK_TOTALS)[MARSTEK_TOTALS[0]] == pytest.approx(123.46)
    assert watcher.drops == []
    assert watcher.samples > 0
    watcher.close()
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def charging_unit(socket_enabled: None) -> AsyncIterator[VebusSimulator]:
    """A 12 V unit charging from the grid (battery and AC-in energy both accumulate)."""
    sim = make_vebus_simulator("multiplus-12-500")
    await sim.start_tcp()
    yield sim
    await sim.stop()


async def _vebus_cycles(entry: MockConfigEntry, clock: FakeClock, cycles: int) -> None:
    for _ in range(cycles):
        clock.tick(1)  # the fast tier period: energy integrates every second
        await vebus_refresh(entry)


async def test_vebus_restart_keeps_totals(
    hass: HomeAssistant,
    clock: FakeClock,
    charging_unit: VebusSimulator,
    hass_storage: dict[str, Any],
) -> None:
    """Stop, start again on the same storage with the unit first silent: totals continue."""
    sim = charging_unit
    assert sim.url is not None
    entry = make_vebus_entry(sim.url)
    assert await _start(hass, entry)
    await _vebus_cycles(entry, clock, 3)
    totals = _values(hass, VEBUS_TOTALS)
    assert totals[f"sensor.{VICTRON}_battery_charged_energy"] > 0
    assert totals[f"sensor.{VICTRON}_ac_input_imported_energy"] > 0

    await hass.async_stop()
    stored = hass_storage[f"{DOMAIN}.{entry.entry_id}"]["data"]
    assert stored["battery"]["negative_wh"] == pytest.approx(
        totals[f"sensor.{VICTRON}_battery_charged_energy"] * 1000, abs=0.5
    )
    await _process_ends(entry)

    sim.faults.asleep = True
    async with restarted_hass() as hass2:
        watcher = NeverDecreasing(hass2, VEBUS_TOTALS)
        entry2 = make_vebus_entry(sim.url)
        assert not await _start(hass2, entry2)
        assert entry2.state is ConfigEntryState.SETUP_RETRY
        sim.faults.asleep = False
        await _retry_setup(hass2)
        assert entry2.state is ConfigEntryState.LOADED, entry2.reason
        assert _values(hass2, VEBUS_TOTALS) == totals
        await _vebus_cycles(entry2, clock, 2)
        after = _values(hass2, VEBUS_TOTALS)
        assert all(after[name] >= totals[name] for name in totals)
        charged = f"sensor.{VICTRON}_battery_charged_energy"
        assert after[charged] > totals[charged]
        assert watcher.drops == []
        watcher.close()
        assert await hass2.config_entries.async_unload(entry2.entry_id)


async def test_vebus_totals_never_decrease_through_outages(
    hass: HomeAssistant, clock: FakeClock, charging_unit: VebusSimulator
) -> None:
    """Unit asleep, powers at 0: nothing lost, nothing invented across the gaps."""
    sim = charging_unit
    assert sim.url is not None
    entry = make_vebus_entry(sim.url)
    watcher = NeverDecreasing(hass, VEBUS_TOTALS)
    assert await _start(hass, entry)
    await _vebus_cycles(entry, clock, 2)
    before = _values(hass, VEBUS_TOTALS)
    # Asleep for a while: unavailable, and the gap is not integrated when it wakes.
    with patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.2):
        sim.faults.asleep = True
        await _vebus_cycles(entry, clock, 3)
        assert hass.states.get(VEBUS_TOTALS[0]).state == STATE_UNAVAILABLE
        sim.faults.asleep = False
        await _vebus_cycles(entry, clock, 1)
    assert _values(hass, VEBUS_TOTALS) == before
    # Powers at 0 for a few polls: the totals hold still.
    sim.pin(battery_power=0.0, battery_current=0.0, ac_input_power=0.0, inverter_power=0.0)
    await _vebus_cycles(entry, clock, 3)
    held = _values(hass, VEBUS_TOTALS)
    assert all(held[name] >= before[name] for name in before)
    await _vebus_cycles(entry, clock, 2)
    assert _values(hass, VEBUS_TOTALS) == held
    sim.unpin()
    await _vebus_cycles(entry, clock, 3)
    after = _values(hass, VEBUS_TOTALS)
    charged = f"sensor.{VICTRON}_battery_charged_energy"
    assert after[charged] > held[charged]
    assert watcher.drops == []
    assert watcher.samples > 0
    watcher.close()
    assert await hass.config_entries.async_unload(entry.entry_id)
