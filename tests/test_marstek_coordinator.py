"""Marstek polling: tiers, outages, energy totals that survive restarts, firmware changes."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
import logging
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.vebus_marstek.const import DOMAIN
from custom_components.vebus_marstek.marstek.pv_units import EVIDENCE_READINGS
from simulators.marstek import JsonObject, MarstekSimulator, Mode
import simulators.marstek.simulator as simulator_module

from .conftest import FakeClock, refresh, refresh_all_tiers

SOC = "sensor.venus_e_3_0_1ec6_state_of_charge"
GRID_INPUT = "sensor.venus_e_3_0_1ec6_grid_input_energy"
DISCHARGED = "sensor.venus_e_3_0_1ec6_battery_discharged_energy"


async def asked_in_a_cycle(entry: MockConfigEntry, simulator: MarstekSimulator) -> list[str]:
    """The requests one polling cycle sends, retries included."""
    simulator.requests.clear()
    await refresh(entry)
    return [request.method for request in simulator.requests]


@pytest.mark.usefixtures("clock")
async def test_tiers_spread_lower_requests(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """At most two lower-tier requests per cycle; unsupported methods are never asked."""
    assert simulator.requests_for("PV.GetStatus") == []  # a Venus E 3.0 has no PV inputs
    first_cycle = [r.method for r in simulator.requests if r.method != "Marstek.GetDevice"]
    assert first_cycle == [
        "ES.GetStatus",
        "ES.GetMode",
        "EM.GetStatus",
        "Bat.GetStatus",
        "Wifi.GetStatus",
    ]
    assert await asked_in_a_cycle(init_integration, simulator) == [
        "ES.GetStatus",
        "ES.GetMode",
        "EM.GetStatus",
        "BLE.GetStatus",
    ]
    assert await asked_in_a_cycle(init_integration, simulator) == [
        "ES.GetStatus",
        "ES.GetMode",
        "EM.GetStatus",
    ]


async def test_unavailable_after_three_failed_cycles(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
    caplog: pytest.LogCaptureFixture,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Short outages keep the last values; the third silent cycle makes entities unavailable."""
    caplog.set_level(logging.INFO)
    simulator.faults.silent = True
    # The first silent cycle asks everything it meant to ask (one attempt each in tests);
    # while the battery stays silent, a cycle asks one question instead of all of them.
    first_silent_cycle = await asked_in_a_cycle(init_integration, simulator)
    assert first_silent_cycle == ["ES.GetStatus", "ES.GetMode", "EM.GetStatus", "BLE.GetStatus"]
    assert await asked_in_a_cycle(init_integration, simulator) == ["ES.GetStatus"]
    assert hass.states.get(SOC).state == "57.0"
    await refresh(init_integration)
    assert hass.states.get(SOC).state == STATE_UNAVAILABLE
    await refresh(init_integration, 2)
    assert caplog.text.count("Error fetching") == 1
    assert "has not answered for 3 polling cycles" in caplog.text
    # The API-silent repair comes after about ten minutes (20 cycles at 30 s).
    coordinator = init_integration.runtime_data
    issue_id = coordinator.api_silent_issue_id
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    await refresh(init_integration, 15)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "api_silent"

    simulator.faults.silent = False
    await refresh(init_integration)
    assert hass.states.get(SOC).state == "57.0"
    assert caplog.text.count("data recovered") == 1
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_a_method_that_never_answers_does_not_keep_a_battery_unavailable(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """Firmware that ignores ES.GetStatus still comes back after an outage."""
    simulator.faults.unanswered_methods = frozenset({"ES.GetStatus"})
    coordinator = init_integration.runtime_data
    coordinator.client.stats.clear()  # as if ES.GetStatus had never answered
    simulator.faults.silent = True
    await refresh(init_integration, 3)
    assert hass.states.get(SOC).state == STATE_UNAVAILABLE
    simulator.faults.silent = False
    # ES.GetStatus goes unanswered, so the cycle goes on; ES.GetMode's answer revives it.
    asked = await asked_in_a_cycle(init_integration, simulator)
    assert asked[-2:] == ["ES.GetMode", "EM.GetStatus"]
    assert coordinator.last_update_success
    assert hass.states.get(SOC).state != STATE_UNAVAILABLE


@pytest.mark.usefixtures("clock")
async def test_totals_never_decrease(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """A transient zero or a missing reply does not lower a lifetime total."""
    await refresh(init_integration)
    before = float(hass.states.get(GRID_INPUT).state)
    simulator.state.grid_input_wh = 0.0
    await refresh(init_integration)
    assert float(hass.states.get(GRID_INPUT).state) == before
    simulator.state.grid_input_wh = 123_460.0
    simulator.faults.loss = 1.0
    await refresh(init_integration)
    assert float(hass.states.get(GRID_INPUT).state) == before
    simulator.faults.loss = 0.0
    await refresh(init_integration)
    assert float(hass.states.get(GRID_INPUT).state) == pytest.approx(123.46)


async def test_totals_and_settings_survive_reload(
    hass: HomeAssistant,
    clock: FakeClock,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
    hass_storage: dict[str, Any],
) -> None:
    """Energy totals and write-only settings come back after a reload."""
    simulator.set_ground_truth(mode=Mode.PASSIVE)
    simulator.state.passive_power_w = 720.0
    simulator.state.passive_remaining_s = 3600.0
    await refresh(init_integration)
    clock.tick(30)
    await refresh(init_integration)
    await hass.services.async_call(
        "number",
        "set_value",
        {"entity_id": "number.venus_e_3_0_1ec6_depth_of_discharge", "value": 60},
        True,
    )
    discharged = float(hass.states.get(DISCHARGED).state)
    assert discharged == pytest.approx(0.006, abs=0.0005)

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    stored = hass_storage[f"{DOMAIN}.{init_integration.entry_id}"]["data"]
    assert stored["settings"]["dod"] == 60
    assert stored["battery"]["positive_wh"] == pytest.approx(6.0)

    simulator.faults.silent = False
    simulator.state.grid_input_wh = 0.0  # the first reading after the restart is a glitch
    assert await hass.config_entries.async_setup(init_integration.entry_id)
    await hass.async_block_till_done()
    assert float(hass.states.get(DISCHARGED).state) == discharged
    assert float(hass.states.get(GRID_INPUT).state) == pytest.approx(123.45)
    assert hass.states.get("number.venus_e_3_0_1ec6_depth_of_discharge").state == "60.0"


async def test_corrupt_storage_starts_empty(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MarstekSimulator,
    hass_storage: dict[str, Any],
) -> None:
    """Unreadable stored values are ignored, not fatal."""
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}"] = {
        "version": 1,
        "minor_version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}",
        "data": {"totals": {"grid_input": "x"}, "battery": {}, "settings": {"dod": "high"}},
    }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get("number.venus_e_3_0_1ec6_depth_of_discharge").state == "unknown"


