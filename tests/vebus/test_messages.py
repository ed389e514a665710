"""Commands, reply parsing and scaling against the reference's vectors and worked examples."""

from __future__ import annotations

import pytest

from custom_components.vebus_marstek.vebus.framing import (
    Frame,
    FrameParser,
    encode_command,
    encode_frame,
)
from custom_components.vebus_marstek.vebus.messages import (
    RamVar,
    Winmon,
    address_command,
    assistant_records,
    id_args,
    info_command,
    led_command,
    parse_ac_info,
    parse_dc_info,
    parse_input_config,
    parse_leds,
    parse_ram_var_info,
    parse_setting_info,
    parse_version,
    parse_words,
    read_ram_vars_args,
    setting_info_complete,
    standby_command,
    switch_command,
    version_command,
    winmon_command,
    winmon_reply,
    write_via_id_args,
)
from custom_components.vebus_marstek.vebus.models import (
    RamVarInfo,
    SettingInfo,
    SwitchMode,
    switch_mode_from_register,
)

# The scales of the 12 V MultiPlus whose frames the reference quotes (IGUI capture).
MULTIPLUS_12V = {
    RamVar.MAINS_VOLTAGE: RamVarInfo(0x7F9C, 0),
    RamVar.MAINS_CURRENT: RamVarInfo(-0x7F9C, 0),
    RamVar.INVERTER_VOLTAGE: RamVarInfo(0x7F9C, 0),
    RamVar.INVERTER_CURRENT: RamVarInfo(-0x7F9C, 0),
    RamVar.BATTERY_VOLTAGE: RamVarInfo(0x7F9C, 0),
    RamVar.BATTERY_CURRENT: RamVarInfo(-0x7F9C, 0),
    RamVar.INVERTER_PERIOD: RamVarInfo(0x7857, 0x0100),
    RamVar.MAINS_PERIOD: RamVarInfo(0x7C2F, 0),
}


def frame(vector: str) -> Frame:
    (parsed,) = FrameParser().feed(bytes.fromhex(vector), now=0.0)
    return parsed


def test_command_builders_match_the_vectors() -> None:
    assert address_command(0) == bytes.fromhex("04 FF 41 01 00 BB")
    assert version_command() == bytes.fromhex("02 FF 56 A9")
    assert led_command() == bytes.fromhex("02 FF 4C B3")
    assert info_command(1) == bytes.fromhex("03 FF 46 01 B7")
    assert winmon_command("W", Winmon.GET_RAM_VAR_INFO, id_args(5)) == bytes.fromhex(
        "05 FF 57 36 05 00 6A"
    )  # T7
    assert winmon_command("W", Winmon.READ_RAM_VARS, read_ram_vars_args([13, 0])) == (
        bytes.fromhex("05 FF 57 30 0D 00 68")
    )  # T8
    assert winmon_command(
        "Z", Winmon.WRITE_VIA_ID, write_via_id_args(131, 370, setting=False, ram_only=False)
    ) == bytes.fromhex("07 FF 5A 37 00 83 72 01 73")  # T9
    assert winmon_command(
        "Y", Winmon.WRITE_VIA_ID, write_via_id_args(64, 2000, setting=True, ram_only=False)
    ) == bytes.fromhex("07 FF 59 37 01 40 D0 07 52")  # T10
    assert standby_command() == encode_command("H")
    assert standby_command(0x07) == encode_command("H", b"\x07")


def test_ram_only_write_sets_flag_bit_1() -> None:
    """Setting writes that repeat must not wear the EEPROM (reference G.1)."""
    assert write_via_id_args(131, -200, setting=False, ram_only=True) == bytes.fromhex(
        "02 83 38 FF"
    )
    assert write_via_id_args(2, 5680, setting=True, ram_only=True)[0] == 0x03


def test_winmon_arguments_are_bounded() -> None:
    with pytest.raises(ValueError, match="at most 6"):
        winmon_command("X", Winmon.READ_RAM_VARS, bytes(7))
    with pytest.raises(ValueError, match="1 to 6"):
        read_ram_vars_args([])


def test_switch_command_uses_the_seven_byte_form() -> None:
    """Never the 8-byte form: its last byte is the interface's EEPROM flags."""
    on = switch_command(SwitchMode.ON, 125, short_replies=False)
    # The first five data bytes are those of the reference's verified example (on, 12.5 A).
    assert on[3:8] == bytes.fromhex("03 7D 00 01 80")
    assert on[0] == 9  # type + 'S' + 7 data bytes
    assert len(FrameParser().feed(on, 0.0)) == 1
    unchanged = switch_command(SwitchMode.OFF, None, short_replies=True)
    assert unchanged[3:10] == bytes.fromhex("04 00 80 01 80 00 01")  # limit 0x8000 = keep
    session = switch_command(None, None, short_replies=False)
    assert session[3:10] == bytes.fromhex("00 00 80 01 90 00 00")  # do not send state
    assert not on[7] & 0x01  # never auto-send-state


