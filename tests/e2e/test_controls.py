"""Selects, numbers, switches and actions called over REST change the simulated devices."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import pytest

from e2e.client import HassApiError, Json
from e2e.flows import DOMAIN
from e2e.loop_thread import LoopThread
from e2e.waiting import Check, eventually
from simulators.marstek import ManualSlot, Mode

from .conftest import MARSTEK_CYCLE_S, VEBUS_CYCLE_S, Battery, Run, Setup
from .expect import Expected, holds, matching

# A write goes out at once; the device's state changes when the request arrives.
WRITE_S = 10.0


def _call(setup: Setup, run: Run, service: str, data: Mapping[str, Json]) -> None:
    domain, name = service.split(".")
    run(setup.client.call_service(domain, name, data))


def _shows(setup: Setup, run: Run, entity_id: str, value: float | str, within_s: float) -> None:
    run(eventually(matching(setup.client, lambda: [Expected(entity_id, value)]), within_s))


@pytest.fixture
def venus(setup: Setup, run: Run) -> Iterator[Battery]:
    """The Venus E 3.0 (it has every setting), back in Auto mode afterwards."""
    battery = setup.batteries[0]
    yield battery
    select = battery.device.entity("mode")
    _call(setup, run, "select.select_option", {"entity_id": select, "option": "auto"})
    run(eventually(holds(lambda: battery.sim.state.mode is Mode.AUTO, "auto mode"), WRITE_S))


def test_operating_mode_select(setup: Setup, run: Run, venus: Battery) -> None:
    select = venus.device.entity("mode")
    _call(setup, run, "select.select_option", {"entity_id": select, "option": "manual"})
    run(eventually(holds(lambda: venus.sim.state.mode is Mode.MANUAL, "manual mode"), WRITE_S))
    _shows(setup, run, select, "manual", MARSTEK_CYCLE_S)


def test_passive_mode_action_is_followed_within_one_cycle(
    setup: Setup, run: Run, venus: Battery
) -> None:
    data = {"device_id": venus.device.device_id, "power": -800, "duration": 600}
    _call(setup, run, f"{DOMAIN}.set_passive_mode", data)
    state = venus.sim.state
    run(
        eventually(
            holds(
                lambda: state.mode is Mode.PASSIVE and state.passive_power_w == -800,
                "passive mode charging at 800 W",
            ),
            WRITE_S,
        )
    )
    run(eventually(venus.shows_truth(setup.client), MARSTEK_CYCLE_S))


def test_manual_schedule_actions(setup: Setup, run: Run, venus: Battery) -> None:
    device_id = venus.device.device_id
    schedule = {
        "device_id": device_id,
        "slot": 2,
        "start_time": "10:00",
        "end_time": "11:30",
        "days": ["mon", "wed"],
        "power": -600,
    }
    _call(setup, run, f"{DOMAIN}.set_manual_schedule", schedule)
    written = ManualSlot(
        start_minute=600, end_minute=690, week_set=0b101, power_w=-600, enabled=True
    )
    state = venus.sim.state
    written_in_manual = holds(
        lambda: state.mode is Mode.MANUAL and state.manual_slots[2] == written,
        f"Manual mode with slot 2 = {written}",
    )
    run(eventually(written_in_manual, WRITE_S))

    _call(setup, run, f"{DOMAIN}.clear_manual_schedule", {"device_id": device_id, "slot": 2})
    run(eventually(holds(lambda: not state.manual_slots[2].enabled, "slot 2 off"), WRITE_S))


def test_invalid_action_values_are_refused_before_anything_is_sent(
    setup: Setup, run: Run, loop: LoopThread, venus: Battery
) -> None:
    def mode_writes() -> int:
        return len(venus.sim.requests_for("ES.SetMode"))

    writes_before = loop.call(mode_writes)
    data = {"device_id": venus.device.device_id, "power": -5000, "duration": 60}
    with pytest.raises(HassApiError) as refused:
        _call(setup, run, f"{DOMAIN}.set_passive_mode", data)
    assert refused.value.code == "service_validation_error"
    assert "-2500 to 2500 W" in refused.value.message
    assert loop.call(mode_writes) == writes_before


def test_depth_of_discharge_number(setup: Setup, run: Run, venus: Battery) -> None:
    number = venus.device.entity("depth_of_discharge")
    for percent in (60, 88):
        _call(setup, run, "number.set_value", {"entity_id": number, "value": percent})
        run(eventually(_depth_of_discharge_is(venus, percent), WRITE_S))
        _shows(setup, run, number, float(percent), WRITE_S)


def test_led_switch(setup: Setup, run: Run, venus: Battery) -> None:
    switch = venus.device.entity("led")
    for service, on in (("switch.turn_off", False), ("switch.turn_on", True)):
        _call(setup, run, service, {"entity_id": switch})
        run(eventually(_led_is(venus, on=on), WRITE_S))
        _shows(setup, run, switch, "on" if on else "off", WRITE_S)


def _depth_of_discharge_is(battery: Battery, percent: int) -> Check:
    return holds(lambda: battery.sim.state.dod == percent, f"depth of discharge {percent} %")


def _led_is(battery: Battery, *, on: bool) -> Check:
    return holds(lambda: battery.sim.state.led_on is on, f"LED {'on' if on else 'off'}")


@pytest.fixture
def multiplus_restored(setup: Setup, run: Run) -> Iterator[None]:
    """Switch on, the full input current limit and no ESS setpoint, afterwards."""
    yield
    data = {"device_id": setup.multiplus_device.device_id, "mode": "on", "current_limit": 32}
    _call(setup, run, f"{DOMAIN}.set_switch_mode", data)
    release = {"device_id": setup.multiplus_device.device_id, "power": 0}
    _call(setup, run, f"{DOMAIN}.set_ess_setpoint", release)


@pytest.mark.usefixtures("multiplus_restored")
def test_vebus_switch_mode_select(setup: Setup, run: Run) -> None:
    select = setup.multiplus_device.entity("switch_mode")
    _call(setup, run, "select.select_option", {"entity_id": select, "option": "charger_only"})
    truth = setup.multiplus.truth
    run(eventually(holds(lambda: truth().switch_mode == "charger_only", "charger only"), 5))
    _shows(setup, run, select, "charger_only", VEBUS_CYCLE_S)


@pytest.mark.usefixtures("multiplus_restored")
def test_vebus_input_current_limit_number(setup: Setup, run: Run) -> None:
    number = setup.multiplus_device.entity("input_current_limit")
    _call(setup, run, "number.set_value", {"entity_id": number, "value": 16})
    truth = setup.multiplus.truth
    run(eventually(holds(lambda: truth().input_current_limit == 16, "16 A input limit"), 5))
    _shows(setup, run, number, 16.0, VEBUS_CYCLE_S)


@pytest.mark.usefixtures("multiplus_restored")
def test_vebus_actions(setup: Setup, run: Run) -> None:
    device_id = setup.multiplus_device.device_id
    truth = setup.multiplus.truth
    hold = {"device_id": device_id, "power": 400, "duration": 300}
    _call(setup, run, f"{DOMAIN}.set_ess_setpoint", hold)
    run(eventually(holds(lambda: truth().ess_setpoint == 400, "ESS setpoint 400 W"), 5))
    _shows(setup, run, setup.multiplus_device.entity("ess_setpoint"), 400.0, VEBUS_CYCLE_S)

    switch = {"device_id": device_id, "mode": "inverter_only", "current_limit": 20}
    _call(setup, run, f"{DOMAIN}.set_switch_mode", switch)
    run(
        eventually(
            holds(
                lambda: (truth().switch_mode, truth().input_current_limit) == ("inverter_only", 20),
                "inverter only with a 20 A input limit",
            ),
            5,
        )
    )
