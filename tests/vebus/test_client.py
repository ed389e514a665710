"""The VE.Bus client against the independent MK3 + MultiPlus simulator."""

from __future__ import annotations

import asyncio

import pytest

from custom_components.vebus_marstek.vebus import (
    RamVar,
    Setting,
    SwitchMode,
    VebusConnectionError,
    VebusInvalidValueError,
    VebusUnitAsleepError,
    VebusUnsupportedError,
    client as client_module,
    input_power,
    output_power,
    soc,
)

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]

MODELS = ["multiplus-12-500", "multiplus-24-3000", "multiplus-ii-48-3000"]


def _letters(sim) -> list[str | None]:
    return [frame.command for frame in sim.frames_received]


async def test_session_start(start_vebus, client_for) -> None:
    """Start-up per the reference: version, address, 'S' with the reply format, scales."""
    sim, url = await start_vebus()
    client = client_for(url)
    unit = await client.connect()
    assert unit.mk_version == 1170212
    assert unit.serial_number == "HQ2132ABCDE"
    assert unit.phases == (1,)
    assert unit.ess_setpoint_id == 131  # header 0x0054 at RAM id 130
    assert unit.battery_monitor
    assert unit.firmware
    assert _letters(sim)[:3] == ["V", "A", "S"]
    s_frame = sim.frames_received[2]
    assert len(s_frame.args) == 7  # the 7-byte 'S': no EEPROM-flags byte
    assert not sim.dangerous
    assert not sim.eeprom_writes


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reply_format", ["long", "short"])
async def test_values_match_the_unit(start_vebus, client_for, model, reply_format) -> None:
    sim, url = await start_vebus(model=model, reply_format=reply_format)
    sim.set_ground_truth(ac_load_w=1200.0, soc=0.6)
    client = client_for(url, short_replies=reply_format == "short")
    unit = await client.connect()
    status = await client.read_status()
    truth = sim.truth()
    phase = status.phases[1]
    assert phase.input_voltage == pytest.approx(truth.ac_input_voltage, abs=0.1)
    assert phase.input_current == pytest.approx(truth.ac_input_current, abs=0.1)
    assert phase.input_frequency == pytest.approx(
        truth.ac_input_frequency, abs=0.2
    )  # the period travels as one byte: ~0.13 Hz steps
    assert phase.output_voltage == pytest.approx(truth.ac_output_voltage, abs=0.1)
    assert phase.output_current == pytest.approx(truth.ac_output_current, abs=0.1)
    assert status.output_frequency == pytest.approx(
        truth.ac_output_frequency, abs=0.2
    )  # the period travels as one byte: ~0.13 Hz steps
    assert status.battery_voltage == pytest.approx(truth.battery_voltage, abs=0.02)
    assert status.battery_current == pytest.approx(truth.battery_current, abs=0.1)
    # + = discharging for Home Assistant; the simulator's battery_power is V x I (+ charging).
    assert status.battery_power == pytest.approx(-truth.battery_power, abs=5)
    assert input_power(status) == pytest.approx(truth.ac_input_power, abs=2)
    assert output_power(status) == pytest.approx(truth.ac_output_power, abs=2)
    assert soc(status) == pytest.approx(truth.soc * 100, abs=0.5)
    assert status.device_state.state == truth.state
    assert status.device_state.charge_state == truth.charge_state
    assert status.leds.states() == dict(truth.leds)
    assert status.input_config.current_limit == truth.input_current_limit
    assert status.input_config.minimum == truth.input_current_limit_min
    assert status.input_config.maximum == truth.input_current_limit_max
    assert status.switch_mode.value == truth.switch_mode
    assert (unit.ess_setpoint_id is not None) == (status.ess_setpoint is not None)
    assert not sim.dangerous


