"""A site over a simulated Venus E 3.0 and a simulated MultiPlus-II, and a grid meter.

What a user sees on the site's device: one state of charge weighted by energy, the members'
powers added up, the grid meter in W with import positive, and energy totals that never drop
when a member goes away, survive reloads and start from zero.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.vebus_marstek.const import (
    CONF_BATTERY_CAPACITY,
    CONF_GRID_SENSOR,
    CONF_GRID_SIGN,
    CONF_MEMBERS,
    DOMAIN,
)
from custom_components.vebus_marstek.coordinator import MarstekCoordinator, VebusCoordinator
from custom_components.vebus_marstek.diagnostics import async_get_config_entry_diagnostics
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator
from tests.conftest import FakeClock, refresh, vebus_refresh
from tests.sites import make_site as make_site_entry, start_site

SITE_ENTRY_ID = "01JTESTSITEENTRY0000000000"
GRID = "sensor.p1_meter_power"
VEBUS_CAPACITY_KWH = 10.0


@pytest.fixture
def vebus_entry(vebus_simulator: VebusSimulator) -> MockConfigEntry:
    """The MultiPlus with its battery's capacity entered, as a site member needs."""
    from tests.conftest import make_vebus_entry

    assert vebus_simulator.url is not None
    return make_vebus_entry(
        vebus_simulator.url, options={CONF_BATTERY_CAPACITY: VEBUS_CAPACITY_KWH}
    )


def make_site(members: list[str], **data: object) -> MockConfigEntry:
    return make_site_entry(SITE_ENTRY_ID, members, **data)


@pytest.fixture
async def site(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
) -> MockConfigEntry:
    """A site over both members, reading a P1 meter in kW (positive = import)."""
    hass.states.async_set(GRID, "0.25", {"unit_of_measurement": "kW", "device_class": "power"})
    entry = make_site(
        [init_integration.entry_id, init_vebus.entry_id],
        **{CONF_GRID_SENSOR: GRID, CONF_GRID_SIGN: "import_positive"},
    )
    await start_site(hass, entry)
    return entry