async def test_firmware_change_reloads(
    hass: HomeAssistant,
    clock: FakeClock,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
) -> None:
    """A new firmware version re-decides capabilities: the entry is set up again."""
    simulator.profile = dataclasses.replace(simulator.profile, ver=151)
    clock.tick(301)
    await refresh_all_tiers(hass, init_integration)
    await hass.async_block_till_done()
    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.identity.firmware == 151
    assert hass.states.get("sensor.venus_e_3_0_1ec6_firmware").state == "151"


async def test_polling_waits_for_writes(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """While a write holds the battery, a cycle returns the last data without asking."""
    device = init_integration.runtime_data.client
    device._writing += 1  # as during a write
    simulator.requests.clear()
    await refresh(init_integration)
    device._writing -= 1
    assert simulator.requests == []
    assert init_integration.runtime_data.last_update_success


async def test_busy_and_staggered(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """A busy answer still proves the battery is there; batteries start a little apart."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={**mock_config_entry.options, "request_spacing": 0.01}
    )
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    simulator.faults.busy_next = 2  # ES.GetStatus: busy, retried once, busy again
    await refresh(mock_config_entry)
    coordinator = mock_config_entry.runtime_data
    assert coordinator.last_update_success
    assert coordinator.failed_cycles == 0


async def test_write_error_reply(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """An error answer to a write becomes a translated error."""
    simulator.faults.busy_next = 2
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            "switch", "turn_off", {"entity_id": "switch.venus_e_3_0_1ec6_led"}, True
        )
    assert err.value.translation_key == "device_error"


async def test_remove_entry_forgets_storage(
    hass: HomeAssistant, init_integration: MockConfigEntry, hass_storage: dict[str, Any]
) -> None:
    """Removing the entry deletes its stored totals."""
    key = f"{DOMAIN}.{init_integration.entry_id}"
    assert await hass.config_entries.async_unload(init_integration.entry_id)
    assert key in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert key not in hass_storage


@pytest.mark.parametrize("profile", ["venus-a"])
async def test_method_missing_on_firmware(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """A method the firmware lacks is asked once, then no more; its sensors stay unknown."""
    simulator.profile = dataclasses.replace(
        simulator.profile, capabilities=simulator.profile.capabilities - {"PV.GetStatus"}
    )
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    await refresh(mock_config_entry, 3)
    assert len(simulator.requests_for("PV.GetStatus")) == 1
    assert hass.states.get("sensor.venus_e_3_0_1ec6_pv_power").state == "unknown"
    assert hass.states.get("sensor.venus_e_3_0_1ec6_pv_1_power").state == "unknown"


@pytest.mark.parametrize("profile", ["venus-a"])
async def test_battery_power_is_back_with_the_first_answer_after_an_outage(
    clock: FakeClock,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
) -> None:
    """A Venus A's battery power needs a fresh PV reading; it is not queued behind others."""
    battery_power = "sensor.venus_e_3_0_1ec6_battery_power"
    await refresh_all_tiers(hass, init_integration)
    assert hass.states.get(battery_power).state not in ("unknown", STATE_UNAVAILABLE)
    simulator.faults.silent = True
    clock.tick(400)  # every lower tier is due by now: all of them wait for the battery
    with patch("custom_components.vebus_marstek.marstek.client.PV_MAX_AGE_S", 0.3):
        await refresh(init_integration, 3)
        assert hass.states.get(battery_power).state == STATE_UNAVAILABLE
        await asyncio.sleep(0.4)  # the last PV reading is too old to derive a power from
        simulator.faults.silent = False
        clock.tick(30)
        asked = await asked_in_a_cycle(init_integration, simulator)
    assert asked[0] == "PV.GetStatus"
    assert hass.states.get(battery_power).state not in ("unknown", STATE_UNAVAILABLE)


@pytest.mark.parametrize("profile", ["venus-a"])
async def test_a_pv1_in_watts_is_asked_about_and_then_read_as_told(
    clock: FakeClock,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MarstekSimulator,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A firmware reporting PV 1 in watts (none seen yet): the user is asked, never guessed."""
    encoding = dataclasses.replace(simulator.profile.encoding, pv1_w_per_raw=1.0)
    simulator.profile = dataclasses.replace(simulator.profile, encoding=encoding)
    simulator.set_ground_truth(pv_w=[120.0, 100.0, 110.0, 0.0])
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    pv1 = "sensor.venus_e_3_0_1ec6_pv_1_power"
    issue_id = f"pv1_in_watts_{mock_config_entry.entry_id}"
    for _ in range(EVIDENCE_READINGS - 2):  # the first cycle, at setup, read PV once
        clock.tick(61)  # PV.GetStatus is due every 60 s
        await refresh(mock_config_entry)
    assert float(hass.states.get(pv1).state) == pytest.approx(12.0)  # read in tenths
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None
    clock.tick(61)
    await refresh(mock_config_entry)
    issue = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert issue is not None
    assert issue.translation_key == "pv1_in_watts"

    # The user compares with the Marstek app and switches the option on.
    flow = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    await hass.config_entries.options.async_configure(
        flow["flow_id"],
        {
            "fast_interval": 30,
            "medium_interval": 60,
            "slow_interval": 300,
            "request_spacing": 2,
            "pv1_in_watts": True,
        },
    )
    await hass.async_block_till_done()
    assert mock_config_entry.options["pv1_in_watts"] is True
    assert float(hass.states.get(pv1).state) == pytest.approx(120.0)
    assert issue_registry.async_get_issue(DOMAIN, issue_id) is None


async def test_state_of_charge_is_held_through_bms_zeros(
    clock: FakeClock,
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
) -> None:
    """A BMS that stops talking reads 0 %: the last reading stays, for ten minutes at most."""
    remaining = "sensor.venus_e_3_0_1ec6_remaining_capacity"
    await refresh_all_tiers(hass, init_integration)
    stored = hass.states.get(remaining).state
    assert float(stored) > 0
    simulator.faults.bms_zeros = True
    clock.tick(301)  # Bat.GetStatus, the source of the remaining capacity, is due again
    asked = await asked_in_a_cycle(init_integration, simulator)
    assert {"ES.GetStatus", "Bat.GetStatus"} <= set(asked)
    assert hass.states.get(SOC).state == "57.0"
    assert hass.states.get(remaining).state == stored
    clock.tick(301)
    await refresh(init_integration)
    assert hass.states.get(SOC).state == "0.0"


@pytest.mark.parametrize("profile", ["venus-e2"])
async def test_unknown_mode_and_idle(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """A mode this firmware does not offer shows as unknown; no power flow is idle."""
    simulator.state.house_load_w = 0.0
    simulator.set_ground_truth(mode=Mode.UPS)
    await refresh(init_integration)
    assert hass.states.get("select.venus_e_3_0_1ec6_operating_mode").state == "unknown"
    assert hass.states.get("sensor.venus_e_3_0_1ec6_battery_state").state == "idle"


async def test_unavailable_and_back_as_time_passes(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    simulator: MarstekSimulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Driven by the coordinator's own schedule: silent for three intervals, then back."""
    caplog.set_level(logging.INFO)
    interval = init_integration.runtime_data.update_interval
    assert interval == timedelta(seconds=30)
    simulator.faults.silent = True
    for passed, expected in ((1, "57.0"), (2, "57.0"), (3, STATE_UNAVAILABLE)):
        # Fires the scheduled poll; the request timeouts then run in real time.
        async_fire_time_changed(hass, dt_util.utcnow() + interval * passed)
        await hass.async_block_till_done(wait_background_tasks=True)
        assert hass.states.get(SOC).state == expected
    simulator.faults.silent = False
    async_fire_time_changed(hass, dt_util.utcnow() + interval * 4)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SOC).state == "57.0"
    assert caplog.text.count("Error fetching") == 1
    assert caplog.text.count("data recovered") == 1


# --- CT readings from ES.GetMode --------------------------------------------------------------

CT_SENSORS = {
    "a_power": "sensor.venus_e_3_0_1ec6_ct_phase_a_power",
    "b_power": "sensor.venus_e_3_0_1ec6_ct_phase_b_power",
    "c_power": "sensor.venus_e_3_0_1ec6_ct_phase_c_power",
    "total_power": "sensor.venus_e_3_0_1ec6_ct_total_power",
}
CT_CONNECTED = "binary_sensor.venus_e_3_0_1ec6_ct_meter_connected"


def ct_states(hass: HomeAssistant) -> dict[str, str]:
    """What the CT sensors show, by the wire key they stand for."""
    return {key: hass.states.get(entity_id).state for key, entity_id in CT_SENSORS.items()}


def ct_readings(hass: HomeAssistant) -> dict[str, float]:
    return {key: float(state) for key, state in ct_states(hass).items()}


def ct_reply(simulator: MarstekSimulator, method: str) -> dict[str, float]:
    """The CT values of a method's reply, as the battery sends them now."""
    result = simulator.wire_result(method)
    assert result is not None
    values = {key: result[key] for key in CT_SENSORS}
    return {key: float(value) for key, value in values.items() if isinstance(value, int | float)}


def house_imports(simulator: MarstekSimulator) -> None:
    """The battery charges from the grid, so the CT reads a non-zero import on every phase."""
    simulator.set_ground_truth(mode=Mode.PASSIVE)
    simulator.state.passive_power_w = -1200.0
    simulator.state.passive_remaining_s = 3600.0


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.parametrize("profile", ["venus-e3-148-ct-in-mode"])
async def test_ct_from_es_getmode_when_em_is_missing(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """EM.GetStatus is "method not found": the CT entities show ES.GetMode's CT values,
    and follow its ct_state (0 hides them again)."""
    house_imports(simulator)
    await set_up(hass, mock_config_entry)
    await refresh(mock_config_entry)
    assert len(simulator.requests_for("EM.GetStatus")) == 1  # not found: never asked again
    from_mode = ct_reply(simulator, "ES.GetMode")
    assert from_mode["total_power"] == 1500  # 300 W house load + 1200 W charging
    assert ct_readings(hass) == from_mode
    assert hass.states.get(CT_CONNECTED).state == STATE_ON

    simulator.set_ground_truth(ct_connected=False)  # ct_state 0, zero phases
    await refresh(mock_config_entry)
    assert set(ct_states(hass).values()) == {STATE_UNKNOWN}
    assert hass.states.get(CT_CONNECTED).state == STATE_UNKNOWN

    simulator.set_ground_truth(ct_connected=True)
    await refresh(mock_config_entry)
    assert ct_readings(hass) == from_mode


@pytest.mark.parametrize("em", ["unsupported", "silent"])
async def test_placeholder_zeros_of_es_getmode_are_never_shown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MarstekSimulator,
    em: str,
) -> None:
    """Venus E 3.0 150 sends ct_state 0 and zeros in ES.GetMode; without EM.GetStatus the
    CT entities stay unknown rather than show those zeros."""
    house_imports(simulator)
    if em == "unsupported":
        simulator.profile = dataclasses.replace(
            simulator.profile, capabilities=simulator.profile.capabilities - {"EM.GetStatus"}
        )
    else:
        simulator.faults.unanswered_methods = frozenset({"EM.GetStatus"})
    mode = simulator.wire_result("ES.GetMode")
    assert mode is not None
    assert (mode["ct_state"], mode["total_power"]) == (0, 0)
    await set_up(hass, mock_config_entry)
    await refresh(mock_config_entry, 2)
    assert set(ct_states(hass).values()) == {STATE_UNKNOWN}
    assert hass.states.get(CT_CONNECTED).state == STATE_UNKNOWN


@pytest.mark.parametrize("profile", ["venus-a"])
async def test_em_reply_wins_over_es_getmode(
    hass: HomeAssistant, init_integration: MockConfigEntry, simulator: MarstekSimulator
) -> None:
    """Both methods report the CT: EM.GetStatus is shown whenever it answers, ES.GetMode's
    values only in a cycle in which EM.GetStatus went unanswered."""
    house_imports(simulator)
    em_result = simulator_module.em_result

    def em_with_its_own_total(*args: Any) -> JsonObject:
        result = em_result(*args)
        total = result["total_power"]
        assert isinstance(total, int)
        return result | {"total_power": total + 7}  # the meter's own total, not the phase sum

    with patch.object(simulator_module, "em_result", em_with_its_own_total):
        await refresh(init_integration)
        from_em = ct_reply(simulator, "EM.GetStatus")
        from_mode = ct_reply(simulator, "ES.GetMode")
        assert from_em["total_power"] == from_mode["total_power"] + 7
        assert ct_readings(hass) == from_em

        simulator.faults.unanswered_methods = frozenset({"EM.GetStatus"})
        await refresh(init_integration)
        assert ct_readings(hass) == from_mode

        simulator.faults.unanswered_methods = frozenset()
        await refresh(init_integration)
        assert ct_readings(hass) == from_em