async def test_discharging_without_grid(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    sim.set_ground_truth(grid_available=False, ac_load_w=800.0)
    client = client_for(url)
    await client.connect()
    status = await client.read_status()
    truth = sim.truth()
    assert truth.battery_current < 0
    assert status.battery_current == pytest.approx(truth.battery_current, abs=0.1)
    assert status.battery_power > 0  # discharging is positive
    assert status.device_state.state == truth.state


async def test_three_phases_are_probed(start_vebus, client_for) -> None:
    sim, url = await start_vebus(phases=3)
    sim.set_ground_truth(ac_load_w=3000.0)
    client = client_for(url)
    unit = await client.connect()
    assert unit.phases == (1, 2, 3)
    status = await client.read_status()
    assert sorted(status.phases) == [1, 2, 3]


async def test_without_battery_monitor_or_ess(start_vebus, client_for) -> None:
    _, url = await start_vebus(model="multiplus-12-500", battery_monitor=False, ess=False)
    client = client_for(url)
    unit = await client.connect()
    assert not unit.battery_monitor
    assert unit.ess_setpoint_id is None
    status = await client.read_status()
    assert RamVar.SOC not in status.ram
    assert status.ess_setpoint is None
    with pytest.raises(VebusUnsupportedError):
        await client.set_ess_setpoint(100)


async def test_led_appended_frames_and_unsolicited_traffic(start_vebus, client_for) -> None:
    """Another tool left LED-appending on; version frames and raw VE.Bus frames flow."""
    sim, url = await start_vebus(led_appended=True, version_interval_s=0.05)
    sim.faults.stray_zero_bytes = True
    sim.faults.unsolicited_vebus_frames = True
    client = client_for(url)
    await client.connect()
    for _ in range(3):
        status = await client.read_status()
        assert status.battery_voltage == pytest.approx(sim.truth().battery_voltage, abs=0.02)
    assert client.connection.counters.unsolicited > 0


async def test_garbage_corruption_and_dropped_replies_are_survived(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    sim.faults.garbage_next = bytes.fromhex("FF FF 20 00 12 FF 07")
    assert (await client.read_leds()).on is not None
    sim.faults.corrupt_next = 1
    assert (await client.read_dc_info()).voltage > 0
    sim.faults.drop_next = 1
    assert (await client.read_device_state()).state is not None
    counters = client.connection.parser.counters
    assert counters.checksum_errors + counters.resyncs > 0
    assert client.connection.counters.timeouts >= 1


async def test_a_sleeping_unit_is_reported_and_the_session_restarts(
    start_vebus, client_for
) -> None:
    sim, url = await start_vebus()
    client = client_for(url, attempts=1)
    await client.connect()
    sim.faults.asleep = True
    client_module.SILENCE_MEANS_ASLEEP_S, saved = 0.2, client_module.SILENCE_MEANS_ASLEEP_S
    try:
        await asyncio.sleep(0.25)
        with pytest.raises(VebusUnitAsleepError):
            await client.read_dc_info()
    finally:
        client_module.SILENCE_MEANS_ASLEEP_S = saved
    sim.faults.asleep = False
    await client.ensure_session()
    assert client.reinitialisations == 1
    assert (await client.read_dc_info()).voltage > 0


async def test_a_unit_reset_starts_a_new_session(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    sim.faults.reset()
    await asyncio.sleep(0.2)  # the boot frame arrives
    await client.ensure_session()
    assert client.reinitialisations == 1
    assert _letters(sim).count("A") == 2


async def test_the_port_disappearing_and_coming_back(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    sim.faults.disconnect()
    await asyncio.sleep(0.1)
    with pytest.raises(VebusConnectionError):
        await client.read_dc_info()
    await client.ensure_session()  # reopens the port and starts again
    assert (await client.read_dc_info()).voltage > 0


async def test_a_port_that_cannot_be_opened(client_for) -> None:
    client = client_for("socket://127.0.0.1:9")
    with pytest.raises(VebusConnectionError, match="cannot open"):
        await client.connect()


async def test_the_pty_transport(client_for) -> None:
    from simulators.vebus import VebusSimulator

    sim = VebusSimulator(pace=False)
    path = await sim.start_pty()
    try:
        client = client_for(path)
        unit = await client.connect()
        assert unit.mk_version == 1170212
        assert (await client.read_dc_info()).voltage > 0
    finally:
        await sim.stop()


async def test_switch_mode_and_current_limit(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    await client.set_switch_mode(SwitchMode.CHARGER_ONLY, 16.0)
    truth = sim.truth()
    assert (truth.switch_mode, truth.input_current_limit) == ("charger_only", 16.0)
    await client.set_input_current_limit(10.0)
    truth = sim.truth()
    assert (truth.switch_mode, truth.input_current_limit) == ("charger_only", 10.0)
    await client.set_switch_mode(SwitchMode.ON)  # keeps the limit
    truth = sim.truth()
    assert (truth.switch_mode, truth.input_current_limit) == ("on", 10.0)
    sent = len(sim.frames_received)
    with pytest.raises(VebusInvalidValueError, match=r"3\.0\.\.32\.0 A"):
        await client.set_input_current_limit(50.0)
    assert "S" not in _letters(sim)[sent:]
    assert not sim.dangerous


async def test_ess_setpoint_is_ram_only_and_kept_alive(
    start_vebus, client_for, monkeypatch
) -> None:
    monkeypatch.setattr(client_module, "ESS_KEEPALIVE_S", 0.05)
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    await client.hold_ess_setpoint(-400)
    assert sim.truth().ess_setpoint == -400
    assert client.ess_target == -400
    writes = sum(1 for f in sim.frames_received if f.winmon == 0x37)
    await asyncio.sleep(0.2)
    assert sum(1 for f in sim.frames_received if f.winmon == 0x37) > writes + 1
    assert all(f.args[0] & 0x02 for f in sim.frames_received if f.winmon == 0x37)
    await client.release_ess_setpoint()
    assert sim.truth().ess_setpoint == 0
    assert client.ess_target is None
    await client.hold_ess_setpoint(300, duration_s=0.1)
    await asyncio.sleep(0.3)
    assert sim.truth().ess_setpoint == 0  # the duration ended
    await client.hold_ess_setpoint(250)
    await client.close()  # closing releases it
    assert sim.truth().ess_setpoint == 0
    assert not sim.eeprom_writes
    with pytest.raises(VebusInvalidValueError):
        await client.set_ess_setpoint(40000)


async def test_settings_go_to_ram_unless_persisted(start_vebus, client_for, monkeypatch) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    info = await client.read_setting_info(Setting.CHARGE_CURRENT)
    low, high = info.min_value, info.max_value
    target = round((low + high) / 2)
    assert await client.set_setting(Setting.CHARGE_CURRENT, target)
    assert [w.setting_id for w in sim.ram_writes] == [Setting.CHARGE_CURRENT]
    assert not sim.eeprom_writes
    assert await client.set_setting(Setting.CHARGE_CURRENT, target, persist=True)
    assert [(w.setting_id, w.raw) for w in sim.eeprom_writes] == [
        (Setting.CHARGE_CURRENT, info.raw(target))
    ]
    assert await client.read_setting(Setting.CHARGE_CURRENT) == target
    # The same value again: nothing is written.
    assert not await client.set_setting(Setting.CHARGE_CURRENT, target, persist=True)
    # A different value within a minute: refused, protecting the EEPROM.
    with pytest.raises(VebusInvalidValueError, match="less than a minute"):
        await client.set_setting(Setting.CHARGE_CURRENT, target + 1, persist=True)
    sent = len(sim.frames_received)
    with pytest.raises(VebusInvalidValueError):
        await client.set_setting(Setting.CHARGE_CURRENT, high + 100)
    assert len(sim.frames_received) == sent  # nothing sent
    assert len(sim.eeprom_writes) == 1


async def test_flag_writes_keep_the_wave_check_twin(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    await client.set_flag(3, True)  # disable wave check (UPS function off)
    flags0 = [w.raw for w in sim.ram_writes if w.setting_id == Setting.FLAGS0][-1]
    assert flags0 >> 3 & 1 == 1
    assert flags0 >> 7 & 1 == 0
    await client.set_flag(3, False)
    flags0 = [w.raw for w in sim.ram_writes if w.setting_id == Setting.FLAGS0][-1]
    assert (flags0 >> 3 & 1, flags0 >> 7 & 1) == (0, 1)
    assert not sim.dangerous


async def test_standby_line_is_set_and_reapplied(start_vebus, client_for) -> None:
    sim, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    await client.set_standby(True)
    h_frames = [f for f in sim.frames_received if f.command == "H" and f.args]
    assert h_frames[-1].args[0] & 0x02
    sim.faults.asleep = True
    sim.faults.asleep = False  # the MK3 lost power: its lines are back to defaults
    sim.faults.reset()
    await asyncio.sleep(0.2)
    await client.ensure_session()
    h_frames = [f for f in sim.frames_received if f.command == "H" and f.args]
    assert len(h_frames) == 2
    assert h_frames[-1].args[0] & 0x02


async def test_reads_of_individual_values(start_vebus, client_for) -> None:
    _, url = await start_vebus()
    client = client_for(url)
    await client.connect()
    values = await client.read_ram_vars([RamVar.SOC, RamVar.INPUT_POWER, 200, RamVar.SOC])
    assert RamVar.SOC in values
    assert 200 not in values  # not a RAM variable of this unit: left out and remembered
    assert await client.read_setting_or_none(9999) is None
    assert await client.read_output_frequency() == pytest.approx(
        50.0, abs=0.2
    )  # the period travels as one byte: ~0.13 Hz steps
    assert await client.read_phase(4) is None
