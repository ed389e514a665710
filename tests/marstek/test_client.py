"""The client against simulated batteries over real UDP: values, faults and write safety."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import socket

import pytest

from custom_components.vebus_marstek.marstek import (
    ManualSlot,
    MarstekClient,
    MarstekClosedError,
    MarstekConnectionError,
    MarstekInvalidValueError,
    MarstekMethodUnsupportedError,
    MarstekPortInUseError,
    MarstekWriteRejectedError,
    MarstekWriteUnconfirmedError,
    Method,
    OperatingMode,
    Pacing,
)
from custom_components.vebus_marstek.marstek.connection import acquire_endpoint, release_endpoint
from simulators.marstek import DANGEROUS_METHODS, PROFILES, Mode

from .conftest import TEST_PACING

pytestmark = [pytest.mark.enable_socket, pytest.mark.usefixtures("socket_enabled")]


def _methods(sim) -> list[str]:
    return [request.method for request in sim.requests]


# --- values and scaling -------------------------------------------------------------------------


@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_every_profile_reports_physical_values(start_simulator, connect, profile) -> None:
    """Each firmware's encoding decodes to the simulator's ground truth (reference B.13/B.14)."""
    sim = await start_simulator(profile)
    sim.set_ground_truth(
        soc=63.0,
        pv_w=[400.0, 150.0, 0.0, 80.0][: sim.profile.pv_channels],
        house_load_w=900.0,
        temperature_c=23.0,
    )
    sim.state.grid_input_wh = 123_400.0
    sim.state.grid_output_wh = 98_700.0
    sim.state.pv_energy_wh = 45_600.0
    truth = sim.truth()
    device = await connect()

    identity = await device.read_identity()
    assert identity.ble_mac == sim.state.ble_mac
    if device.profile.has_pv:
        pv = await device.read_pv_status()  # first: its sum is the PV term of the balance
        assert pv.total_power_w == pytest.approx(truth.pv_power_w, abs=0.5)
        assert [c.power_w for c in pv.channels] == pytest.approx(list(truth.pv_channel_w), abs=0.5)
    else:
        with pytest.raises(MarstekMethodUnsupportedError):
            await device.read_pv_status()
        assert Method.PV_STATUS not in _methods(sim)
    es = await device.read_es_status()
    battery = await device.read_battery_status()

    assert es.soc == pytest.approx(truth.soc, abs=1)
    # Home Assistant's convention: + discharging; the truth's battery_power_w is + charging.
    assert es.battery_power_w == pytest.approx(-truth.battery_power_w, abs=1)
    assert es.ongrid_power_w == pytest.approx(truth.ongrid_power_w, abs=1)
    assert es.total_grid_input_energy_wh == pytest.approx(truth.grid_input_wh, abs=100)
    assert es.total_grid_output_energy_wh == pytest.approx(truth.grid_output_wh, abs=100)
    if es.total_pv_energy_wh:  # firmware that hard-codes 0 (Venus A 147) reports 0
        assert es.total_pv_energy_wh == pytest.approx(truth.pv_energy_wh, abs=10)
    assert battery.temperature_c == pytest.approx(truth.temperature_c, abs=0.5)
    assert battery.rated_capacity_wh == truth.rated_capacity_wh
    assert battery.remaining_capacity_wh == pytest.approx(truth.remaining_wh, abs=10)
    forbidden = set(_methods(sim)) & DANGEROUS_METHODS
    assert not forbidden


@pytest.mark.parametrize(
    ("profile", "shown", "level"),
    [
        ("venus-e2-153", 25.4, logging.INFO),  # 254 in degrees is 25.4 in tenths (jaapp #18)
        ("venus-e2", None, logging.WARNING),  # 254 in tens of degrees is off by 100
    ],
)
async def test_implausible_temperature_is_logged_once_per_battery(
    start_simulator, connect, caplog: pytest.LogCaptureFixture, profile, shown, level
) -> None:
    """A BMS reporting tenths of a degree: corrected or unknown, and one log line in all."""
    base = PROFILES[profile]
    tenths = dataclasses.replace(
        base, encoding=dataclasses.replace(base.encoding, bat_temp_c_per_raw=0.1)
    )
    sim = await start_simulator(tenths)
    sim.set_ground_truth(temperature_c=25.4)
    device = await connect()
    caplog.set_level(logging.INFO, logger="custom_components.vebus_marstek.marstek.client")
    for _ in range(3):
        assert (await device.read_battery_status()).temperature_c == shown
    lines = [r for r in caplog.records if "bat_temp" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].levelno == level
    assert "sent bat_temp 254" in lines[0].getMessage()
    assert f"showing {'unknown' if shown is None else f'{shown} °C'}" in lines[0].getMessage()


async def test_a_plausible_temperature_is_not_logged(
    start_simulator, connect, caplog: pytest.LogCaptureFixture
) -> None:
    sim = await start_simulator("venus-e2")  # tens of degrees: 2.3 for 23 degC
    sim.set_ground_truth(temperature_c=23.0)
    device = await connect()
    caplog.set_level(logging.DEBUG, logger="custom_components.vebus_marstek.marstek.client")
    assert (await device.read_battery_status()).temperature_c == 23.0
    assert "bat_temp" not in caplog.text


async def test_battery_power_is_unknown_without_a_fresh_pv_reading(
    start_simulator, connect
) -> None:
    """Venus A 147 hard-codes ES pv_power to 0: a balance without PV would be wrong."""
    sim = await start_simulator("venus-a")
    sim.set_ground_truth(pv_w=[300, 0, 0, 0], house_load_w=0)
    device = await connect()
    status = await device.read_es_status()
    assert status.battery_power_w is None
    await device.read_pv_status()
    status = await device.read_es_status()
    assert status.battery_power_w == pytest.approx(-sim.truth().battery_power_w, abs=1)


async def test_a_known_mac_is_asked_for_by_name(start_simulator, api_port) -> None:
    sim = await start_simulator("venus-e-mini")
    async with MarstekClient(
        "127.0.0.2", api_port, pacing=TEST_PACING, ble_mac=sim.state.ble_mac.upper()
    ) as device:
        identity = await device.read_identity()
    assert identity.device == "Venus E mini"
    assert [r.params for r in sim.requests] == [{"ble_mac": sim.state.ble_mac}]


async def test_ct_in_es_getmode_without_em(start_simulator, connect) -> None:
    """Venus E 3.0 148 without EM.GetStatus: ES.GetMode carries the CT reading."""
    sim = await start_simulator("venus-e3-148-ct-in-mode")
    sim.set_ground_truth(mode=Mode.PASSIVE)
    sim.state.passive_power_w = -1200.0
    sim.state.passive_remaining_s = 600.0
    truth = sim.truth()
    device = await connect()
    with pytest.raises(MarstekMethodUnsupportedError):
        await device.read_meter_status()
    assert not device.is_supported(Method.METER_STATUS)
    meter = (await device.read_mode()).meter
    assert meter is not None
    assert meter.connected is True
    assert meter.total_power_w == pytest.approx(truth.meter_total_w, abs=1)
    assert [meter.phase_a_power_w, meter.phase_b_power_w, meter.phase_c_power_w] == (
        pytest.approx(list(truth.meter_phase_w), abs=1)
    )


async def test_meter_and_mode(start_simulator, connect) -> None:
    sim = await start_simulator("venus-d")
    sim.set_ground_truth(house_load_w=1500.0, pv_w=[0, 0, 0, 0])
    truth = sim.truth()
    device = await connect()
    meter = await device.read_meter_status()
    mode = await device.read_mode()
    assert meter.connected is True
    assert meter.total_power_w == pytest.approx(truth.meter_total_w, abs=1)
    assert mode.mode is OperatingMode.AUTO
    wifi = await device.read_wifi_status()
    assert wifi.ssid == sim.state.ssid
    assert wifi.rssi_dbm == sim.state.rssi_dbm
    ble = await device.read_ble_status()
    assert ble.connected is sim.state.ble_connected


# --- transport faults ---------------------------------------------------------------------------


async def test_lost_datagrams_are_retried_for_reads(start_simulator, connect) -> None:
    sim = await start_simulator(seed=3)
    sim.faults.loss = 0.4
    device = await connect(pacing=Pacing(**{**TEST_PACING.__dict__, "read_attempts": 8}))
    for _ in range(10):
        assert (await device.read_es_status()).soc == pytest.approx(sim.state.soc, abs=1)
    stats = device.stats[Method.ES_STATUS]
    assert stats.timeouts > 0  # some were lost, all were recovered
    assert stats.replies == 10


async def test_latency_within_the_timeout_is_fine(start_simulator, connect) -> None:
    sim = await start_simulator()
    sim.faults.latency = (0.05, 0.15)
    device = await connect()
    await device.read_es_status()
    assert device.stats[Method.ES_STATUS].last_latency_s >= 0.05
    assert device.stats[Method.ES_STATUS].timeouts == 0


async def test_duplicate_replies_are_dropped(start_simulator, connect) -> None:
    sim = await start_simulator()
    sim.faults.duplicates = 2
    device = await connect()
    first = await device.read_es_status()
    second = await device.read_mode()
    await asyncio.sleep(0.05)
    assert first.soc is not None
    assert second.mode is OperatingMode.AUTO
    assert device.endpoint.counters["ignored_duplicate_or_late"] >= 2


async def test_a_late_reply_does_not_answer_a_later_request(start_simulator, connect) -> None:
    sim = await start_simulator()
    sim.faults.late_reply_delay = 0.4
    device = await connect(pacing=Pacing(**{**TEST_PACING.__dict__, "read_attempts": 1}))
    with pytest.raises(MarstekConnectionError):
        await device.read_es_status()
    sim.faults.late_reply_delay = None
    sim.set_ground_truth(mode=Mode.AI)
    mode = await device.read_mode()
    await asyncio.sleep(0.4)
    assert mode.mode is OperatingMode.AI
    assert device.endpoint.counters["ignored_duplicate_or_late"] == 1


async def test_silence_raises_after_the_allowed_attempts(start_simulator, connect) -> None:
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.silent = True
    sim.requests.clear()
    with pytest.raises(MarstekConnectionError, match=r"No reply from 127\.0\.0\.2"):
        await device.read_es_status()
    assert _methods(sim) == [Method.ES_STATUS] * TEST_PACING.read_attempts


async def test_garbage_and_foreign_replies_are_ignored(start_simulator, connect, api_port) -> None:
    """Another host cannot answer for the battery; junk does not disturb the receive loop."""
    sim = await start_simulator()
    sim.faults.latency = (0.15, 0.15)
    device = await connect()
    await device.read_identity()
    endpoint = device.endpoint
    next_id = endpoint._next_id
    forged = json.dumps({"id": next_id, "src": sim.src, "result": {"bat_soc": 1}}).encode()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as intruder:
        intruder.bind(("127.0.0.3", 0))
        request = asyncio.ensure_future(device.read_es_status())
        await asyncio.sleep(0.03)
        for payload in (forged, b"\x00\xff garbage", b"[1,2]", b'{"id":1,"method":"x"}'):
            intruder.sendto(payload, ("127.0.0.1", api_port))
        status = await request
    assert status.soc == pytest.approx(sim.state.soc, abs=1)
    assert endpoint.counters["ignored_foreign"] == 1
    assert endpoint.counters["ignored_not_json"] == 1
    assert endpoint.counters["ignored_not_object"] == 1
    assert endpoint.counters["ignored_echo"] == 1


async def test_port_in_use_names_the_port_and_the_fix(api_port) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other_program:
        other_program.bind(("0.0.0.0", api_port))
        device = MarstekClient("127.0.0.2", api_port, pacing=TEST_PACING)
        with pytest.raises(MarstekPortInUseError) as raised:
            await device.connect()
    assert raised.value.port == api_port
    assert str(api_port) in str(raised.value)
    assert "Open API port" in str(raised.value)


async def test_busy_reply_gets_one_delayed_retry(start_simulator, connect) -> None:
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.busy_next = 1
    status = await device.read_es_status()
    assert status.soc is not None
    assert device.stats[Method.ES_STATUS].busy == 1
    sim.faults.busy_next = 5
    with pytest.raises(Exception, match="-32700"):
        await device.read_es_status()


async def test_methods_the_model_lacks_are_not_sent(start_simulator, connect) -> None:
    sim = await start_simulator("venus-e3")
    device = await connect()
    assert device.is_supported(Method.PV_STATUS)  # unknown before the first GetDevice
    await device.read_identity()
    assert not device.is_supported(Method.PV_STATUS)  # the profile knows
    with pytest.raises(MarstekMethodUnsupportedError):
        await device.read_pv_status()
    assert Method.PV_STATUS not in _methods(sim)


async def test_method_not_found_is_remembered(start_simulator, connect) -> None:
    """An unknown model is asked everything once; a -32601 answer is not asked again."""
    from dataclasses import replace

    from simulators.marstek import PROFILES

    unknown_model = replace(PROFILES["venus-c-153"], device="Venus Z", src_prefix="VenusZ")
    sim = await start_simulator(unknown_model)
    device = await connect()
    await device.read_identity()
    with pytest.raises(MarstekMethodUnsupportedError) as raised:
        await device.read_meter_status()
    assert raised.value.code == -32601
    assert not device.is_supported(Method.METER_STATUS)
    sent = len(sim.requests)
    with pytest.raises(MarstekMethodUnsupportedError):
        await device.read_meter_status()
    assert len(sim.requests) == sent


async def test_two_batteries_share_one_socket(start_simulator, connect) -> None:
    first = await start_simulator("venus-e3", host="127.0.0.2")
    second = await start_simulator("venus-a", host="127.0.0.3")
    second.set_ground_truth(soc=12.0)
    first.set_ground_truth(soc=88.0)
    a = await connect("127.0.0.2")
    b = await connect("127.0.0.3")
    assert a.endpoint is b.endpoint
    results = await asyncio.gather(*(d.read_es_status() for d in (a, b, a, b, a, b)))
    assert [r.soc for r in results] == [88, 12, 88, 12, 88, 12]


async def test_endpoint_closes_with_its_last_user(api_port) -> None:
    first = await acquire_endpoint(api_port)
    second = await acquire_endpoint(api_port)
    assert first is second
    await release_endpoint(first)
    assert second.is_open
    await release_endpoint(second)
    assert not second.is_open
    with pytest.raises(MarstekClosedError, match="is closed"):
        await second.request("127.0.0.2", "ES.GetStatus", {"id": 0}, 0.1)


async def test_pacing_spaces_requests(start_simulator, connect) -> None:
    await start_simulator()
    device = await connect(pacing=Pacing(**{**TEST_PACING.__dict__, "spacing_s": 0.1}))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(4):
        await device.read_mode()
    assert loop.time() - started >= 0.3  # three gaps of at least 0.1 s


async def test_quiet_gap_after_a_reply(start_simulator, connect) -> None:
    await start_simulator()
    device = await connect(pacing=Pacing(**{**TEST_PACING.__dict__, "quiet_gap_s": 0.1}))
    loop = asyncio.get_running_loop()
    started = loop.time()
    for _ in range(3):
        await device.read_mode()
    assert loop.time() - started >= 0.2


@pytest.mark.usefixtures("invalid_names_do_not_resolve")
async def test_host_names_are_resolved(api_port) -> None:
    device = MarstekClient("localhost", api_port, pacing=TEST_PACING)
    assert await device._resolve("localhost") == "127.0.0.1"
    assert await device._resolve("192.168.001.005") == "192.168.1.5"
    with pytest.raises(MarstekConnectionError, match="name lookup"):
        await device._resolve("no-such-battery.invalid")


async def test_a_device_silent_to_get_device_for_everyone_is_still_identified(
    start_simulator, connect
) -> None:
    """The Venus E mini ignores GetDevice with ble_mac "0"; its src names its MAC."""
    sim = await start_simulator("venus-e-mini")
    device = await connect()
    identity = await device.read_identity()
    assert identity.ble_mac == sim.state.ble_mac
    assert device.ble_mac == sim.state.ble_mac
    await device.read_identity()  # now asked by MAC: answered straight away
    assert sim.requests[-1].params == {"ble_mac": sim.state.ble_mac}


# --- writes -------------------------------------------------------------------------------------


async def test_mode_write_reaches_the_device(start_simulator, connect) -> None:
    sim = await start_simulator()
    device = await connect()
    await device.set_mode(OperatingMode.AI)
    assert sim.state.mode is Mode.AI
    await device.set_mode(OperatingMode.UPS)
    assert sim.state.mode is Mode.UPS
    assert _methods(sim).count(Method.SET_MODE) == 2


async def test_rejected_write_is_retried_then_reported(start_simulator, connect) -> None:
    sim = await start_simulator()
    device = await connect()
    sim.faults.set_result_false_next = 1
    await device.set_mode(OperatingMode.AI)
    assert sim.state.mode is Mode.AI
    assert _methods(sim).count(Method.SET_MODE) == 2
    sim.faults.set_result_false_next = 10
    with pytest.raises(MarstekWriteRejectedError):
        await device.set_mode(OperatingMode.AUTO)
    assert sim.state.mode is Mode.AI


async def test_unanswered_mode_write_is_confirmed_by_reading_not_resent(
    start_simulator, connect
) -> None:
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.execute_but_drop_reply_next = 1
    await device.set_mode(OperatingMode.AI)
    assert _methods(sim).count(Method.SET_MODE) == 1  # it had worked: not sent again
    assert sim.state.mode is Mode.AI


async def test_lost_mode_write_is_sent_again_after_checking(start_simulator, connect) -> None:
    """The write never arrived: the read-back shows no change, so sending again is safe."""
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.loss = 1.0
    writing = asyncio.ensure_future(device.set_mode(OperatingMode.AI))
    await asyncio.sleep(0.05)  # well inside the 0.3 s write timeout
    assert _methods(sim)[-1] == Method.SET_MODE
    sim.faults.loss = 0.0  # only the first SetMode is lost; the read-back is answered
    await writing
    assert sim.state.mode is Mode.AI
    assert _methods(sim)[-3:] == [Method.SET_MODE, Method.ES_MODE, Method.SET_MODE]


async def test_write_is_not_resent_when_its_effect_cannot_be_checked(
    start_simulator, connect
) -> None:
    """No answer to the write nor to the read-back: report it, do not send blindly again."""
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.silent = True
    with pytest.raises(MarstekWriteUnconfirmedError):
        await device.set_mode(OperatingMode.AI)
    assert _methods(sim).count(Method.SET_MODE) == 1


async def test_unanswered_setting_write_is_reported_not_repeated(start_simulator, connect) -> None:
    sim = await start_simulator()
    device = await connect()
    await device.read_identity()
    sim.faults.silent = True
    with pytest.raises(MarstekWriteUnconfirmedError):
        await device.set_dod(70)
    assert _methods(sim).count(Method.SET_DOD) == 1


async def test_write_errors(start_simulator, connect) -> None:
    sim = await start_simulator("venus-a")  # fw 147: no system settings, no UPS
    device = await connect()
    with pytest.raises(MarstekMethodUnsupportedError):
        await device.set_led(False)
    with pytest.raises(MarstekMethodUnsupportedError):
        await device.set_mode(OperatingMode.UPS)
    with pytest.raises(MarstekInvalidValueError):
        await device.set_mode(OperatingMode.PASSIVE)
    assert Method.SET_LED not in _methods(sim)
    assert Method.SET_MODE not in _methods(sim)


async def test_device_error_is_raised_with_code(start_simulator, connect) -> None:
    sim = await start_simulator("venus-e-mini")
    device = await connect()
    await device.read_identity()
    device.profile = device.profile.__class__(
        **{**device.profile.__dict__, "accepts_passive": True}
    )
    with pytest.raises(Exception, match="-32602") as raised:
        await device.set_passive(-500, 60)
    assert raised.value.code == -32602
    assert sim.state.mode is not Mode.PASSIVE


async def test_settings_writes(start_simulator, connect) -> None:
    sim = await start_simulator("venus-d")
    device = await connect()
    await device.set_dod(60)
    await device.set_led(False)
    await device.set_ble_advertising(False)
    truth = sim.truth()
    assert (truth.dod, truth.led_on, truth.ble_adv) == (60, False, False)
    for bad in (29, 89):
        with pytest.raises(MarstekInvalidValueError):
            await device.set_dod(bad)
    assert _methods(sim).count(Method.SET_DOD) == 1


async def test_invalid_values_send_nothing(start_simulator, connect) -> None:
    sim = await start_simulator("venus-a")
    device = await connect()
    await device.read_identity()
    sent = len(sim.requests)
    for power, duration in ((1501, 60), (-1501, 60), (100, 0), (100, 86401)):
        with pytest.raises(MarstekInvalidValueError):
            await device.set_passive(power, duration)
    from datetime import time

    for slot in (
        ManualSlot(slot=10, start=time(1), end=time(2), weekdays=frozenset({0}), power_w=0),
        ManualSlot(slot=0, start=time(1), end=time(2), weekdays=frozenset({7}), power_w=0),
        ManualSlot(slot=0, start=time(1), end=time(2), weekdays=frozenset(), power_w=-2000),
    ):
        with pytest.raises(MarstekInvalidValueError):
            await device.set_manual_slot(slot)
    assert len(sim.requests) == sent


async def test_passive_mode_runs_out_at_zero_watts(api_port, connect) -> None:
    """Reference B.8: after the countdown the battery stops, yet GetMode still says Passive."""
    from simulators.marstek import MarstekSimulator

    now = [0.0]
    async with MarstekSimulator("venus-e3", "127.0.0.2", api_port, clock=lambda: now[0]) as sim:
        device = await connect()
        await device.set_passive(-800, 60)
        assert device.passive_request.power_w == -800
        status = await device.read_es_status()
        assert status.battery_power_w == pytest.approx(-800, abs=1)  # charging
        now[0] += 61
        status = await device.read_es_status()
        mode = await device.read_mode()
        assert status.battery_power_w == 0
        assert mode.mode is OperatingMode.PASSIVE
        assert sim.truth().passive_remaining_s == 0


async def test_manual_mode_keeps_the_users_slots(start_simulator, connect) -> None:
    from datetime import time

    sim = await start_simulator("venus-e3")
    device = await connect()
    await device.set_manual_slot(
        ManualSlot(slot=0, start=time(7), end=time(9), weekdays=frozenset({0, 1, 2}), power_w=-1000)
    )
    await device.set_mode(OperatingMode.AUTO)
    await device.select_manual_mode()
    assert sim.state.mode is Mode.MANUAL
    slot0, slot9 = sim.state.manual_slots[0], sim.state.manual_slots[9]
    assert slot0.enabled
    assert slot0.power_w == -1000
    assert not slot9.enabled


async def test_mode_readback_is_held_back_on_firmware_148(start_simulator, connect) -> None:
    sim = await start_simulator("venus-a")
    device = await connect()
    await device.read_identity()
    device.profile = device.profile.__class__(
        **{**device.profile.__dict__, "mode_readback_reverts": True}
    )
    await device.set_mode(OperatingMode.AI)
    sim.requests.clear()
    mode = await device.read_mode()
    assert mode.mode is OperatingMode.AI
    assert Method.ES_MODE not in _methods(sim)


async def test_a_closed_device_does_not_bind_the_port_again(start_simulator, connect) -> None:
    """A request that was waiting when its owner closed the device fails; no rebind."""
    await start_simulator()
    device = await connect()
    await device.read_identity()
    await device.close()
    with pytest.raises(MarstekClosedError):
        await device.read_es_status()
    assert device.endpoint is None


async def test_a_lost_passive_write_in_passive_mode_is_unconfirmed(
    start_simulator, connect
) -> None:
    """Already in Passive, a read-back cannot see the new power: report, do not claim success."""
    sim = await start_simulator()
    device = await connect()
    await device.set_passive(-500, 600)
    await device.read_mode()
    sim.faults.loss = 1.0
    with pytest.raises(MarstekWriteUnconfirmedError):
        await device.set_passive(800, 600)
    sim.faults.loss = 0.0
    assert sim.state.passive_power_w == -500
