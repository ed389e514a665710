"""VE.Bus polling: only what is needed, sleep and reconnection, the port repair, energy."""

from __future__ import annotations

from collections.abc import Iterator
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import DOMAIN
from simulators.vebus import VebusSimulator

from .conftest import (
    VEBUS_SERIAL,
    FakeClock,
    make_vebus_entry,
    make_vebus_simulator,
    vebus_refresh,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

PREFIX = "sensor.victron_ve_bus_bcde"
BATTERY_VOLTAGE = f"{PREFIX}_battery_voltage"


@pytest.fixture
def quick_sleep() -> Iterator[None]:
    """The client calls a unit asleep after half a second of silence instead of five."""
    with patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.5):
        yield


def _commands(sim: VebusSimulator) -> list[str]:
    return [
        f"{frame.command}{frame.args[:1].hex()}" if frame.command == "F" else str(frame.command)
        for frame in sim.frames_received
    ]


async def test_only_enabled_entities_are_read(
    hass: HomeAssistant,
    vebus_simulator: VebusSimulator,
    vebus_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """With every LED, alarm and error entity disabled no 'L' request is sent at all."""
    vebus_entry.add_to_hass(hass)
    entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{VEBUS_SERIAL}_vebus_error",
        config_entry=vebus_entry,
        disabled_by=er.RegistryEntryDisabler.USER,
    )
    assert await hass.config_entries.async_setup(vebus_entry.entry_id)
    await hass.async_block_till_done()
    vebus_simulator.frames_received.clear()
    await vebus_refresh(vebus_entry)
    commands = _commands(vebus_simulator)
    assert "L" not in commands
    # DC (battery, energy), L1 (AC), 'F' 5 (switch and limit) and one batch of RAM variables.
    assert commands.count("F00") == 1
    assert commands.count("F01") == 1
    assert commands.count("F05") == 1
    assert commands.count("X") + commands.count("Y") + commands.count("Z") == 2  # RAM + state
    assert await hass.config_entries.async_unload(vebus_entry.entry_id)


@pytest.mark.usefixtures("init_vebus")
async def test_error_sensor_needs_leds(
    hass: HomeAssistant, vebus_simulator: VebusSimulator, init_vebus: MockConfigEntry
) -> None:
    """The VE.Bus error sensor (on by default) is what asks for 'L'."""
    vebus_simulator.frames_received.clear()
    await vebus_refresh(init_vebus)
    assert _commands(vebus_simulator).count("L") == 1
    assert vebus_simulator.dangerous == []


async def test_powers_every_second_the_rest_every_few_seconds(
    hass: HomeAssistant,
    clock: FakeClock,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
) -> None:
    """Between slow refreshes a refresh reads the DC and AC frames and one power batch only.

    The powers follow the unit at once; the limits, LEDs and states every 5 s (the default).
    """
    coordinator = init_vebus.runtime_data
    assert coordinator.update_interval is not None
    assert coordinator.update_interval.total_seconds() == 1  # the fast tier's default
    vebus_simulator.frames_received.clear()
    vebus_simulator.set_ground_truth(grid_available=False, ac_load_w=800)
    clock.tick(1)
    await coordinator.async_refresh()
    commands = _commands(vebus_simulator)
    assert commands[:2] == ["F00", "F01"]
    assert commands[2:] in (["X"], ["Y"], ["Z"])  # one RAM batch: the powers
    assert float(hass.states.get(f"{PREFIX}_battery_power").state) > 0  # discharging at once
    state_before = hass.states.get(f"{PREFIX}_device_state").state
    assert state_before != vebus_simulator.truth().state  # read in the slow tier only

    vebus_simulator.frames_received.clear()
    clock.tick(4)  # five seconds after the last slow refresh
    await coordinator.async_refresh()
    commands = _commands(vebus_simulator)
    assert {"F00", "F01", "F05", "L"} <= set(commands)
    assert hass.states.get(f"{PREFIX}_device_state").state == vebus_simulator.truth().state


async def test_tier_periods_are_options(
    hass: HomeAssistant, clock: FakeClock, vebus_simulator: VebusSimulator
) -> None:
    """The fast period and the slow one come from the entry's options."""
    assert vebus_simulator.url is not None
    entry = make_vebus_entry(vebus_simulator.url, options={"fast_interval": 3, "poll_interval": 30})
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    coordinator = entry.runtime_data
    assert coordinator.update_interval is not None
    assert coordinator.update_interval.total_seconds() == 3
    vebus_simulator.frames_received.clear()
    clock.tick(29)
    await coordinator.async_refresh()
    assert "F05" not in _commands(vebus_simulator)
    clock.tick(1)
    await coordinator.async_refresh()
    assert "F05" in _commands(vebus_simulator)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.mark.usefixtures("quick_sleep")
