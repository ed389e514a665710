"""Result parsing and request parameters, anchored on the reference's real captures."""

from __future__ import annotations

from datetime import time
import json

import pytest

from custom_components.vebus_marstek.marstek.framing import decode_reply
from custom_components.vebus_marstek.marstek.messages import (
    TemperatureReading,
    battery_temperature,
    ble_advertising_params,
    dod_params,
    led_params,
    mac_from_src,
    manual_slot_params,
    normalise_ip,
    normalise_mac,
    number,
    parse_battery_status,
    parse_ble_status,
    parse_device,
    parse_es_status,
    parse_meter_status,
    parse_mode,
    parse_mode_status,
    parse_pv_status,
    parse_wifi_status,
    passive_params,
    rescaled_into_range,
    simple_mode_params,
    weekdays_text,
)
from custom_components.vebus_marstek.marstek.models import ManualSlot, OperatingMode
from custom_components.vebus_marstek.marstek.profile import FirmwareProfile, resolve_profile

VENUS_A_147 = resolve_profile("Venus A", 147)
VENUS_E3_150 = resolve_profile("VenusE 3.0", 150)

# Reference section C, fixture 1: Venus A fw 147, ES.GetStatus (no bat_power).
FIXTURE_1 = (
    b'{"id": 436, "src": "VenusA-682499eefdd7", "result": {"id": 0, "bat_soc": 40, '
    b'"bat_cap": 2080, "pv_power": 0, "ongrid_power": 0, "offgrid_power": 0, '
    b'"total_pv_energy": 0, "total_grid_output_energy": 3110, '
    b'"total_grid_input_energy": 3225, "total_load_energy": 0}}'
)
# Fixture 2: the same device's PV.GetStatus and ES.GetMode.
FIXTURE_2_PV = (
    b'{"id": 430, "src": "VenusA-682499eefdd7", "result": {"id": 0, "pv1_power": 268, '
    b'"pv1_voltage": 33, "pv1_current": 0, "pv1_state": 1, "pv2_power": 29, '
    b'"pv2_voltage": 46, "pv2_current": 0, "pv2_state": 1, "pv3_power": 29, '
    b'"pv3_voltage": 33, "pv3_current": 0, "pv3_state": 1, "pv4_power": 25, '
    b'"pv4_voltage": 46, "pv4_current": 0, "pv4_state": 1}}'
)
FIXTURE_2_MODE = (
    b'{"id": 435, "src": "VenusA-682499eefdd7", "result": {"id": 0, "mode": "Auto", '
    b'"ongrid_power": 0, "offgrid_power": 0, "bat_soc": 40, "ct_state": 0, "a_power": 0, '
    b'"b_power": 0, "c_power": 0, "total_power": 0, "input_energy": 0, "output_energy": 0}}'
)
# Fixture 3: Venus E 3.0 fw 150, ES.GetMode while charging.
FIXTURE_3 = (
    b'{"id": 162, "src": "VenusE 3.0-5037cd7f1ec6", "result": {"id": 0, "mode": "Auto", '
    b'"ongrid_power": -984, "offgrid_power": 0, "bat_soc": 57, "ct_state": 0, "a_power": 0, '
    b'"b_power": 0, "c_power": 0, "total_power": 0, "input_energy": 0, "output_energy": 0}}'
)


def _result(payload: bytes) -> dict[str, object]:
    reply = decode_reply(payload)
    assert hasattr(reply, "result")
    return reply.result  # type: ignore[union-attr]


def test_fixture_1_venus_a_energy_system_status() -> None:
    status = parse_es_status(_result(FIXTURE_1), VENUS_A_147)
    assert status.soc == 40
    # bat_cap 2080 at 40 % is the Venus A's rated size, not the energy it holds.
    assert status.remaining_capacity_wh is None
    assert status.total_grid_output_energy_wh == 3110
    assert status.total_grid_input_energy_wh == 3225
    assert status.total_pv_energy_wh == 0
    # bat_power is missing, and this firmware hard-codes pv_power to 0: without a PV
    # reading the balance would be wrong, so the battery power is unknown, not invented.
    assert status.battery_power_w is None
    assert not status.battery_power_derived


def test_only_the_e_mini_reports_stored_energy_in_bat_cap() -> None:
    raw = {"bat_soc": 40, "bat_cap": 832}
    assert parse_es_status(raw, resolve_profile("Venus E mini", 300)).remaining_capacity_wh == 832
    for device, ver in (("VenusE", 156), ("VenusE 3.0", 150), ("Venus D", 151)):
        assert parse_es_status(raw, resolve_profile(device, ver)).remaining_capacity_wh is None


