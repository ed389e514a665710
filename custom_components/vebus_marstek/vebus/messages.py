"""MK2 commands and the parsing and scaling of their replies (reference sections C to F)."""

from __future__ import annotations

from enum import IntEnum

from .framing import INFO_FRAME, INPUT_CONFIG_FRAME, MK2_FRAME, Frame, encode_command
from .models import (
    AcInfo,
    DcInfo,
    InputConfig,
    LedStatus,
    RamVarInfo,
    SettingInfo,
    SwitchMode,
    VersionInfo,
    signed_word,
)

# --- identifiers ----------------------------------------------------------------------------


class Winmon(IntEnum):
    """Winmon commands carried by 'W', 'X', 'Y' and 'Z' frames."""

    SOFTWARE_VERSION_LOW = 0x05
    SOFTWARE_VERSION_HIGH = 0x06
    DEVICE_STATE = 0x0E
    READ_RAM_VARS = 0x30
    READ_SETTING = 0x31
    GET_SETTING_INFO = 0x35
    GET_RAM_VAR_INFO = 0x36
    WRITE_VIA_ID = 0x37
    READ_SNAPSHOT = 0x38
    SERIAL_NUMBER = 0x3B


class Response(IntEnum):
    """Winmon response codes."""

    UNKNOWN_COMMAND = 0x80
    SOFTWARE_VERSION_LOW = 0x82
    SOFTWARE_VERSION_HIGH = 0x83
    RAM_VARS = 0x85
    SETTING = 0x86
    RAM_VAR_WRITTEN = 0x87
    SETTING_WRITTEN = 0x88
    SETTING_INFO = 0x89
    RAM_VAR_INFO = 0x8E
    RAM_VAR_OFFSET = 0x8F
    RAM_VAR_UNSUPPORTED = 0x90
    SETTING_UNSUPPORTED = 0x91
    DEVICE_STATE = 0x94
    SNAPSHOT = 0x99
    ACCESS_LEVEL_REQUIRED = 0x9B
    SERIAL_NUMBER = 0x9D


class RamVar(IntEnum):
    """RAM variables (reference E.1)."""

    MAINS_VOLTAGE = 0
    MAINS_CURRENT = 1
    INVERTER_VOLTAGE = 2
    INVERTER_CURRENT = 3
    BATTERY_VOLTAGE = 4
    BATTERY_CURRENT = 5
    INVERTER_PERIOD = 7
    MAINS_PERIOD = 8
    SOC = 13
    INVERTER_POWER = 14  # + = AC to DC (charging)
    INPUT_POWER = 15  # power at AC-in; negative = consuming from the grid
    OUTPUT_POWER = 16  # + = towards the loads
    ASSISTANTS = 128  # first assistant record


class Setting(IntEnum):
    """Settings (reference E.2)."""

    FLAGS0 = 0
    FLAGS1 = 1
    ABSORPTION_VOLTAGE = 2
    FLOAT_VOLTAGE = 3
    CHARGE_CURRENT = 4
    INPUT_CURRENT_LIMIT = 6
    BATTERY_CAPACITY = 64


ESS_ASSISTANT_ID = 5
WRITE_SETTING_FLAG = 0x01
WRITE_RAM_ONLY_FLAG = 0x02
FLAG_DISABLE_WAVE_CHECK = 3  # its inverted twin is flag 7
FLAG_WAVE_CHECK_TWIN = 7


SWITCH_CODES: dict[SwitchMode, int] = {
    SwitchMode.CHARGER_ONLY: 1,
    SwitchMode.INVERTER_ONLY: 2,
    SwitchMode.ON: 3,
    SwitchMode.OFF: 4,
}


# 'S' interface flags.
S_FLAG_DO_NOT_SEND_STATE = 0x10
S_FLAG_NEW_FORMAT = 0x80
S_EXT_SHORT_REPLIES = 0x01
S_LIMIT_UNCHANGED = 0x8000


# --- commands -------------------------------------------------------------------------------


def address_command(address: int) -> bytes:
    """'A': select the VE.Bus device all following commands talk to."""
    return encode_command("A", bytes((1, address)))


def version_command() -> bytes:
    """'V': the interface's firmware version."""
    return encode_command("V")


def led_command() -> bytes:
    """'L': LEDs, alarms and the VE.Bus error code."""
    return encode_command("L")


def info_command(number: int) -> bytes:
    """'F' n: 0 DC info, 1..4 AC info of a phase, 5 AC-input configuration."""
    return encode_command("F", bytes((number,)))


def standby_command(line_state: int | None = None) -> bytes:
    """'H' (MK3 only): read, or set, the panel-detect and standby lines."""
    return encode_command("H", b"" if line_state is None else bytes((line_state,)))