def test_version_frames_t2r_and_t3() -> None:
    mk3 = parse_version(frame("07 FF 56 24 DB 11 00 42 52"))
    assert mk3 is not None
    assert (mk3.version, mk3.trailer) == (1170212, 0x42)
    mk2 = parse_version(frame("07 FF 56 96 3E 11 00 00 BF"))
    assert mk2 is not None
    assert (mk2.version, mk2.trailer) == (1130134, 0)
    assert parse_version(frame("02 FF 4C B3")) is None


def test_leds_t4r() -> None:
    leds = parse_leds(frame("08 FF 4C 01 0C 00 00 80 00 20"))
    assert leds is not None
    states = leds.states()
    assert states["mains"] == "on"
    assert states["bulk"] == "blink"
    assert states["float"] == "blink"
    assert states["inverter"] == "off"
    assert (leds.alarms, leds.error_code) == (0, 0)
    assert leds.active_alarms() == []
    assert not leds.no_information


def test_led_anti_phase_alarms_and_error_code() -> None:
    leds = parse_leds(Frame(0xFF, b"L" + bytes((0x10, 0x10, 0x21, 0x9A))))
    assert leds is not None
    assert leds.states()["inverter"] == "blink_inverted"
    assert leds.active_alarms() == ["temperature_prealarm", "low_battery"]
    assert leds.error_code == 26  # low 5 bits; 0x80 is the "MK2 blocked" flag
    old_mk2 = parse_leds(Frame(0xFF, b"L\x1f\x1f"))
    assert old_mk2 is not None
    assert old_mk2.no_information
    assert old_mk2.alarms is None
    assert old_mk2.active_alarms() == []
    assert parse_leds(Frame(0xFF, b"L\x01")) is None


def test_ac_info_t5r() -> None:
    info = parse_ac_info(frame("0F 20 01 01 CA 09 08 AA 58 AB 00 AA 58 9A 00 C3 E8"), MULTIPLUS_12V)
    assert info is not None
    assert (info.phase, info.phase_count, info.state) == (1, 1, 9)
    assert info.mains_voltage == 226.98
    assert info.mains_current == 1.71
    assert info.inverter_voltage == 226.98
    assert info.inverter_current == 1.54
    assert info.mains_frequency == pytest.approx(50.1026, abs=1e-4)


def test_ac_currents_are_sign_extended_before_the_factor() -> None:
    """-1.00 A with a back-feed factor of 2 is -2.00 A, not a huge positive number."""
    payload = bytes((2, 1, 0, 9, 0x07)) + (22698).to_bytes(2, "little")
    payload += (0x10000 - 100).to_bytes(2, "little") + bytes(4) + b"\x00"
    info = parse_ac_info(Frame(0x20, payload), MULTIPLUS_12V)
    assert info is not None
    assert info.phase == 2
    assert info.phase_count is None
    assert info.mains_current == -2.0
    assert info.mains_frequency is None  # period 0: no frequency


def test_dc_info_t6r() -> None:
    info = parse_dc_info(frame("0F 20 F3 00 C8 02 0C A1 05 00 00 00 28 00 00 88 B2"), MULTIPLUS_12V)
    assert info is not None
    assert info.voltage == 14.41
    assert (info.inverter_current, info.charger_current) == (0, 0.4)
    assert info.battery_current == 0.4  # positive = charging
    assert info.inverter_frequency == pytest.approx(50.0255, abs=1e-4)


def test_info_parsers_reject_other_frames() -> None:
    t6r = frame("0F 20 F3 00 C8 02 0C A1 05 00 00 00 28 00 00 88 B2")
    assert parse_ac_info(t6r, MULTIPLUS_12V) is None  # DC, not a phase
    assert (
        parse_dc_info(frame("0F 20 01 01 CA 09 08 AA 58 AB 00 AA 58 9A 00 C3 E8"), MULTIPLUS_12V)
        is None
    )
    assert parse_ac_info(Frame(0x20, b"\x00" * 3), MULTIPLUS_12V) is None
    assert parse_input_config(t6r) is None


def test_input_config_and_switch_register() -> None:
    payload = bytes.fromhex("10 05 00 00") + bytes((0x14,))
    payload += (
        (32).to_bytes(2, "little") + (500).to_bytes(2, "little") + (160).to_bytes(2, "little")
    )
    payload += bytes((0x77,))
    config = parse_input_config(Frame(0x41, payload))
    assert config is not None
    assert (config.minimum, config.maximum, config.current_limit) == (3.2, 50.0, 16.0)
    assert config.limit_overridden_by_panel
    assert switch_mode_from_register(config.switch_register) is SwitchMode.ON
    assert switch_mode_from_register(0x01) is SwitchMode.CHARGER_ONLY
    assert switch_mode_from_register(0x02) is SwitchMode.INVERTER_ONLY
    assert switch_mode_from_register(0x40) is SwitchMode.OFF