def test_fixtures_1_and_2_together_show_pv_charging_the_battery() -> None:
    """With PV.GetStatus's 109.8 W and nothing on the AC port, the battery takes the PV."""
    pv = parse_pv_status(_result(FIXTURE_2_PV), VENUS_A_147)
    status = parse_es_status(_result(FIXTURE_1), VENUS_A_147, pv.total_power_w)
    assert status.pv_power_w == pytest.approx(109.8)
    assert status.battery_power_w == pytest.approx(-109.8)  # negative = charging
    assert status.battery_power_derived


def test_fixture_2_pv_channel_one_is_in_tenths_of_a_watt() -> None:
    pv = parse_pv_status(_result(FIXTURE_2_PV), VENUS_A_147)
    assert [c.power_w for c in pv.channels] == [26.8, 29, 29, 25]
    assert pv.total_power_w == pytest.approx(109.8)
    assert pv.channels[1].voltage_v == 46
    assert all(c.working for c in pv.channels)


def test_fixture_2_mode() -> None:
    mode = parse_mode_status(_result(FIXTURE_2_MODE))
    assert mode.mode is OperatingMode.AUTO
    assert mode.soc == 40


def test_fixture_3_charging_shows_negative_ongrid_power() -> None:
    mode = parse_mode_status(_result(FIXTURE_3))
    assert mode.ongrid_power_w == -984
    assert mode.soc == 57


def test_mode_carries_its_ct_keys_as_they_are() -> None:
    """ES.GetMode's CT keys are parsed as EM.GetStatus's; zeros with ct_state 0 stay what they
    are (placeholders on fw 150), absent keys give no CT reading at all."""
    placeholder = parse_mode_status(_result(FIXTURE_3)).meter
    assert placeholder is not None
    assert placeholder.connected is False
    assert placeholder.total_power_w == 0
    live = parse_mode_status(
        {
            "mode": "AI",
            "ct_state": 1,
            "a_power": -168,
            "b_power": -155,
            "c_power": 21,
            "total_power": -323,
        }
    ).meter
    assert live is not None
    assert live.connected is True
    assert live.total_power_w == -323  # the device's total, not the phase sum (-302)
    without = parse_mode_status({"mode": "Auto", "ongrid_power": 0, "bat_soc": 40})
    assert without.meter is None


def test_battery_power_sign_is_positive_when_discharging() -> None:
    """The device's bat_power is + charging; Home Assistant wants + discharging."""
    charging = parse_es_status({"bat_power": 800, "ongrid_power": -800}, VENUS_E3_150)
    assert charging.battery_power_w == -800
    assert not charging.battery_power_derived
    discharging = parse_es_status({"ongrid_power": 500, "pv_power": 100}, VENUS_E3_150)
    assert discharging.battery_power_w == 400  # pv 100 + battery 400 = 500 to the house
    assert discharging.battery_power_derived


def test_battery_power_in_tenths_on_early_venus_e2() -> None:
    status = parse_es_status(
        {"bat_power": -12345, "ongrid_power": 1234}, resolve_profile("VenusE", 153)
    )
    assert status.battery_power_w == 1234.5


def test_energy_units_follow_the_profile() -> None:
    raw = {"total_grid_input_energy": 123, "total_pv_energy": 45, "ongrid_power": 0}
    early = parse_es_status(raw, resolve_profile("VenusE", 153))
    late = parse_es_status(raw, resolve_profile("VenusE", 156))
    e3 = parse_es_status(raw, VENUS_E3_150)
    assert early.total_grid_input_energy_wh == 1230
    assert late.total_grid_input_energy_wh == 12300
    assert e3.total_grid_input_energy_wh == 123
    assert e3.total_pv_energy_wh == 450


@pytest.mark.parametrize("bad", [None, True, "n/a", float("nan"), float("inf"), 1e12, [1], {}])
def test_odd_values_become_none_without_raising(bad: object) -> None:
    status = parse_es_status({"bat_soc": bad, "ongrid_power": bad, "bat_power": bad}, VENUS_E3_150)
    assert status.soc is None
    assert status.ongrid_power_w is None
    assert status.battery_power_w is None


def test_numbers_as_strings_are_read() -> None:
    assert number({"v": " 42.5 "}, "v") == 42.5
    assert parse_es_status({"bat_soc": "57"}, VENUS_E3_150).soc == 57


def test_out_of_range_soc_and_negative_counters_are_dropped() -> None:
    status = parse_es_status({"bat_soc": 140, "total_grid_input_energy": -5}, VENUS_E3_150)
    assert status.soc is None
    assert status.total_grid_input_energy_wh is None