def switch_command(mode: SwitchMode | None, limit_raw: int | None, short_replies: bool) -> bytes:
    """'S' in its 7-byte form, which never touches the interface's EEPROM flags.

    ``mode`` None keeps the switch as it is (the state is not forwarded to VE.Bus);
    ``limit_raw`` None keeps the input current limit (0x8000 = "ignore").
    """
    limit = S_LIMIT_UNCHANGED if limit_raw is None else limit_raw
    flags = S_FLAG_NEW_FORMAT | (S_FLAG_DO_NOT_SEND_STATE if mode is None else 0)
    state = 0 if mode is None else SWITCH_CODES[mode]
    ext0 = S_EXT_SHORT_REPLIES if short_replies else 0
    return encode_command("S", bytes((state, limit & 0xFF, limit >> 8, 0x01, flags, 0x00, ext0)))


def winmon_command(letter: str, command: Winmon, args: bytes = b"") -> bytes:
    """A winmon command in an 'X', 'Y' or 'Z' frame (up to 6 argument bytes)."""
    if len(args) > 6:
        raise ValueError("at most 6 argument bytes fit in one frame")
    return encode_command(letter, bytes((command,)) + args)


def read_ram_vars_args(ids: list[int]) -> bytes:
    """Up to six RAM variable ids, one byte each."""
    if not 1 <= len(ids) <= 6:
        raise ValueError("read 1 to 6 RAM variables per request")
    return bytes(ids)


def id_args(identifier: int) -> bytes:
    """A 16-bit setting or RAM variable id."""
    return identifier.to_bytes(2, "little")


def write_via_id_args(identifier: int, raw: int, *, setting: bool, ram_only: bool) -> bytes:
    """WriteViaID: flags, id, value."""
    flags = (WRITE_SETTING_FLAG if setting else 0) | (WRITE_RAM_ONLY_FLAG if ram_only else 0)
    return bytes((flags, identifier)) + (raw & 0xFFFF).to_bytes(2, "little")


# --- scaling --------------------------------------------------------------------------------


# --- replies --------------------------------------------------------------------------------


def parse_version(frame: Frame) -> VersionInfo | None:
    """'V' reply or unsolicited version frame."""
    data = frame.data
    if frame.letter != "V" or len(data) < 4:
        return None
    return VersionInfo(int.from_bytes(data[:4], "little"), data[4] if len(data) > 4 else 0)


def parse_leds(frame: Frame) -> LedStatus | None:
    """'L' reply (2, 4 or 6 data bytes)."""
    data = frame.data
    if frame.letter != "L" or len(data) < 2:
        return None
    return LedStatus(
        on=data[0],
        blink=data[1],
        alarms=data[2] if len(data) > 2 else None,
        error_code=data[3] & 0x1F if len(data) > 3 else None,
    )


def parse_dc_info(frame: Frame, scales: dict[int, RamVarInfo]) -> DcInfo | None:
    """'F' 0 reply; byte 5 of the frame is 0x0C for DC info."""
    p = frame.payload
    if frame.frame_type != INFO_FRAME or len(p) < 14 or p[4] != 0x0C:
        return None
    current = scales[RamVar.BATTERY_CURRENT]
    return DcInfo(
        voltage=round(scales[RamVar.BATTERY_VOLTAGE].value(int.from_bytes(p[5:7], "little")), 3),
        inverter_current=round(current.multiplier * int.from_bytes(p[7:10], "little"), 4),
        charger_current=round(current.multiplier * int.from_bytes(p[10:13], "little"), 4),
        inverter_frequency=scales[RamVar.INVERTER_PERIOD].frequency(p[13]),
    )


_PHASE_BYTES = {0x07: 2, 0x06: 3, 0x05: 4}


def parse_ac_info(frame: Frame, scales: dict[int, RamVarInfo]) -> AcInfo | None:
    """'F' 1..4 reply. Currents are signed and multiplied by the frame's factors."""
    p = frame.payload
    if frame.frame_type != INFO_FRAME or len(p) < 14:
        return None
    phase_byte = p[4]
    if 0x08 <= phase_byte <= 0x0B:
        phase, count = 1, phase_byte - 7
    elif phase_byte in _PHASE_BYTES:
        phase, count = _PHASE_BYTES[phase_byte], None
    else:
        return None
    mains_factor, inverter_factor = p[0] or 1, p[1] or 1

    def word(index: int) -> int:
        return int.from_bytes(p[index : index + 2], "little")

    return AcInfo(
        phase=phase,
        phase_count=count,
        state=p[3],
        mains_voltage=round(scales[RamVar.MAINS_VOLTAGE].value(word(5), signed=False), 3),
        mains_current=round(
            scales[RamVar.MAINS_CURRENT].value(word(7), signed=True) * mains_factor, 3
        ),
        inverter_voltage=round(scales[RamVar.INVERTER_VOLTAGE].value(word(9), signed=False), 3),
        inverter_current=round(
            scales[RamVar.INVERTER_CURRENT].value(word(11), signed=True) * inverter_factor, 3
        ),
        mains_frequency=scales[RamVar.MAINS_PERIOD].frequency(p[13]),
    )