def site_value(hass: HomeAssistant, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{SITE_ENTRY_ID}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None, key
    return state.state


def site_number(hass: HomeAssistant, key: str) -> float:
    return float(site_value(hass, key))


def member_number(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> float:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_{key}")
    assert entity_id is not None, key
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state)


# The MultiPlus without grid: it discharges into the house, so its discharged energy grows.
FEEDING_THE_HOUSE: dict[str, Any] = {"grid_available": False, "ac_load_w": 800.0}


async def run_for(
    hass: HomeAssistant, clock: FakeClock, unit: MockConfigEntry, *, seconds: int
) -> None:
    """The unit refreshed once a second (its default) for ``seconds``."""
    for _ in range(seconds):
        clock.tick(1)
        await vebus_refresh(unit)
    await hass.async_block_till_done()


async def refresh_members(
    hass: HomeAssistant, battery: MockConfigEntry, unit: MockConfigEntry
) -> None:
    await refresh(battery)
    await vebus_refresh(unit)
    await hass.async_block_till_done()


async def feed_the_house(
    hass: HomeAssistant,
    clock: FakeClock,
    members: tuple[MockConfigEntry, MockConfigEntry],
    vebus_simulator: VebusSimulator,
    *,
    seconds: int,
) -> float:
    """The MultiPlus feeds the house for ``seconds``: the site's discharged energy then."""
    battery, unit = members
    vebus_simulator.set_ground_truth(**FEEDING_THE_HOUSE)
    await refresh_members(hass, battery, unit)
    await run_for(hass, clock, unit, seconds=seconds)
    return site_number(hass, "battery_discharged_energy")


# A MultiPlus that charges from the grid beside a Venus that feeds the house.
@pytest.mark.parametrize("vebus_model", ["multiplus-12-500"])
async def test_the_site_is_one_battery_with_the_members_values(
    hass: HomeAssistant,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
    simulator: MarstekSimulator,
    vebus_simulator: VebusSimulator,
) -> None:
    vebus_simulator.set_ground_truth(soc=0.8)
    await refresh_members(hass, init_integration, init_vebus)

    venus_soc = member_number(hass, init_integration, "soc")
    venus_wh = member_number(hass, init_integration, "rated_capacity") * 1000  # shown in kWh
    unit_soc = member_number(hass, init_vebus, "soc")
    stored = venus_soc / 100 * venus_wh + unit_soc / 100 * VEBUS_CAPACITY_KWH * 1000
    # Weighted by energy: the 10 kWh MultiPlus battery counts for more than the 5 kWh Venus.
    assert site_number(hass, "soc") == pytest.approx(
        100 * stored / (venus_wh + VEBUS_CAPACITY_KWH * 1000), abs=0.01
    )
    assert site_number(hass, "remaining_capacity") == pytest.approx(stored / 1000, abs=0.01)
    powers = [
        member_number(hass, entry, "battery_power") for entry in (init_integration, init_vebus)
    ]
    assert min(powers) < 0 < max(powers)
    assert site_number(hass, "battery_power") == pytest.approx(sum(powers), abs=1)
    assert site_number(hass, "battery_charge_power") == pytest.approx(
        sum(-power for power in powers if power < 0), abs=1
    )
    assert site_number(hass, "battery_discharge_power") == pytest.approx(
        sum(power for power in powers if power > 0), abs=1
    )
    assert site_number(hass, "grid_power") == 250  # 0.25 kW, importing
    assert site_number(hass, "members_answering") == 2


async def test_the_grid_power_follows_the_meter_in_its_sign_and_unit(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    hass.states.async_set(GRID, "-800", {"unit_of_measurement": "W"})
    await start_site(
        hass,
        make_site(
            [init_integration.entry_id],
            **{CONF_GRID_SENSOR: GRID, CONF_GRID_SIGN: "export_positive"},
        ),
    )
    assert site_number(hass, "grid_power") == 800  # the meter says -800 W exported: importing
    hass.states.async_set(GRID, "1.5", {"unit_of_measurement": "kW"})
    await hass.async_block_till_done()
    assert site_number(hass, "grid_power") == -1500


async def test_a_grid_meter_that_is_not_a_power_reads_unknown_and_logs_once(
    hass: HomeAssistant, init_integration: MockConfigEntry, caplog: pytest.LogCaptureFixture
) -> None:
    hass.states.async_set(GRID, "12", {"unit_of_measurement": "kWh"})
    await start_site(hass, make_site([init_integration.entry_id], **{CONF_GRID_SENSOR: GRID}))
    hass.states.async_set(GRID, "13", {"unit_of_measurement": "kWh"})
    await hass.async_block_till_done()
    assert site_value(hass, "grid_power") == STATE_UNKNOWN
    assert caplog.text.count("not a power") == 1
    hass.states.async_set(GRID, "unavailable")
    await hass.async_block_till_done()
    assert site_value(hass, "grid_power") == STATE_UNKNOWN
    hass.states.async_set(GRID, "100", {"unit_of_measurement": "W"})
    await hass.async_block_till_done()
    assert site_number(hass, "grid_power") == 100


async def test_a_site_without_a_grid_meter_has_no_grid_power(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await start_site(hass, make_site([init_integration.entry_id]))
    registry = er.async_get(hass)
    assert registry.async_get_entity_id("sensor", DOMAIN, f"{SITE_ENTRY_ID}_grid_power") is None
    assert site_number(hass, "members_answering") == 1


async def test_a_member_going_away_leaves_the_powers_but_not_the_totals(
    hass: HomeAssistant,
    clock: FakeClock,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
) -> None:
    """A MultiPlus feeding the house: its energy counts; unloaded, it stops but nothing drops."""
    members = (init_integration, init_vebus)
    assert await feed_the_house(hass, clock, members, vebus_simulator, seconds=0) == 0, (
        "members join from zero"
    )
    await run_for(hass, clock, init_vebus, seconds=30)
    await refresh(init_integration)  # the Venus counts up to now as well (no tick after)
    await hass.async_block_till_done()
    discharged = site_number(hass, "battery_discharged_energy")
    assert discharged > 0
    unit_power = member_number(hass, init_vebus, "battery_power")
    venus_power = member_number(hass, init_integration, "battery_power")

    assert await hass.config_entries.async_unload(init_vebus.entry_id)
    await refresh(init_integration)
    await hass.async_block_till_done()
    assert site_number(hass, "members_answering") == 1
    assert site_number(hass, "battery_power") == pytest.approx(venus_power, abs=1)
    assert site_number(hass, "battery_power") != pytest.approx(venus_power + unit_power, abs=1)
    assert site_number(hass, "battery_discharged_energy") == discharged

    # Back again, under a new coordinator: the site follows it, and counts on from its total.
    assert await hass.config_entries.async_setup(init_vebus.entry_id)
    await hass.async_block_till_done()
    await site.runtime_data.async_refresh()  # the site's periodic look for its members
    await run_for(hass, clock, init_vebus, seconds=10)
    await hass.async_block_till_done()
    assert site_number(hass, "members_answering") == 2
    assert site_number(hass, "battery_discharged_energy") > discharged


async def test_the_totals_survive_a_reload_of_the_site(
    hass: HomeAssistant,
    clock: FakeClock,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
    hass_storage: dict[str, Any],
    vebus_simulator: VebusSimulator,
) -> None:
    members = (init_integration, init_vebus)
    discharged = await feed_the_house(hass, clock, members, vebus_simulator, seconds=20)
    assert discharged > 0

    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    assert site_number(hass, "battery_discharged_energy") == discharged
    stored = hass_storage[f"{DOMAIN}.{SITE_ENTRY_ID}"]["data"]["totals"]
    assert set(stored["members"]) == {init_integration.entry_id, init_vebus.entry_id}


async def test_a_member_taken_out_of_the_site_leaves_its_share(
    hass: HomeAssistant,
    clock: FakeClock,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
) -> None:
    members = (init_integration, init_vebus)
    discharged = await feed_the_house(hass, clock, members, vebus_simulator, seconds=20)

    hass.config_entries.async_update_entry(
        site, data={**site.data, CONF_MEMBERS: [init_integration.entry_id]}
    )
    assert await hass.config_entries.async_reload(site.entry_id)
    await hass.async_block_till_done()
    assert site_number(hass, "members_answering") == 1
    assert site_number(hass, "battery_discharged_energy") == discharged
    clock.tick(1)
    await vebus_refresh(init_vebus)  # no longer a member: the site does not count it
    await hass.async_block_till_done()
    assert site_number(hass, "battery_discharged_energy") == discharged


async def test_a_member_that_never_loaded_is_not_answering(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    await start_site(hass, make_site([init_integration.entry_id, "01JNOSUCHENTRY00000000000"]))
    assert site_number(hass, "members_answering") == 1


async def test_unloading_the_site_stops_listening_to_the_members(
    hass: HomeAssistant,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
) -> None:
    battery: MarstekCoordinator = init_integration.runtime_data
    unit: VebusCoordinator = init_vebus.runtime_data
    before = (len(battery._listeners), len(unit._listeners))
    assert await hass.config_entries.async_unload(site.entry_id)
    assert site.state is ConfigEntryState.NOT_LOADED
    assert (len(battery._listeners), len(unit._listeners)) == (
        before[0] - 1,
        before[1] - 1,
    )


async def test_diagnostics_say_which_members_contributed(
    hass: HomeAssistant,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
) -> None:
    assert await hass.config_entries.async_unload(init_vebus.entry_id)
    await refresh(init_integration)
    await hass.async_block_till_done()
    diagnostics = await async_get_config_entry_diagnostics(hass, site)
    members = {member["entry_id"]: member for member in diagnostics["members"]}
    assert members[init_integration.entry_id]["kind"] == "marstek"
    assert members[init_integration.entry_id]["loaded"] is True
    assert members[init_vebus.entry_id]["loaded"] is False
    assert diagnostics["power_from"] == [init_integration.entry_id]
    assert diagnostics["grid_power_w"] == 250
    assert diagnostics["entry"]["title"] == "**REDACTED**"


async def test_silent_members_leave_the_site_values_until_they_answer(
    hass: HomeAssistant,
    site: MockConfigEntry,
    init_integration: MockConfigEntry,
    init_vebus: MockConfigEntry,
    simulator: MarstekSimulator,
    vebus_simulator: VebusSimulator,
) -> None:
    """A battery off the LAN and a unit asleep: their entities and their share go away."""
    with patch("custom_components.vebus_marstek.vebus.client.SILENCE_MEANS_ASLEEP_S", 0.5):
        simulator.faults.silent = True
        vebus_simulator.faults.asleep = True
        await refresh(init_integration, 3)
        await vebus_refresh(init_vebus, 3)
        await hass.async_block_till_done()
        assert site_number(hass, "members_answering") == 0
        assert site_value(hass, "battery_power") == STATE_UNKNOWN
        assert site_value(hass, "soc") == STATE_UNKNOWN

        simulator.faults.silent = False
        vebus_simulator.faults.asleep = False
        await refresh_members(hass, init_integration, init_vebus)
        assert site_number(hass, "members_answering") == 2


async def test_a_site_is_never_a_member_of_a_site(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Entries edited by hand cannot nest sites: the inner one counts as not answering."""
    inner = make_site_entry("01JTESTINNERSITE0000000000", [init_integration.entry_id])
    await start_site(hass, inner)
    await start_site(hass, make_site([init_integration.entry_id, inner.entry_id]))
    assert site_number(hass, "members_answering") == 1