def test_battery_status_plausibility() -> None:
    e3_139 = resolve_profile("VenusE 3.0", 139)
    # Reference: fw 139 reported 280 for 28.0 degrees and 230 for 2300 Wh.
    status = parse_battery_status(
        {
            "soc": 50,
            "bat_temp": 280,
            "bat_capacity": 230,
            "rated_capacity": 5120,
            "charg_flag": True,
            "dischrg_flag": 1,
        },
        e3_139,
    )
    assert status.temperature_c == 28.0
    assert status.remaining_capacity_wh == 2300
    assert status.charge_allowed is True
    assert status.discharge_allowed is True
    # A BMS reporting tenths where degrees were expected is still read sensibly.
    assert parse_battery_status({"bat_temp": 254}, VENUS_A_147).temperature_c == 25.4
    # Remaining capacity far above the rated one is corruption, not a value.
    assert (
        parse_battery_status(
            {"bat_capacity": 99999, "rated_capacity": 2560}, VENUS_A_147
        ).remaining_capacity_wh
        is None
    )


VENUS_E2_153 = resolve_profile("VenusE", 153)  # bat_temp in degrees
VENUS_E2_156 = resolve_profile("VenusE", 156)  # bat_temp in tens of degrees


@pytest.mark.parametrize(
    ("profile", "raw", "shown"),
    [
        # In range: shown as scaled.
        (VENUS_E3_150, 24.0, 24.0),
        (VENUS_E2_156, 2.0, 20.0),  # jaapp #67: 2.0 in December
        (VENUS_E2_156, 1.7, 17.0),  # jaapp #1: a 17 degC BMS-213 pack
        (VENUS_E3_150, -30, -30.0),
        (VENUS_E3_150, 80, 80.0),
        (VENUS_E2_156, -0.5, -5.0),
        (VENUS_E2_156, 5, 50.0),  # in range: a BMS sending degrees here cannot be told apart
        # Off by ten: the one power of ten that fits.
        (VENUS_E2_153, 254, 25.4),  # jaapp #18: an older HMG-50 BMS in tenths
        (VENUS_E2_156, 25, 25.0),  # a BMS in degrees on firmware that scales by ten
        (VENUS_E3_150, 80.5, 8.05),
        (VENUS_E3_150, -150, -15.0),
        # Off by more: unknown.
        (VENUS_E2_156, 254, None),  # 2540 and 254 are both out of range
        (VENUS_E3_150, 2540, None),
        (VENUS_E3_150, -1000, None),
    ],
)
def test_battery_temperature_plausibility_guard(
    profile: FirmwareProfile, raw: float, shown: float | None
) -> None:
    """After the profile's scale, -30..80 degC is shown; outside, one power of ten may fix it."""
    assert parse_battery_status({"bat_temp": raw}, profile).temperature_c == shown


def test_battery_temperature_reading_says_what_happened() -> None:
    assert battery_temperature({"bat_temp": 2.0}, VENUS_E2_156) == TemperatureReading(
        received=2.0, scaled=20.0, shown=20.0
    )
    corrected = battery_temperature({"bat_temp": 254}, VENUS_E2_153)
    assert corrected == TemperatureReading(received=254, scaled=254, shown=25.4)
    assert not corrected.plausible
    assert battery_temperature({"bat_temp": None}, VENUS_E2_156) is None
    assert parse_battery_status({}, VENUS_E2_156).temperature_c is None


def test_rescaled_into_range_tries_one_power_of_ten_either_way() -> None:
    assert rescaled_into_range(3.5, 10, 80) == 35  # x10
    assert rescaled_into_range(350, 10, 80) == 35  # /10
    assert rescaled_into_range(35, 10, 80) == 35
    assert rescaled_into_range(0.5, 10, 80) is None
    # Around zero (the temperature range) x10 never fits an out-of-range value: only /10 can.
    assert rescaled_into_range(-35, -30, 80) == -3.5


def test_battery_voltage_and_current_in_hundredths() -> None:
    status = parse_battery_status({"bat_voltage": 4917, "bat_current": -250}, VENUS_A_147)
    assert status.voltage_v == 49.17
    assert status.current_a == -2.5


def test_meter_status() -> None:
    meter = parse_meter_status(
        {
            "ct_state": 1,
            "a_power": 120,
            "b_power": -30,
            "c_power": 5,
            "total_power": 95,
            "input_energy": 1234,
            "output_energy": 56,
        }
    )
    assert meter.connected is True
    assert meter.total_power_w == 95
    assert meter.input_energy_wh == 123.4
    assert parse_meter_status({"ct_state": 7}).connected is None