def parse_input_config(frame: Frame) -> InputConfig | None:
    """'F' 5 reply (frame type 0x41); limits are in 0.1 A."""
    p = frame.payload
    if frame.frame_type != INPUT_CONFIG_FRAME or len(p) < 12:
        return None

    def tenths(index: int) -> float:
        return int.from_bytes(p[index : index + 2], "little") / 10

    return InputConfig(
        current_limit=tenths(9),
        minimum=tenths(5),
        maximum=tenths(7),
        switch_register=p[11],
        config=p[4],
    )


def winmon_reply(frame: Frame, letter: str) -> tuple[int, bytes] | None:
    """(response code, data) of a winmon reply with the expected letter."""
    if frame.frame_type != MK2_FRAME or frame.letter != letter or len(frame.payload) < 2:
        return None
    return frame.payload[1], frame.payload[2:]


def parse_ram_var_info(data: bytes) -> RamVarInfo:
    """0x8E reply, long (scale, offset) or short (scale, 0x8F, offset); empty = unsupported."""
    if len(data) >= 5 and data[2] == Response.RAM_VAR_OFFSET:
        scale, offset = data[0:2], data[3:5]
    elif len(data) >= 4:
        scale, offset = data[0:2], data[2:4]
    else:
        return RamVarInfo(0, 0)
    return RamVarInfo(
        signed_word(int.from_bytes(scale, "little")), signed_word(int.from_bytes(offset, "little"))
    )


def is_short_setting_info(data: bytes) -> bool:
    """The first frame of a short (split) 0x89 reply carries 0x8A/0x8B/0x8C markers."""
    return len(data) >= 11 and (data[2], data[5], data[8]) == (0x8A, 0x8B, 0x8C)


def setting_info_complete(replies: list[tuple[int, bytes]]) -> bool:
    """Whether a 0x89 reply is whole: the short form sends its maximum (0x8D) separately."""
    _, data = replies[0]
    return not is_short_setting_info(data) or any(c == 0x8D for c, _ in replies[1:])


def parse_setting_info(replies: list[tuple[int, bytes]]) -> SettingInfo:
    """0x89 reply: long (scale, offset, default, min, max [, access]) or short triplets."""
    code, data = replies[0]
    if code == Response.SETTING_INFO and is_short_setting_info(data):
        triplets = {0x89: int.from_bytes(data[0:2], "little")}
        chunk = data[2:] + b"".join(bytes((c,)) + rest for c, rest in replies[1:])
        for i in range(0, len(chunk) - 2, 3):
            triplets[chunk[i]] = int.from_bytes(chunk[i + 1 : i + 3], "little")
        if 0x8D not in triplets:
            return SettingInfo(0, 0, 0, 0, 0)
        return SettingInfo(
            scale=signed_word(triplets[0x89]),
            offset=signed_word(triplets.get(0x8A, 0)),
            default=triplets.get(0x8B, 0),
            minimum=triplets.get(0x8C, 0),
            maximum=triplets[0x8D],
        )
    if code == Response.SETTING_INFO and len(data) >= 10:
        words = parse_words(data[:10])
        return SettingInfo(
            scale=signed_word(words[0]),
            offset=signed_word(words[1]),
            default=words[2],
            minimum=words[3],
            maximum=words[4],
            access_level=data[10] if len(data) > 10 else None,
        )
    return SettingInfo(0, 0, 0, 0, 0)  # 0x89 alone: not supported


def parse_words(data: bytes) -> list[int]:
    """Consecutive little-endian 16-bit words."""
    return [int.from_bytes(data[i : i + 2], "little") for i in range(0, len(data) - 1, 2)]


def assistant_records(words: list[int]) -> dict[int, int]:
    """Assistant id -> RAM id of its header, from the words read from id 128 onwards.

    Each header word is (assistant id << 4) | number of following RAM ids; 0 ends the list.
    """
    found: dict[int, int] = {}
    index = 0
    while index < len(words) and words[index] != 0:
        header = words[index]
        found.setdefault(header >> 4, RamVar.ASSISTANTS + index)
        index += 1 + (header & 0x0F)
    return found