async def test_sleep_without_error_log(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A sleeping unit: unavailable, an info line each way, never an error."""
    caplog.set_level(logging.INFO)
    voltage = hass.states.get(BATTERY_VOLTAGE).state
    vebus_simulator.faults.asleep = True
    # The first silent cycle could be a lost frame: the last values stay.
    await vebus_refresh(init_vebus)
    assert hass.states.get(BATTERY_VOLTAGE).state == voltage
    await vebus_refresh(init_vebus, 2)
    assert hass.states.get(BATTERY_VOLTAGE).state == STATE_UNAVAILABLE
    assert caplog.text.count("is silent") == 1
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]

    vebus_simulator.faults.asleep = False
    await vebus_refresh(init_vebus)
    assert hass.states.get(BATTERY_VOLTAGE).state == voltage
    assert caplog.text.count("answers again") == 1
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    # The waking unit got a new session (the MK3 forgot everything while unpowered).
    assert init_vebus.runtime_data.client.reinitialisations >= 1


async def test_timeouts_make_unavailable(
    hass: HomeAssistant,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two polls in a row without an answer (while the link is not quiet long enough to
    call the unit asleep) are an error."""
    vebus_simulator.faults.asleep = True
    await vebus_refresh(init_vebus)
    assert hass.states.get(BATTERY_VOLTAGE).state != STATE_UNAVAILABLE
    await vebus_refresh(init_vebus)
    assert hass.states.get(BATTERY_VOLTAGE).state == STATE_UNAVAILABLE
    assert "did not answer" in caplog.text
    vebus_simulator.faults.asleep = False


async def test_reconnects_after_disconnect(
    hass: HomeAssistant, init_vebus: MockConfigEntry, vebus_simulator: VebusSimulator
) -> None:
    """The link drops (USB re-plugged, ser2net restarted): the next poll reconnects."""
    client = init_vebus.runtime_data.client
    vebus_simulator.faults.disconnect()
    await hass.async_block_till_done()
    await vebus_refresh(init_vebus)
    assert client.connection.is_open
    assert hass.states.get(BATTERY_VOLTAGE).state != STATE_UNAVAILABLE
    assert init_vebus.runtime_data.last_update_success


async def test_port_missing_repair(
    hass: HomeAssistant,
    clock: FakeClock,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A port gone for five minutes raises a repair; it goes when the port is back."""
    url = vebus_simulator.url
    assert url is not None
    port = int(url.rsplit(":", 1)[1])
    coordinator = init_vebus.runtime_data
    await vebus_simulator.stop()
    await hass.async_block_till_done()
    await vebus_refresh(init_vebus)
    assert hass.states.get(BATTERY_VOLTAGE).state == STATE_UNAVAILABLE
    assert issue_registry.async_get_issue(DOMAIN, coordinator.port_missing_issue_id) is None
    clock.tick(301)
    await vebus_refresh(init_vebus)
    issue = issue_registry.async_get_issue(DOMAIN, coordinator.port_missing_issue_id)
    assert issue is not None
    assert issue.translation_key == "port_missing"

    async with make_vebus_simulator("multiplus-ii-48-3000") as back:
        await back.start_tcp(port=port)
        await vebus_refresh(init_vebus)
        assert hass.states.get(BATTERY_VOLTAGE).state != STATE_UNAVAILABLE
        assert issue_registry.async_get_issue(DOMAIN, coordinator.port_missing_issue_id) is None
        assert await hass.config_entries.async_unload(init_vebus.entry_id)


def _energy(hass: HomeAssistant) -> dict[str, float]:
    names = (
        "battery_charged_energy",
        "battery_discharged_energy",
        "ac_input_imported_energy",
        "ac_input_exported_energy",
    )
    return {name: float(hass.states.get(f"{PREFIX}_{name}").state) for name in names}


@pytest.mark.parametrize(("vebus_model", "vebus_options"), [("multiplus-12-500", {})])
async def test_energy_integrated_and_restored(
    hass: HomeAssistant,
    clock: FakeClock,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
    hass_storage: dict[str, Any],
) -> None:
    """Charging from the grid: charged and imported energy grow, survive a reload, never drop."""
    truth = vebus_simulator.truth()
    assert truth.battery_power > 0  # charging (the simulator counts charging positive)
    assert truth.ac_input_power > 0
    for _ in range(15):
        clock.tick(1)  # the fast tier's default period: energy integrates every second
        await vebus_refresh(init_vebus)
    energy = _energy(hass)
    # kWh on screen: 15 s at the truth's power.
    assert energy["battery_charged_energy"] == pytest.approx(
        truth.battery_power * 15 / 3600 / 1000, rel=0.05
    )
    assert energy["ac_input_imported_energy"] == pytest.approx(
        truth.ac_input_power * 15 / 3600 / 1000, rel=0.05
    )
    assert energy["battery_discharged_energy"] == 0
    assert energy["ac_input_exported_energy"] == 0

    assert await hass.config_entries.async_reload(init_vebus.entry_id)
    await hass.async_block_till_done()
    stored = hass_storage[f"{DOMAIN}.{init_vebus.entry_id}"]["data"]
    assert stored["battery"]["negative_wh"] == pytest.approx(
        truth.battery_power * 15 / 3600, rel=0.05
    )
    restored = _energy(hass)
    assert restored == energy
    # A long pause (restart) is not integrated; new samples add up from the restored totals.
    clock.tick(3600)
    await vebus_refresh(init_vebus)
    assert _energy(hass) == energy
    clock.tick(1)
    await vebus_refresh(init_vebus)
    later = _energy(hass)
    assert all(later[name] >= energy[name] for name in energy)
    assert later["battery_charged_energy"] > energy["battery_charged_energy"]