def test_single_channel_pv_form_from_the_vendor_document() -> None:
    pv = parse_pv_status(
        {"pv_power": 300, "pv_voltage": 40, "pv_current": 7.5, "pv_state": 1}, VENUS_A_147
    )
    assert len(pv.channels) == 1
    assert pv.total_power_w == 300
    assert pv.channels[0].working is True
    assert parse_pv_status({}, VENUS_A_147).total_power_w is None


def test_device_identity_falls_back_to_src_when_macs_are_missing() -> None:
    """Venus C fw 153 omits ble_mac and wifi_mac."""
    identity = parse_device(
        {"device": "VenusC", "ver": 153, "ip": "192.168.001.020"}, "VenusC-24215EE580E7"
    )
    assert identity.ble_mac == "24215ee580e7"
    assert identity.wifi_mac is None
    assert identity.ip == "192.168.1.20"
    assert identity.firmware == 153
    assert parse_device({"ver": "148.3"}, "VenusA-682499eefdd7").device == "VenusA"
    assert parse_device({"ver": "x"}, None).firmware is None


def test_wifi_and_ble_status() -> None:
    wifi = parse_wifi_status(
        {
            "ssid": "home",
            "rssi": -61,
            "sta_ip": "192.168.1.50",
            "sta_gate": "192.168.1.1",
            "sta_mask": "255.255.255.0",
            "sta_dns": None,
            "wifi_mac": "24:21:5e:d1:78:8f",
        }
    )
    assert (wifi.ssid, wifi.rssi_dbm, wifi.ip, wifi.dns) == ("home", -61, "192.168.1.50", None)
    assert wifi.wifi_mac == "24215ed1788f"
    assert parse_wifi_status({"rssi": 12}).rssi_dbm is None
    assert parse_ble_status({"state": "connect", "ble_mac": "0"}).connected is True
    assert parse_ble_status({"state": "disconnect"}).connected is False
    assert parse_ble_status({}).connected is None


def test_mode_as_string_or_integer() -> None:
    assert parse_mode("Passive") is OperatingMode.PASSIVE
    assert parse_mode("UPS") is OperatingMode.UPS
    assert parse_mode(4) is OperatingMode.UPS
    assert parse_mode(9) is None
    assert parse_mode(True) is None
    assert parse_mode("Eco") is None


def test_fixture_5_manual_slot_request_matches_the_capture() -> None:
    """Reference fixture 5: the exact ES.SetMode Manual config a real device accepted."""
    captured = json.loads(
        '{"id": 0, "config": {"mode": "Manual", "manual_cfg": {"time_num": 0, '
        '"start_time": "12:00", "end_time": "13:00", "week_set": 127, "power": -1000, '
        '"enable": 1}}}'
    )
    slot = ManualSlot(
        slot=0, start=time(12, 0), end=time(13, 0), weekdays=frozenset(range(7)), power_w=-1000
    )
    assert manual_slot_params(slot) == captured


def test_other_write_parameters() -> None:
    assert simple_mode_params(OperatingMode.AUTO) == {
        "id": 0,
        "config": {"mode": "Auto", "auto_cfg": {"enable": 1}},
    }
    assert simple_mode_params(OperatingMode.UPS)["config"] == {
        "mode": "UPS",
        "ups_cfg": {"enable": 1},
    }
    with pytest.raises(ValueError, match="needs settings"):
        simple_mode_params(OperatingMode.PASSIVE)
    assert passive_params(-800, 600)["config"] == {
        "mode": "Passive",
        "passive_cfg": {"power": -800, "cd_time": 600},
    }
    assert dod_params(70) == {"value": 70}
    assert led_params(False) == {"state": 0}
    # The firmware starts advertising on 1, whatever the vendor document says.
    assert ble_advertising_params(True) == {"enable": 1}
    assert weekdays_text(frozenset({0, 5})) == "mon,sat"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("5037CD7F1EC6", "5037cd7f1ec6"),
        ("50:37:cd:7f:1e:c6", "5037cd7f1ec6"),
        ("0", None),
        ("000000000000", None),
        (None, None),
    ],
)
def test_mac_normalisation(value: str | None, expected: str | None) -> None:
    assert normalise_mac(value) == expected


def test_ip_and_src_helpers() -> None:
    assert normalise_ip("010.000.000.007") == "10.0.0.7"
    assert normalise_ip("999.1.1.1") is None
    assert normalise_ip("battery.local") is None
    assert normalise_ip(None) is None
    assert mac_from_src("VenusE 3.0-5037cd7f1ec6") == "5037cd7f1ec6"
    assert mac_from_src("nodash") is None