def test_ram_var_info_t7r_short_and_long_forms() -> None:
    code_and_data = winmon_reply(frame("08 FF 57 8E 64 80 8F 00 00 A1"), "W")
    assert code_and_data is not None
    code, data = code_and_data
    info = parse_ram_var_info(data)
    assert code == 0x8E
    assert info.signed
    assert info.multiplier == pytest.approx(0.01)
    long_form = parse_ram_var_info(bytes.fromhex("9C 7F 00 00"))  # VELIB example
    assert (long_form.multiplier, long_form.signed) == (pytest.approx(0.01), False)
    assert not parse_ram_var_info(b"").supported  # "03 FF 5A 8E 16": unsupported


@pytest.mark.parametrize(
    ("scale", "offset", "raw", "value"),
    [
        (0x7F9C, 0, 1441, 14.41),  # 0.01 unsigned
        (-0x7F9C, 0, 0xFF9C, -1.0),  # 0.01 signed
        (0x7F38, 0, 200, 1.0),  # SOC 1/200
        (0x7857, 0x0100, 136, (136 + 256) / 1961),  # inverter period
        (0x7C2F, 0, 195, 195 / 977),  # mains period
        (1, 0, 370, 370.0),
        (4, -0x8000, 0b1000, 1.0),  # bit variable: bit 3
        (4, -0x8000, 0b0111, 0.0),
    ],
)
def test_ram_var_scaling(scale: int, offset: int, raw: int, value: float) -> None:
    assert RamVarInfo(scale, offset).value(raw) == pytest.approx(value)


def test_unsupported_scales() -> None:
    assert not RamVarInfo(0, 0).supported
    assert not RamVarInfo(-0x8000, 0).supported  # would divide by zero
    assert RamVarInfo(-0x7F9C, 0).raw(-1.0) == 0xFF9C
    assert RamVarInfo(0x7F9C, 0).frequency(0xFF) is None


def test_setting_info_t12_long_form() -> None:
    reply = winmon_reply(frame("0D FF 5A 89 01 00 00 00 03 00 01 00 03 00 09"), "Z")
    assert reply is not None
    assert setting_info_complete([reply])
    info = parse_setting_info([reply])
    assert (info.scale, info.offset, info.default, info.minimum, info.maximum) == (1, 0, 3, 1, 3)
    assert info.access_level is None
    assert (info.min_value, info.max_value) == (1, 3)


def test_setting_info_short_form_in_two_frames() -> None:
    """Scale, offset, default and minimum in one frame; the maximum in a second one."""
    first = (0x89, bytes.fromhex("FE FF 8A 00 00 8B AA 00 8C 3C 00"))
    second = (0x8D, bytes.fromhex("C8 00"))
    assert not setting_info_complete([first])
    assert setting_info_complete([first, second])
    info = parse_setting_info([first, second])
    assert info.multiplier == 0.5  # scale -2: SoC when bulk finished, in 0.5 %
    assert (info.value(info.default), info.min_value, info.max_value) == (85, 30, 100)
    assert not parse_setting_info([first]).supported  # maximum missing
    assert not parse_setting_info([(0x89, b"")]).supported  # "03 FF 59 89 1C"


def test_setting_scaling_round_trip() -> None:
    absorption = SettingInfo(scale=-100, offset=0, default=5680, minimum=4800, maximum=6400)
    assert absorption.value(5680) == 56.8
    assert absorption.raw(57.2) == 5720
    with_access = parse_setting_info([(0x89, bytes(10) + b"\x01")])
    assert with_access.access_level == 1


def test_assistant_records_find_ess() -> None:
    """MultiPlus-II 3000: 0x0090 at 128, 0x8800 at 129, ESS header 0x0054 at 130."""
    records = assistant_records([0x0090, 0x8800, 0x0054, 1, 2, 3, 4, 0])
    assert records[5] == 130  # the setpoint is the id after the header: 131
    assert assistant_records([0x0001, 7, 0]) == {0: 128}
    assert assistant_records([]) == {}


def test_winmon_reply_needs_the_same_letter() -> None:
    t9r = frame("03 FF 5A 87 1D")
    assert winmon_reply(t9r, "Z") == (0x87, b"")
    assert winmon_reply(t9r, "X") is None
    assert winmon_reply(frame("04 FF 57 80 00 26"), "W") == (0x80, b"\x00")  # T13
    assert parse_words(bytes.fromhex("C8 00 01")) == [200]
    assert encode_frame(0xFF, b"X") == encode_command("X")
