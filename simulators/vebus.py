"""Simulator of a Victron MK3-USB interface with a MultiPlus/Quattro behind it.

The interface speaks the "MK2 protocol" (2400 baud 8N1).  The simulator keeps the inverter/charger
in physical units (V, A, W, Hz, SoC as a 0..1 fraction) and encodes every frame with the per-model
RAM-variable scales, so a client that decodes with a wrong or hard-coded scale reports visibly
wrong numbers.

Written from the project's protocol reference (vebus-mk2-protocol.md, sections A-G) only.  It
shares no code with the client in ``custom_components``: framing, checksums and scaling are its
own, so that a protocol mistake in one cannot hide in the other; the reference's test vectors
anchor both.

In-process::

    sim = VebusSimulator(model="multiplus-ii-48-3000")
    url = await sim.start_tcp()        # "socket://127.0.0.1:PORT", like ser2net
    path = await sim.start_pty()       # "/dev/pts/N"
    ...
    await sim.stop()

Standalone::

    python -m simulators.vebus --model multiplus-ii-48-3000 --tcp 127.0.0.1:5000
    python -m simulators.vebus --pty
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping, Sequence
import contextlib
from dataclasses import dataclass
from enum import IntEnum, StrEnum
import logging
import math
import os
import random
import sys
import time
import tty
from types import MappingProxyType, TracebackType
from typing import Final, Literal, NamedTuple, Self

from .standalone import run_until_stopped

_LOGGER = logging.getLogger(__name__)

type ReplyFormat = Literal["long", "short"]

# --------------------------------------------------------------------------- wire constants

MK3_VERSION: Final = 1170212
MK2_VERSION: Final = 1130134
_FIRST_MK3_VERSION: Final = 1170000
# 'V' trailing byte while no address has been selected (T2r).
NO_ADDRESS: Final = 0x42

FRAME_BOOT: Final = 0x00
FRAME_INFO: Final = 0x20
FRAME_RAW_BUS: Final = 0x21
FRAME_SLEEP_WAKE: Final = 0x3F
FRAME_PANEL: Final = 0x40
FRAME_MASTER_LED: Final = 0x41
FRAME_MK2: Final = 0xFF
# Raw VE.Bus frame types whose checksum also adds nibble-swapped bytes (reference B.4).
ODD_CHECKSUM_TYPES: Final = frozenset({0x21, 0x38, 0x3D, 0x3F})
_HOST_FRAME_TYPES: Final = frozenset(
    {FRAME_MK2, FRAME_INFO, FRAME_PANEL, FRAME_MASTER_LED, 0x3C, *ODD_CHECKSUM_TYPES}
)
# Frames the interface itself builds; only these get the LED bytes appended.
_LED_CAPABLE_TYPES: Final = frozenset({FRAME_MK2, FRAME_INFO, FRAME_MASTER_LED})
MAX_LENGTH: Final = 20
LENGTH_LED_BIT: Final = 0x80
# Position of the 'F' 0 frame's marker byte and its value (reference C.3).
DC_INFO_MARKER: Final = 0x0C
CONFIG_FRAME_TYPE: Final = 0x02

# 'S' flags (reference C.4).
S_AUTO_SEND_STATE: Final = 0x01
S_APPEND_LEDS: Final = 0x02
S_DO_NOT_SEND_STATE: Final = 0x10
S_NEW_FORMAT: Final = 0x80
EXT0_SHORT_REPLIES: Final = 0x01
LIMIT_UNCHANGED: Final = 0x8000

# MK3 'H' lines (reference A.2).
LINE_PANEL_DETECT: Final = 0x01
LINE_STANDBY: Final = 0x02
LINE_POWER_ON_DEFAULT: Final = 0x05

# Trailing bytes of the MK3's 6-byte 'L' reply whose meaning is unknown (T4r).
_LED_REPLY_TAIL: Final = bytes([0x80, 0x00])
# Bytes [1..4] of the 'F' 5 reply as seen on real units (reference C.3).
_MASTER_LED_PREFIX: Final = bytes([0x10, 0x05, 0x00, 0x00])
# The two bytes after the u32 in the long software-version reply (reference C.5 example).
_VERSION_EXTRA: Final = bytes([0x07, 0x01])
# 'F' 5 switch register: this bit was always seen set (reference F).
_SWITCH_REG_ONBOARD: Final = 0x40
_SWITCH_REG_FRONT_ON: Final = 0x04
_AC_CONFIG_LIMIT_SETTABLE: Final = 0x04
_AC_CONFIG_PANEL: Final = 0x80


class Winmon(IntEnum):
    """Winmon command codes carried by 'W'/'X'/'Y'/'Z' (reference C.2)."""

    SEND_LED_STATUS = 0x02
    VERSION_PART0 = 0x05
    VERSION_PART1 = 0x06
    DEVICE_STATE = 0x0E
    READ_RAM_VAR = 0x30
    READ_SETTING = 0x31
    WRITE_RAM_VAR = 0x32
    WRITE_SETTING = 0x33
    WRITE_DATA = 0x34
    SETTING_INFO = 0x35
    RAM_VAR_INFO = 0x36
    WRITE_VIA_ID = 0x37
    READ_SNAPSHOT = 0x38
    SERIAL_NUMBER = 0x3B


class Reply(IntEnum):
    """Winmon response codes (reference C.2)."""

    UNKNOWN = 0x80
    LED_STATUS = 0x81
    VERSION_LOW = 0x82
    VERSION_HIGH = 0x83
    RAM_VALUES = 0x85
    SETTING_VALUE = 0x86
    RAM_WRITTEN = 0x87
    SETTING_WRITTEN = 0x88
    SETTING_SCALE = 0x89
    SETTING_OFFSET = 0x8A
    SETTING_DEFAULT = 0x8B
    SETTING_MIN = 0x8C
    SETTING_MAX = 0x8D
    RAM_SCALE = 0x8E
    RAM_OFFSET = 0x8F
    RAM_UNSUPPORTED = 0x90
    SETTING_UNSUPPORTED = 0x91
    DEVICE_STATE = 0x94
    SNAPSHOT = 0x99
    ACCESS_LEVEL = 0x9B
    SERIAL_NUMBER = 0x9D


_WINMON_LETTERS: Final = frozenset(b"WXYZxyz")
_ADDRESSED_WINMON_LETTERS: Final = frozenset(b"xyz")

# Setting access-level bits (reference D.3).
ACCESS_GRID_CODE: Final = 0x01
ACCESS_RESET_REQUIRED: Final = 0x80

# RAM-variable scale/offset words (reference D.1).
BIT_VARIABLE_OFFSET: Final = 0x8000
ASSISTANT_BASE_ID: Final = 128
ESS_ASSISTANT_HEADER: Final = 0x0054  # assistant 5 (ESS) followed by 4 RAM ids

SETTING_FLAGS0: Final = 0
SETTING_ABSORPTION_V: Final = 2
SETTING_FLOAT_V: Final = 3
SETTING_CHARGE_A: Final = 4
SETTING_INVERTER_V: Final = 5
SETTING_INPUT_LIMIT: Final = 6
SETTING_MAX_ABSORPTION_MIN: Final = 9
SETTING_CAPACITY_AH: Final = 64
SETTING_SOC_BULK_DONE: Final = 65
# Flags0 bits (reference E.3).
FLAG0_60HZ: Final = 1 << 2
FLAG0_WAVE_CHECK_OFF: Final = 1 << 3
FLAG0_POWER_ASSIST: Final = 1 << 5
FLAG0_CHARGER_OFF: Final = 1 << 6
FLAG0_WAVE_CHECK_TWIN: Final = 1 << 7

# eeprom_writes entry for the 'S' EEPROM-flags byte: the interface's own stored configuration.
INTERFACE_CONFIG_ID: Final = -1


class Danger(StrEnum):
    """Names recorded in `VebusSimulator.dangerous` (reference G)."""

    VEBUS_RESET = "vebus_reset"  # 'F' 8
    RAW_SLEEP = "raw_sleep"  # 05 3F 04 ...
    RAW_WAKE = "raw_wake"  # 05 3F 07 ...
    RAW_VEBUS_FRAME = "raw_vebus_frame"  # any other raw VE.Bus frame from the host
    FORCE_EQUALISE = "force_equalise"
    FORCE_ABSORPTION = "force_absorption"
    FORCE_FLOAT = "force_float"
    AUTO_SEND_STATE = "auto_send_state"  # 'S' flag 0x01
    INTERFACE_EEPROM = "interface_eeprom_flags"  # 'S' 8th data byte
    INTERFACE_RESET = "interface_reset"  # 'R'
    HIGH_SPEED = "high_speed_switch"  # 'N'
    WAVE_CHECK_TWIN = "flags0_wave_check_twin_mismatch"  # Flags0 bit 7 != NOT bit 3


# --------------------------------------------------------------------------- framing


def _nibble_swap(value: int) -> int:
    return ((value << 4) | (value >> 4)) & 0xFF


def checksum(head: bytes) -> int:
    """Checksum byte for a frame without it: the whole frame then sums to 0 mod 256.

    Raw VE.Bus types (reference B.4) also add the nibble-swapped bytes at positions 1, 3 and 5.
    """
    total = sum(head)
    if len(head) > 1 and head[1] in ODD_CHECKSUM_TYPES:
        total += sum(_nibble_swap(head[i]) for i in (1, 3, 5) if i < len(head))
    return -total & 0xFF


def encode_frame(frame_type: int, body: bytes, leds: tuple[int, int] | None = None) -> bytes:
    """`<len> <type> <body> [<led on> <led blink>] <cs>` (reference B.1, B.3)."""
    payload = body if leds is None else body + bytes(leds)
    length = 1 + len(payload)
    if length > MAX_LENGTH:
        raise ValueError(f"frame payload too long: {length}")
    if leds is not None:
        length |= LENGTH_LED_BIT
    head = bytes([length, frame_type]) + payload
    return head + bytes([checksum(head)])


def encode_mk2(letter: str, data: bytes = b"", leds: tuple[int, int] | None = None) -> bytes:
    """An 0xFF frame: command letter followed by its data."""
    return encode_frame(FRAME_MK2, letter.encode("ascii") + data, leds)


@dataclass(frozen=True, slots=True)
class ParsedFrame:
    """One frame with a valid checksum.  `body` is everything after the type byte, LEDs removed."""

    raw: bytes
    frame_type: int
    body: bytes
    leds: tuple[int, int] | None


class _Candidate(IntEnum):
    INVALID = 0
    INCOMPLETE = 1
    COMPLETE = 2


class FrameParser:
    """Byte-stream deframer independent of read chunking.

    Synchronises on a plausible length byte, a known type byte and the checksum; garbage and stray
    0x00 bytes are discarded, and a partial frame is dropped after `idle_timeout` seconds without
    bytes (the ~300 ms receive timeout of reference B.6).
    """

    def __init__(self, *, idle_timeout: float = 0.3, max_buffer: int = 64) -> None:
        self._buffer = bytearray()
        self._last_at: float | None = None
        self._idle_timeout = idle_timeout
        self._max_buffer = max_buffer
        self.discarded = 0

    def feed(self, data: bytes, at: float = 0.0) -> list[ParsedFrame]:
        """Add bytes that arrived at time `at`; return the frames they completed."""
        frames: list[ParsedFrame] = []
        for byte in data:
            frames.extend(self._feed_byte(byte, at))
        return frames

    def _feed_byte(self, byte: int, at: float) -> list[ParsedFrame]:
        if self._buffer and self._last_at is not None and at - self._last_at > self._idle_timeout:
            self._discard(len(self._buffer))
        self._last_at = at
        self._buffer.append(byte)
        frames = []
        while (found := self._find_frame()) is not None:
            start, frame = found
            self._discard(start)
            del self._buffer[: len(frame.raw)]
            frames.append(frame)
        if len(self._buffer) > self._max_buffer:
            self._discard(len(self._buffer) - self._max_buffer)
        return frames

    def _discard(self, count: int) -> None:
        del self._buffer[:count]
        self.discarded += count

    def _find_frame(self) -> tuple[int, ParsedFrame] | None:
        """The first complete frame; a later complete frame wins over an earlier partial one."""
        leading_invalid = 0
        for start in range(len(self._buffer)):
            status, frame = self._candidate(start)
            if status is _Candidate.COMPLETE and frame is not None:
                return start, frame
            if status is _Candidate.INVALID and start == leading_invalid:
                leading_invalid += 1
        self._discard(leading_invalid)
        return None

    def _candidate(self, start: int) -> tuple[_Candidate, ParsedFrame | None]:
        buffer = self._buffer
        length = buffer[start]
        counted = length & 0x7F
        has_leds = bool(length & LENGTH_LED_BIT)
        if not 1 <= counted <= MAX_LENGTH or (has_leds and counted < 3):
            return _Candidate.INVALID, None
        if len(buffer) - start < 2:
            return _Candidate.INCOMPLETE, None
        frame_type = buffer[start + 1]
        if frame_type not in _HOST_FRAME_TYPES or (frame_type == FRAME_MK2 and counted < 2):
            return _Candidate.INVALID, None
        end = start + counted + 2
        if len(buffer) < end:
            return _Candidate.INCOMPLETE, None
        raw = bytes(buffer[start:end])
        if checksum(raw[:-1]) != raw[-1]:
            return _Candidate.INVALID, None
        payload = raw[2:-1]
        if has_leds:
            return _Candidate.COMPLETE, ParsedFrame(
                raw, frame_type, payload[:-2], (payload[-2], payload[-1])
            )
        return _Candidate.COMPLETE, ParsedFrame(raw, frame_type, payload, None)


# --------------------------------------------------------------------------- scaling


def _s16(word: int) -> int:
    word &= 0xFFFF
    return word - 0x10000 if word & 0x8000 else word


def _u16(value: int) -> bytes:
    return (value & 0xFFFF).to_bytes(2, "little")


def _u24(value: int) -> bytes:
    return max(0, min(value, 0xFFFFFF)).to_bytes(3, "little")


@dataclass(frozen=True, slots=True)
class RamVarInfo:
    """Scale and offset words of a RAM variable exactly as GetRAMVarInfo sends them (D.1)."""

    scale_word: int
    offset_word: int = 0

    @property
    def scale(self) -> int:
        return _s16(self.scale_word)

    @property
    def offset(self) -> int:
        return _s16(self.offset_word)

    @property
    def is_bit(self) -> bool:
        return self.offset_word == BIT_VARIABLE_OFFSET

    @property
    def bit(self) -> int:
        """Bit position of a bit variable (scale word = bit + 1)."""
        return self.scale - 1

    @property
    def signed(self) -> bool:
        return self.scale < 0

    @property
    def multiplier(self) -> float:
        magnitude = abs(self.scale)
        return float(magnitude) if magnitude < 0x4000 else 1.0 / (0x8000 - magnitude)

    def to_raw(self, value: float) -> int:
        """The u16 word a device reports for `value` (physical units), saturated."""
        raw = round(value / self.multiplier) - self.offset
        low, high = (-0x8000, 0x7FFF) if self.signed else (0, 0xFFFF)
        return min(max(raw, low), high) & 0xFFFF

    def to_value(self, word: int) -> float:
        raw = _s16(word) if self.signed else word & 0xFFFF
        return self.multiplier * (raw + self.offset)


@dataclass(frozen=True, slots=True)
class SettingInfo:
    """GetSettingInfo fields (D.3): value = multiplier * (raw + offset)."""

    scale: int  # s16: > 0 multiplier, < 0 divisor
    default: int
    minimum: int
    maximum: int  # flag words: mask of the supported bits
    offset: int = 0
    access: int = 0  # ACCESS_GRID_CODE / ACCESS_RESET_REQUIRED
    flag_word: bool = False

    @property
    def multiplier(self) -> float:
        return float(self.scale) if self.scale > 0 else 1.0 / -self.scale

    def to_value(self, raw: int) -> float:
        return self.multiplier * (raw + self.offset)

    def to_raw(self, value: float) -> int:
        return round(value / self.multiplier - self.offset)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True, slots=True)
class VebusModel:
    """One inverter/charger model with its firmware-dependent protocol behaviour."""

    name: str
    description: str
    firmware: int  # AA BB CCC (reference A.2)
    nominal_battery_v: float
    inverter_power_w: float  # continuous, per unit
    max_charge_current_a: float  # per unit
    battery_capacity_ah: float  # physical battery used while setting 64 is 0
    input_current_limit_range: tuple[int, int]  # 0.1 A
    ram_vars: Mapping[int, RamVarInfo]
    settings: Mapping[int, SettingInfo]
    assistants_before_ess: tuple[int, ...]  # header words (each with 0 data ids) before ESS
    ess_by_default: bool
    unique_id: int
    ac_inputs: int = 1
    nominal_ac_v: float = 230.0
    dc_frame_reserved: bytes = bytes([0xF3, 0x00, 0xC8, 0x02])  # T6r bytes [1..4]
    ac_frame_reserved: int = 0xCA  # T5r byte [3]

    @property
    def firmware_build(self) -> int:
        return self.firmware % 1000

    @property
    def sends_access_level(self) -> bool:
        """GetSettingInfo carries the access byte and settings can be protected (fw >= 308)."""
        return self.firmware_build >= 308

    @property
    def has_serial_number(self) -> bool:
        return self.firmware_build >= 308

    @property
    def has_snapshots(self) -> bool:
        """'F' 6 / winmon 0x38 exist on 3xx firmware only (reference C.3)."""
        return self.firmware_build >= 300

    @property
    def read_ram_var_value_b(self) -> bool:
        """'W' ReadRAMVar treats its 2nd byte as a 2nd id (newer firmware) rather than Hi(ID)."""
        return self.firmware_build >= 300


VOLTS_CENTI: Final = RamVarInfo(0x7F9C)  # 0.01, unsigned
AMPS_CENTI: Final = RamVarInfo(0x7F9C)  # 0.01, unsigned (MultiPlus-II inverter current)
AMPS_CENTI_SIGNED: Final = RamVarInfo(0x8064)  # 0.01, signed
AMPS_DECI_SIGNED: Final = RamVarInfo(0x800A)  # 0.1, signed
MAINS_PERIOD: Final = RamVarInfo(0x7C2F)  # 1/977
SOC_FRACTION: Final = RamVarInfo(0x7F38)  # 1/200
WATTS_SIGNED: Final = RamVarInfo(0xFFFF)  # 1, signed
ASSISTANT_WORD: Final = RamVarInfo(0x0001)


def _inverter_period(divisor: int) -> RamVarInfo:
    return RamVarInfo(0x8000 - divisor, 0x0100)


def _bit_var(scale: int) -> RamVarInfo:
    return RamVarInfo(scale, BIT_VARIABLE_OFFSET)


def _volts_setting(default: int, nominal: float, *, low: float, high: float) -> SettingInfo:
    """A DC voltage setting in 0.01 V, its range given for a 12 V system and scaled."""
    factor = nominal / 12.0
    return SettingInfo(-100, default, round(low * factor * 100), round(high * factor * 100))


def _settings(
    *,
    nominal: float,
    absorption: int,
    float_: int,
    charge_a: int,
    limit: tuple[int, int],
    capacity_ah: int,
    extra: Mapping[int, SettingInfo],
) -> dict[int, SettingInfo]:
    low_limit, high_limit = limit
    settings = {
        0: SettingInfo(1, 0x00A0, 0, 0x7FFF, flag_word=True),  # PowerAssist, bit 7 = NOT bit 3
        1: SettingInfo(1, 0x4000, 0, 0xFFFF, flag_word=True),  # remote overrules AC1
        SETTING_ABSORPTION_V: _volts_setting(absorption, nominal, low=9.0, high=17.0),
        SETTING_FLOAT_V: _volts_setting(float_, nominal, low=9.0, high=17.0),
        SETTING_CHARGE_A: SettingInfo(1, charge_a, 0, charge_a),
        SETTING_INVERTER_V: SettingInfo(1, 230, 210, 245),
        SETTING_INPUT_LIMIT: SettingInfo(-10, high_limit, low_limit, high_limit),
        SETTING_MAX_ABSORPTION_MIN: SettingInfo(1, 480, 60, 1440),
        11: _volts_setting(round(1100 * nominal / 12), nominal, low=9.0, high=16.0),
        12: _volts_setting(round(1200 * nominal / 12), nominal, low=9.0, high=16.0),
        15: SettingInfo(1, 1, 0, 6),  # VS usage
        60: SettingInfo(1, 0, 0, 0x000F, flag_word=True),
        61: SettingInfo(1, 0, 0, 0xFFFF, flag_word=True),
        SETTING_CAPACITY_AH: SettingInfo(1, capacity_ah, 0, 65330, access=ACCESS_RESET_REQUIRED),
        SETTING_SOC_BULK_DONE: SettingInfo(-2, 170, 60, 200, access=ACCESS_RESET_REQUIRED),
    }
    settings.update(extra)
    return settings


def _make_models() -> dict[str, VebusModel]:
    base_vars = {
        0: VOLTS_CENTI,
        1: AMPS_CENTI_SIGNED,
        2: VOLTS_CENTI,
        4: VOLTS_CENTI,
        6: VOLTS_CENTI,
        8: MAINS_PERIOD,
        9: AMPS_CENTI_SIGNED,
        13: SOC_FRACTION,
        14: WATTS_SIGNED,
        15: WATTS_SIGNED,
    }
    newer_power_vars = dict.fromkeys((16, 17, 18, 19), WATTS_SIGNED)
    small = VebusModel(
        name="multiplus-12-500",
        description="MultiPlus 12/500/20-16 (old firmware, like the IGUI capture)",
        firmware=1912205,
        nominal_battery_v=12.0,
        inverter_power_w=430.0,
        max_charge_current_a=20.0,
        battery_capacity_ah=100.0,
        input_current_limit_range=(20, 160),
        ram_vars={
            **base_vars,
            3: AMPS_CENTI_SIGNED,
            5: AMPS_CENTI_SIGNED,
            7: _inverter_period(1961),
            10: _bit_var(4),
            11: _bit_var(1),
            12: _bit_var(2),
        },
        settings=_settings(
            nominal=12.0,
            absorption=1440,
            float_=1380,
            charge_a=20,
            limit=(20, 160),
            capacity_ah=100,
            # Setting 14 reproduces the GetSettingInfo capture T12 (scale 1, 3, 1..3).
            extra={14: SettingInfo(1, 3, 1, 3)},
        ),
        assistants_before_ess=(),
        ess_by_default=False,
        unique_id=0x1A2B0010,
    )
    medium = VebusModel(
        name="multiplus-24-3000",
        description="MultiPlus 24/3000/70-16",
        firmware=1924418,
        nominal_battery_v=24.0,
        inverter_power_w=2400.0,
        max_charge_current_a=70.0,
        battery_capacity_ah=400.0,
        input_current_limit_range=(30, 160),
        ram_vars={
            **base_vars,
            **newer_power_vars,
            3: AMPS_CENTI_SIGNED,
            5: AMPS_DECI_SIGNED,
            7: _inverter_period(1953),
            10: _bit_var(4),
            11: _bit_var(1),
            12: _bit_var(6),
        },
        settings=_settings(
            nominal=24.0,
            absorption=2880,
            float_=2760,
            charge_a=70,
            limit=(30, 160),
            capacity_ah=400,
            extra={},
        ),
        assistants_before_ess=(),
        ess_by_default=False,
        unique_id=0x1A2B0020,
    )
    grid_code = {
        44: SettingInfo(1, 180, 170, 210, access=ACCESS_GRID_CODE),  # AC low disconnect
        45: SettingInfo(1, 187, 175, 215, access=ACCESS_GRID_CODE),  # AC low connect
        46: SettingInfo(1, 265, 235, 270, access=ACCESS_GRID_CODE),  # AC high connect
        47: SettingInfo(1, 270, 240, 275, access=ACCESS_GRID_CODE),  # AC high disconnect
        72: SettingInfo(-256, 255, 128, 255, offset=1),  # charge efficiency
    }
    large = VebusModel(
        name="multiplus-ii-48-3000",
        description="MultiPlus-II 48/3000/35-32 with the ESS assistant",
        firmware=2648506,
        nominal_battery_v=48.0,
        inverter_power_w=2400.0,
        max_charge_current_a=35.0,
        battery_capacity_ah=200.0,
        input_current_limit_range=(30, 320),
        ram_vars={
            **base_vars,
            **newer_power_vars,
            3: AMPS_CENTI,
            5: AMPS_DECI_SIGNED,
            7: _inverter_period(1953),
            11: _bit_var(5),
            12: _bit_var(6),
        },
        settings=_settings(
            nominal=48.0,
            absorption=5680,
            float_=5400,
            charge_a=35,
            limit=(30, 320),
            capacity_ah=200,
            extra=grid_code,
        ),
        assistants_before_ess=(0x0090, 0x8800),
        ess_by_default=True,
        unique_id=0x1A2B0030,
    )
    return {model.name: model for model in (small, medium, large)}


MODELS: Final[dict[str, VebusModel]] = _make_models()


# --------------------------------------------------------------------------- physical model


class SwitchMode(IntEnum):
    """'S' switch states (reference C.4)."""

    CHARGER_ONLY = 1
    INVERTER_ONLY = 2
    ON = 3
    OFF = 4


_SWITCH_VALUES: Final = frozenset(int(mode) for mode in SwitchMode)


class DeviceState(IntEnum):
    """AC-frame byte 4 / winmon 0x94 first byte (reference F)."""

    DOWN = 0
    STARTUP = 1
    OFF = 2
    SLAVE = 3
    INVERT_FULL = 4
    INVERT_HALF = 5
    INVERT_AES = 6
    POWER_ASSIST = 7
    BYPASS = 8
    CHARGE = 9


class ChargeState(IntEnum):
    """Winmon 0x94 second byte (reference F)."""

    INIT = 0
    BULK = 1
    ABSORPTION = 2
    FLOAT = 3
    STORAGE = 4
    REPEATED_ABSORPTION = 5
    FORCED_ABSORPTION = 6
    EQUALISE = 7
    BULK_STOPPED = 8


_BULK_STATES: Final = frozenset({ChargeState.INIT, ChargeState.BULK, ChargeState.BULK_STOPPED})
_ABSORPTION_STATES: Final = frozenset(
    {ChargeState.ABSORPTION, ChargeState.REPEATED_ABSORPTION, ChargeState.FORCED_ABSORPTION}
)
_FORCED_STATES: Final = frozenset({ChargeState.FORCED_ABSORPTION, ChargeState.EQUALISE})
_FLOAT_STATES: Final = frozenset({ChargeState.FLOAT, ChargeState.STORAGE})

LED_NAMES: Final = (
    "mains",
    "absorption",
    "bulk",
    "float",
    "inverter",
    "overload",
    "low_battery",
    "temperature",
)
LED_MAINS, LED_ABSORPTION, LED_BULK, LED_FLOAT = 0x01, 0x02, 0x04, 0x08
LED_INVERTER, LED_OVERLOAD, LED_LOW_BATTERY, LED_TEMPERATURE = 0x10, 0x20, 0x40, 0x80
# 'L' alarm byte (reference F).
ALARM_TEMPERATURE_PRE: Final = 0x01
ALARM_LOW_BATTERY_PRE: Final = 0x02
ALARM_OVERLOAD_PRE: Final = 0x04
ALARM_TEMPERATURE: Final = 0x10
ALARM_LOW_BATTERY: Final = 0x20

EFFICIENCY: Final = 0.93  # charger and inverter, applied on the DC side
MAX_STEP_S: Final = 5.0
ESS_TIMEOUT_S: Final = 60.0
FORCED_CHARGE_S: Final = 3600.0
TAIL_CURRENT_C: Final = 0.02  # absorption ends below this share of the capacity (A per Ah)
FLOAT_CURRENT_SHARE: Final = 0.5
EQUALISE_CURRENT_FLOOR: Final = 0.05
EQUALISE_VOLTAGE_RISE: Final = 1.04
STORAGE_VOLTAGE_SHARE: Final = 0.97
REBULK_MARGIN: Final = 0.10
FULL_SOC: Final = 0.99
LOW_BATTERY_PREALARM_SOC: Final = 0.10
REST_VOLTAGE_SPAN: Final = 0.075  # rest voltage = nominal * (1 + span * soc)
DISCHARGE_DROP: Final = 0.04  # voltage sag at full inverter power, share of nominal
GRID_VOLTAGE_WINDOW: Final = (180.0, 270.0)
GRID_FREQUENCY_WINDOW: Final = (45.0, 65.0)
SLEEP_AFTER_S: Final = 5.0
INITIAL_SOC: Final = 0.75
RIPPLE_V_PER_A: Final = 0.002


@dataclass(slots=True)
class Environment:
    """What the unit sees from outside; change it with `VebusSimulator.set_ground_truth`."""

    grid_available: bool = True
    ac_input_voltage: float = 230.0
    ac_input_frequency: float = 50.0
    ac_load_w: float = 0.0  # all phases together
    ignore_ac_input: bool = False
    multi_function_relay: bool = False
    virtual_switch: bool = False
    alarms: int = 0  # extra 'L' alarm bits
    error_code: int = 0  # 'L' VE.Bus error byte


@dataclass(frozen=True, slots=True)
class Truth:
    """The unit in physical units.  Powers are totals over all phases, currents per phase."""

    grid_available: bool
    ac_input_voltage: float  # V RMS at AC-in, 0 without grid
    ac_input_current: float  # A per phase, + = drawn from the grid, - = fed into it
    ac_input_frequency: float  # Hz, 0 without grid
    ac_input_power: float  # W, + = drawn from the grid
    ac_output_voltage: float  # V RMS at AC-out, 0 when the output is dead
    ac_output_current: float  # A per phase, towards the loads
    ac_output_frequency: float  # Hz, 0 when the output is dead
    ac_output_power: float  # W, + = towards the loads
    inverter_power: float  # W at the bridge's AC side, + = AC->DC (charging), RAM var 14
    battery_voltage: float  # V
    battery_current: float  # A, + = charging
    battery_power: float  # W, + = charging
    soc: float  # 0..1
    state: str  # DeviceState name in lower case
    state_code: int
    charge_state: str  # ChargeState name in lower case
    charge_state_code: int
    switch_mode: str  # "charger_only" | "inverter_only" | "on" | "off"
    input_current_limit: float  # A, actual (as 'F' 5 reports it)
    input_current_limit_min: float  # A
    input_current_limit_max: float  # A
    ess_setpoint: int  # W at AC-in, + = discharge/feed-in, - = charge; 0 without ESS
    leds: Mapping[str, str]  # LED name -> "off" | "on" | "blink" | "blink_inverted"
    led_on: int
    led_blink: int
    alarms: int
    error_code: int
    ac_input_ignored: bool
    multi_function_relay: bool
    virtual_switch: bool
    phases: int


# Truth fields `VebusSimulator.pin` may override (the ones the wire frames carry).
PINNABLE: Final = frozenset(
    {
        "ac_input_voltage",
        "ac_input_current",
        "ac_input_frequency",
        "ac_input_power",
        "ac_output_voltage",
        "ac_output_current",
        "ac_output_frequency",
        "ac_output_power",
        "inverter_power",
        "battery_voltage",
        "battery_current",
        "battery_power",
        "soc",
    }
)


@dataclass(frozen=True, slots=True)
class _Operating:
    """One steady-state operating point of the whole system."""

    state: DeviceState
    grid_connected: bool
    output_v: float
    output_f: float
    load_w: float
    bridge_w: float  # AC side, + = charging
    import_w: float
    battery_v: float
    battery_a: float
    charging: bool
    overload: bool = False


class _SettingsStore:
    """EEPROM and effective (RAM) value of every setting."""

    def __init__(self, infos: Mapping[int, SettingInfo], overrides: Mapping[int, int]) -> None:
        self.infos = infos
        self.eeprom = {sid: overrides.get(sid, info.default) for sid, info in infos.items()}
        self.ram = dict(self.eeprom)

    def value(self, setting_id: int, fallback: float) -> float:
        info = self.infos.get(setting_id)
        return fallback if info is None else info.to_value(self.ram[setting_id])

    def raw(self, setting_id: int) -> int | None:
        return self.ram.get(setting_id)

    def write(self, setting_id: int, raw: int, *, eeprom: bool) -> None:
        self.ram[setting_id] = raw
        if eeprom:
            self.eeprom[setting_id] = raw

    def forget_ram_only(self) -> None:
        self.ram = dict(self.eeprom)


def _assistant_records(model: VebusModel, ess: bool) -> tuple[dict[int, int], int | None]:
    """RAM ids from 128 on and the id of the ESS header (reference E.1)."""
    if not ess:
        return {ASSISTANT_BASE_ID: 0}, None
    words = [*model.assistants_before_ess, ESS_ASSISTANT_HEADER]
    records = {ASSISTANT_BASE_ID + index: word for index, word in enumerate(words)}
    header = ASSISTANT_BASE_ID + len(model.assistants_before_ess)
    ess_ids = ESS_ASSISTANT_HEADER & 0x0F
    records.update(dict.fromkeys(range(header + 1, header + 1 + ess_ids), 0))
    records[header + 1 + ess_ids] = 0  # empty header: end of the list
    return records, header


class _Plant:
    """The inverter/charger, its battery and surroundings.  Time only moves in `run`."""

    def __init__(self, model: VebusModel, *, phases: int, ess: bool, battery_monitor: bool):
        self.model = model
        self.phases = phases
        overrides = {} if battery_monitor else {SETTING_CAPACITY_AH: 0}
        self.settings = _SettingsStore(model.settings, overrides)
        self.env = Environment(ac_input_voltage=model.nominal_ac_v)
        self.assistants, self.ess_header = _assistant_records(model, ess)
        self.soc = INITIAL_SOC
        self.charge_state = self._charge_state_for(self.soc)
        self.switch_mode = SwitchMode.ON
        self.current_limit = self._clamp_limit(self.settings.raw(SETTING_INPUT_LIMIT) or 0)
        self.time = 0.0
        self.ess_written_at = 0.0
        self.forced_left = 0.0
        self.absorption_time = 0.0
        self.unattended_off = 0.0
        self.standby_line = False
        self.snapshot: list[int] | None = None
        self.pins: dict[str, float] = {}
        self.led_override: tuple[int, int] | None = None

    # ----------------------------------------------------------------- parameters

    @property
    def ess_setpoint_id(self) -> int | None:
        return None if self.ess_header is None else self.ess_header + 1

    @property
    def ess_setpoint(self) -> int:
        setpoint_id = self.ess_setpoint_id
        return 0 if setpoint_id is None else _s16(self.assistants[setpoint_id])

    def _ess_flags(self) -> int:
        return 0 if self.ess_header is None else self.assistants[self.ess_header + 2]

    def _flags0(self) -> int:
        return int(self.settings.value(SETTING_FLAGS0, FLAG0_POWER_ASSIST))

    def _max_charge_a(self) -> float:
        wanted = self.settings.value(SETTING_CHARGE_A, self.model.max_charge_current_a)
        return max(0.0, min(wanted, self.model.max_charge_current_a)) * self.phases

    def _absorption_v(self) -> float:
        return self.settings.value(SETTING_ABSORPTION_V, self.model.nominal_battery_v * 1.2)

    def _float_v(self) -> float:
        return self.settings.value(SETTING_FLOAT_V, self.model.nominal_battery_v * 1.15)

    def _soc_bulk_done(self) -> float:
        return min(self.settings.value(SETTING_SOC_BULK_DONE, 85.0) / 100.0, 0.99)

    def capacity_ah(self) -> float:
        configured = self.settings.value(SETTING_CAPACITY_AH, 0.0)
        return configured if configured > 0 else self.model.battery_capacity_ah

    def battery_monitor(self) -> bool:
        return self.settings.value(SETTING_CAPACITY_AH, 0.0) > 0

    def output_frequency(self) -> float:
        return 60.0 if self._flags0() & FLAG0_60HZ else 50.0

    def _clamp_limit(self, raw: int) -> int:
        low, high = self.model.input_current_limit_range
        return min(max(raw, low), high)

    def apply_panel(self, state: int, limit: int | None) -> None:
        """An 'S' frame forwarded to the unit: switch state and input current limit (C.4)."""
        if state in _SWITCH_VALUES:
            self.switch_mode = SwitchMode(state)
        if limit is not None and limit < LIMIT_UNCHANGED:
            low, _ = self.model.input_current_limit_range
            self.current_limit = low if limit == 0 else self._clamp_limit(limit)

    def write_setting(self, setting_id: int, raw: int, *, eeprom: bool) -> None:
        self.settings.write(setting_id, raw, eeprom=eeprom)
        if setting_id == SETTING_INPUT_LIMIT:
            self.current_limit = self._clamp_limit(raw)

    def assistant_writable(self, var_id: int) -> bool:
        header = self.ess_header
        return header is not None and header < var_id <= header + (ESS_ASSISTANT_HEADER & 0x0F)

    def write_assistant(self, var_id: int, raw: int) -> None:
        self.assistants[var_id] = raw & 0xFFFF
        if var_id == self.ess_setpoint_id:
            self.ess_written_at = self.time

    def force_charge_state(self, request: int) -> None:
        """Winmon 0x0E 1/2/3: force equalise / absorption / float."""
        forced = {
            1: ChargeState.EQUALISE,
            2: ChargeState.FORCED_ABSORPTION,
            3: ChargeState.FLOAT,
        }[request]
        self.charge_state = forced
        self.forced_left = FORCED_CHARGE_S if forced in _FORCED_STATES else 0.0

    def set_soc(self, soc: float) -> None:
        self.soc = min(max(soc, 0.0), 1.0)
        self.charge_state = self._charge_state_for(self.soc)

    def reboot(self) -> None:
        """Unit reset: RAM-only settings, the ESS setpoint and the snapshot are lost."""
        self.settings.forget_ram_only()
        self.current_limit = self._clamp_limit(self.settings.raw(SETTING_INPUT_LIMIT) or 0)
        for var_id in list(self.assistants):
            if self.assistant_writable(var_id):
                self.assistants[var_id] = 0
        self.snapshot = None
        self.charge_state = self._charge_state_for(self.soc)
        self.forced_left = 0.0

    def _charge_state_for(self, soc: float) -> ChargeState:
        if soc >= FULL_SOC:
            return ChargeState.FLOAT
        if soc >= self._soc_bulk_done():
            return ChargeState.ABSORPTION
        return ChargeState.BULK

    # ----------------------------------------------------------------- battery

    def _rest_v(self) -> float:
        return self.model.nominal_battery_v * (1.0 + REST_VOLTAGE_SPAN * self.soc)

    def _charge_resistance(self) -> float:
        """Chosen so that the bulk voltage reaches absorption exactly at 'SoC when bulk done'."""
        max_a = self._max_charge_a()
        rest_at_switch = self.model.nominal_battery_v * (
            1.0 + REST_VOLTAGE_SPAN * self._soc_bulk_done()
        )
        if max_a <= 0:
            return 0.0
        return max(self._absorption_v() - rest_at_switch, 0.0) / max_a

    def _discharge_resistance(self) -> float:
        nominal = self.model.nominal_battery_v
        full_power_a = self.model.inverter_power_w * self.phases / nominal
        return DISCHARGE_DROP * nominal / full_power_a

    def _target_v(self) -> float:
        state = self.charge_state
        if state in _BULK_STATES or state in _ABSORPTION_STATES:
            return self._absorption_v()
        if state is ChargeState.EQUALISE:
            return self._absorption_v() * EQUALISE_VOLTAGE_RISE
        if state is ChargeState.STORAGE:
            return self._float_v() * STORAGE_VOLTAGE_SHARE
        return self._float_v()

    def _charge_allowance_a(self) -> float:
        """DC current the charger may push in the present charge state."""
        max_a = self._max_charge_a()
        bulk_done = self._soc_bulk_done()
        taper = min(max((1.0 - self.soc) / (1.0 - bulk_done), 0.0), 1.0)
        state = self.charge_state
        if state in _BULK_STATES:
            return max_a if self.soc < 1.0 else 0.0
        if state is ChargeState.EQUALISE:
            return max_a * max(taper, EQUALISE_CURRENT_FLOOR)
        if state in _ABSORPTION_STATES:
            return max_a * taper
        return max_a * taper * FLOAT_CURRENT_SHARE

    def _charging_v(self, amps: float) -> float:
        if self.charge_state in _BULK_STATES:
            return min(self._target_v(), self._rest_v() + amps * self._charge_resistance())
        return self._target_v()

    def _charger_dc_limit_w(self) -> float:
        amps = self._charge_allowance_a()
        return amps * self._charging_v(amps)

    def _battery_v(self, dc_w: float, charger_on: bool) -> float:
        rest = self._rest_v()
        if dc_w < 0:
            drop = 4.0 * -dc_w * self._discharge_resistance()
            return (rest + math.sqrt(max(rest * rest - drop, 0.0))) / 2.0
        if not charger_on:
            return rest
        if self.charge_state in _BULK_STATES:
            rise = 4.0 * dc_w * self._charge_resistance()
            return min(self._target_v(), (rest + math.sqrt(rest * rest + rise)) / 2.0)
        return self._target_v()

    # ----------------------------------------------------------------- operating point

    def grid_usable(self) -> bool:
        env = self.env
        low_v, high_v = GRID_VOLTAGE_WINDOW
        low_f, high_f = GRID_FREQUENCY_WINDOW
        return (
            env.grid_available
            and not env.ignore_ac_input
            and low_v <= env.ac_input_voltage <= high_v
            and low_f <= env.ac_input_frequency <= high_f
        )

    def ess_active(self) -> bool:
        return self.ess_header is not None and self.switch_mode is SwitchMode.ON

    def solve(self) -> _Operating:
        mode = self.switch_mode
        can_invert = mode in (SwitchMode.ON, SwitchMode.INVERTER_ONLY) and self.soc > 0.0
        if mode is SwitchMode.OFF:
            return self._dead()
        if mode is not SwitchMode.INVERTER_ONLY and self.grid_usable():
            return self._on_grid(can_invert)
        if can_invert:
            return self._island()
        return self._dead()

    def _dead(self) -> _Operating:
        return _Operating(
            state=DeviceState.OFF,
            grid_connected=False,
            output_v=0.0,
            output_f=0.0,
            load_w=0.0,
            bridge_w=0.0,
            import_w=0.0,
            battery_v=self._rest_v(),
            battery_a=0.0,
            charging=False,
        )

    def _island(self) -> _Operating:
        load = max(float(self.env.ac_load_w), 0.0)
        capacity = self.model.inverter_power_w * self.phases
        return self._with_battery(
            state=DeviceState.INVERT_FULL,
            grid_connected=False,
            output_v=self.settings.value(SETTING_INVERTER_V, self.model.nominal_ac_v),
            output_f=self.output_frequency(),
            load_w=load,
            bridge_w=-load,
            charger_on=False,
            overload=load > capacity,
        )

    def _on_grid(self, can_invert: bool) -> _Operating:
        load = max(float(self.env.ac_load_w), 0.0)
        headroom = self.current_limit / 10.0 * self.env.ac_input_voltage * self.phases - load
        can_charge = (
            self.switch_mode in (SwitchMode.ON, SwitchMode.CHARGER_ONLY)
            and not self._flags0() & FLAG0_CHARGER_OFF
        )
        charge_cap = self._charger_dc_limit_w() / EFFICIENCY if can_charge else 0.0
        invert_cap = self.model.inverter_power_w * self.phases if can_invert else 0.0
        if self.ess_active():
            bridge = self._ess_bridge(load, charge_cap, invert_cap)
            if bridge > headroom:  # the input current limit also caps what ESS draws
                bridge = max(headroom, -invert_cap)
        else:
            bridge = min(charge_cap, headroom)
            if bridge < 0:
                # Load above the input current limit: PowerAssist tops up from the battery.
                assist = self._flags0() & FLAG0_POWER_ASSIST and can_invert
                bridge = max(bridge, -invert_cap) if assist else 0.0
        if bridge < -0.5:
            state = DeviceState.INVERT_FULL if self.ess_active() else DeviceState.POWER_ASSIST
        elif bridge > 0.5 or (can_charge and not self.ess_active()):
            state = DeviceState.CHARGE
        else:
            state = DeviceState.BYPASS
        return self._with_battery(
            state=state,
            grid_connected=True,
            output_v=self.env.ac_input_voltage,
            output_f=self.env.ac_input_frequency,
            load_w=load,
            bridge_w=bridge,
            charger_on=state is DeviceState.CHARGE,
        )

    def _ess_bridge(self, load: float, charge_cap: float, invert_cap: float) -> float:
        """ESS regulates the AC-input power to minus the setpoint (reference E.1)."""
        bridge = -float(self.ess_setpoint) - load
        flags = self._ess_flags()
        if flags & 0x01:  # charging disabled
            bridge = min(bridge, 0.0)
        if flags & 0x02:  # feed-in disabled
            bridge = max(bridge, -load)
        return min(max(bridge, -invert_cap), charge_cap)

    def _with_battery(
        self,
        *,
        state: DeviceState,
        grid_connected: bool,
        output_v: float,
        output_f: float,
        load_w: float,
        bridge_w: float,
        charger_on: bool,
        overload: bool = False,
    ) -> _Operating:
        dc_w = bridge_w * EFFICIENCY if bridge_w > 0 else bridge_w / EFFICIENCY
        battery_v = self._battery_v(dc_w, charger_on)
        return _Operating(
            state=state,
            grid_connected=grid_connected,
            output_v=output_v,
            output_f=output_f,
            load_w=load_w,
            bridge_w=bridge_w,
            import_w=load_w + bridge_w if grid_connected else 0.0,
            battery_v=battery_v,
            battery_a=dc_w / battery_v,
            charging=charger_on,
            overload=overload,
        )

    # ----------------------------------------------------------------- time

    def run(self, seconds: float) -> None:
        remaining = seconds
        while remaining > 1e-9:
            step = min(remaining, MAX_STEP_S)
            self._step(step)
            remaining -= step

    def _step(self, dt: float) -> None:
        operating = self.solve()
        self.soc = min(max(self.soc + operating.battery_a * dt / (self.capacity_ah() * 3600), 0), 1)
        self._advance_charge_state(operating, dt)
        self.time += dt
        if self.ess_setpoint and self.time - self.ess_written_at >= ESS_TIMEOUT_S:
            # The assistant falls back when the setpoint is not refreshed.
            setpoint_id = self.ess_setpoint_id
            if setpoint_id is not None:
                self.assistants[setpoint_id] = 0
        unattended = (
            self.switch_mode is SwitchMode.OFF
            and not self.env.grid_available
            and not self.standby_line
        )
        self.unattended_off = self.unattended_off + dt if unattended else 0.0

    def _advance_charge_state(self, operating: _Operating, dt: float) -> None:
        state = self.charge_state
        if state in _FORCED_STATES:
            if operating.charging:
                self.forced_left -= dt
            if self.forced_left <= 0:
                self.charge_state = ChargeState.FLOAT
            return
        if operating.charging and state in _BULK_STATES and self.soc >= self._soc_bulk_done():
            self.charge_state = ChargeState.ABSORPTION
            self.absorption_time = 0.0
        elif operating.charging and state in _ABSORPTION_STATES:
            self.absorption_time += dt
            tail = self._charge_allowance_a() < TAIL_CURRENT_C * self.capacity_ah()
            limit_s = self.settings.value(SETTING_MAX_ABSORPTION_MIN, 480.0) * 60.0
            if tail or self.absorption_time >= limit_s:
                self.charge_state = ChargeState.FLOAT
        elif state in _FLOAT_STATES and self.soc < self._soc_bulk_done() - REBULK_MARGIN:
            self.charge_state = ChargeState.BULK

    # ----------------------------------------------------------------- readout

    def leds_and_alarms(self, operating: _Operating) -> tuple[int, int, int]:
        on = blink = 0
        alarms = self.env.alarms
        if operating.grid_connected:
            on |= LED_MAINS
        if operating.charging:
            charge_on, charge_blink = self._charge_leds()
            on |= charge_on
            blink |= charge_blink
        if operating.state is DeviceState.INVERT_FULL:
            on |= LED_INVERTER
        elif operating.state is DeviceState.POWER_ASSIST:
            on |= LED_INVERTER
            blink |= LED_INVERTER
        if operating.overload:
            on |= LED_OVERLOAD
            alarms |= ALARM_OVERLOAD_PRE
        inverting = operating.bridge_w < 0
        if self.soc <= 0.0 and self.switch_mode is not SwitchMode.OFF:
            on |= LED_LOW_BATTERY
            alarms |= ALARM_LOW_BATTERY
        elif inverting and self.soc < LOW_BATTERY_PREALARM_SOC:
            blink |= LED_LOW_BATTERY
            alarms |= ALARM_LOW_BATTERY_PRE
        if alarms & ALARM_TEMPERATURE:
            on |= LED_TEMPERATURE
        elif alarms & ALARM_TEMPERATURE_PRE:
            blink |= LED_TEMPERATURE
        if self.led_override is not None:
            on, blink = self.led_override
        return on, blink, alarms

    def _charge_leds(self) -> tuple[int, int]:
        state = self.charge_state
        if state in _FORCED_STATES:
            # All three charge LEDs blinking together marks a forced charge state (reference F).
            return 0, LED_BULK | LED_ABSORPTION | LED_FLOAT
        if state in _BULK_STATES:
            return LED_BULK, 0
        if state in _ABSORPTION_STATES:
            return LED_ABSORPTION, 0
        if state is ChargeState.STORAGE:
            return 0, LED_FLOAT
        return LED_FLOAT, 0

    def truth(self) -> Truth:
        operating = self.solve()
        env = self.env
        on, blink, alarms = self.leds_and_alarms(operating)
        low, high = self.model.input_current_limit_range
        input_v = env.ac_input_voltage if env.grid_available else 0.0
        battery_w = operating.battery_a * operating.battery_v
        output_power = operating.load_w if operating.output_v > 0 else 0.0
        pinned = self.pins.get
        return Truth(
            grid_available=env.grid_available,
            ac_input_voltage=pinned("ac_input_voltage", input_v),
            ac_input_current=pinned(
                "ac_input_current",
                _per_phase_current(operating.import_w, input_v, self.phases),
            ),
            ac_input_frequency=pinned(
                "ac_input_frequency", env.ac_input_frequency if env.grid_available else 0.0
            ),
            ac_input_power=pinned("ac_input_power", operating.import_w),
            ac_output_voltage=pinned("ac_output_voltage", operating.output_v),
            ac_output_current=pinned(
                "ac_output_current",
                _per_phase_current(output_power, operating.output_v, self.phases),
            ),
            ac_output_frequency=pinned("ac_output_frequency", operating.output_f),
            ac_output_power=pinned("ac_output_power", output_power),
            inverter_power=pinned("inverter_power", operating.bridge_w),
            battery_voltage=pinned("battery_voltage", operating.battery_v),
            battery_current=pinned("battery_current", operating.battery_a),
            battery_power=pinned("battery_power", battery_w),
            soc=pinned("soc", self.soc),
            state=operating.state.name.lower(),
            state_code=int(operating.state),
            charge_state=self.charge_state.name.lower(),
            charge_state_code=int(self.charge_state),
            switch_mode=self.switch_mode.name.lower(),
            input_current_limit=self.current_limit / 10.0,
            input_current_limit_min=low / 10.0,
            input_current_limit_max=high / 10.0,
            ess_setpoint=self.ess_setpoint,
            leds=MappingProxyType(_led_states(on, blink)),
            led_on=on,
            led_blink=blink,
            alarms=alarms,
            error_code=env.error_code,
            ac_input_ignored=env.ignore_ac_input,
            multi_function_relay=env.multi_function_relay,
            virtual_switch=env.virtual_switch,
            phases=self.phases,
        )


def _per_phase_current(power_w: float, voltage: float, phases: int) -> float:
    return power_w / phases / voltage if voltage > 0 else 0.0


def _led_states(on: int, blink: int) -> dict[str, str]:
    states = {}
    for bit, name in enumerate(LED_NAMES):
        mask = 1 << bit
        if on & mask and blink & mask:
            states[name] = "blink_inverted"
        elif blink & mask:
            states[name] = "blink"
        else:
            states[name] = "on" if on & mask else "off"
    return states


# --------------------------------------------------------------------------- wire readout


def _period(frequency: float) -> float:
    """Scaled period variables hold 10x the period in seconds (reference D.1)."""
    return 10.0 / frequency if frequency > 0 else 0.0


def _physical_ram_values(truth: Truth, *, battery_monitor: bool) -> dict[int, float]:
    """RAM vars 0-19 of one unit in physical units; each unit carries its share of the totals."""
    share = 1.0 / truth.phases
    powers = {
        14: truth.inverter_power * share,
        15: -truth.ac_input_power * share,  # negative = consuming from the grid
        16: truth.ac_output_power * share,
    }
    return {
        0: truth.ac_input_voltage,
        1: truth.ac_input_current,
        2: truth.ac_output_voltage,
        3: truth.ac_output_current,
        4: truth.battery_voltage,
        5: truth.battery_current * share,
        6: abs(truth.battery_current) * RIPPLE_V_PER_A,
        7: _period(truth.ac_output_frequency),
        8: _period(truth.ac_input_frequency),
        9: truth.ac_output_current,
        13: truth.soc if battery_monitor else 1.0,
        **powers,
        **{var_id + 3: value for var_id, value in powers.items()},  # unfiltered twins
    }


def _status_word(model: VebusModel, truth: Truth) -> int:
    """The raw word behind the bit variables 10-12."""
    word = 0
    for var_id, is_set in (
        (10, truth.virtual_switch),
        (11, truth.ac_input_ignored),
        (12, truth.multi_function_relay),
    ):
        info = model.ram_vars.get(var_id)
        if info is not None and is_set:
            word |= 1 << info.bit
    return word


def _period_byte(info: RamVarInfo, frequency: float) -> int:
    return min(info.to_raw(_period(frequency)), 0xFF)


def dc_info_body(model: VebusModel, truth: Truth) -> bytes:
    """'F' 0 reply after the 0x20 type byte (reference C.3)."""
    amps = model.ram_vars[5]
    discharge = round(max(-truth.battery_current, 0.0) / amps.multiplier)
    charge = round(max(truth.battery_current, 0.0) / amps.multiplier)
    return (
        model.dc_frame_reserved
        + bytes([DC_INFO_MARKER])
        + _u16(model.ram_vars[4].to_raw(truth.battery_voltage))
        + _u24(discharge)
        + _u24(charge)
        + bytes([_period_byte(model.ram_vars[7], truth.ac_output_frequency)])
    )


def phase_byte(phase: int, phases: int) -> int:
    """0x08+n-1 for L1 of an n-phase system, then 0x07, 0x06, 0x05 for L2..L4."""
    return 0x07 + phases if phase == 1 else 0x09 - phase


def ac_info_body(model: VebusModel, truth: Truth, phase: int) -> bytes:
    """'F' 1..4 reply after the 0x20 type byte (reference C.3); factors are always 1."""
    variables = model.ram_vars
    return (
        bytes([1, 1, model.ac_frame_reserved, truth.state_code, phase_byte(phase, truth.phases)])
        + _u16(variables[0].to_raw(truth.ac_input_voltage))
        + _u16(variables[1].to_raw(truth.ac_input_current))
        + _u16(variables[2].to_raw(truth.ac_output_voltage))
        + _u16(variables[3].to_raw(truth.ac_output_current))
        + bytes([_period_byte(variables[8], truth.ac_input_frequency)])
    )


def switch_register(mode: SwitchMode) -> int:
    """'F' 5 switch register with the front switch up (reference F: 0x77 = on)."""
    remote = {
        SwitchMode.CHARGER_ONLY: 0x01,
        SwitchMode.INVERTER_ONLY: 0x02,
        SwitchMode.ON: 0x03,
        SwitchMode.OFF: 0x00,
    }[mode]
    return remote | _SWITCH_REG_FRONT_ON | remote << 4 | _SWITCH_REG_ONBOARD


# --------------------------------------------------------------------------- records and faults


@dataclass(frozen=True, slots=True)
class ReceivedFrame:
    """One valid frame the host sent."""

    raw: bytes
    frame_type: int
    command: str | None  # MK2 command letter for 0xFF frames
    winmon: int | None  # winmon code inside W/X/Y/Z/x/y/z
    winmon_name: str | None
    args: bytes  # after the letter (and after the winmon code)
    time: float  # simulator clock


class SettingWrite(NamedTuple):
    setting_id: int  # INTERFACE_CONFIG_ID for the 'S' EEPROM-flags byte
    raw: int


@dataclass(frozen=True, slots=True)
class SettingWriteRecord:
    """Every accepted setting write, with where it went."""

    setting_id: int
    raw: int
    eeprom: bool
    via: str  # "write_via_id" | "write_setting" | "s_eeprom_flags"
    flag_word: bool
    time: float


class RamVarWrite(NamedTuple):
    var_id: int
    raw: int
    ram_only: bool  # WriteViaID flag 0x02 was set


@dataclass(slots=True)
class Counters:
    bytes_received: int = 0
    bytes_sent: int = 0
    frames_received: int = 0
    replies_sent: int = 0  # reply frames (a short GetSettingInfo answer counts 2)
    unsolicited_sent: int = 0
    garbage_bytes: int = 0  # bytes the parser threw away
    latency_total_s: float = 0.0  # processing latency applied to answered requests


@dataclass(frozen=True, slots=True)
class Latencies:
    """Processing delay between a request's last byte and its reply's first byte."""

    default: float = 0.02
    f5: float = 0.3
    address_version: float = 0.03

    def for_request(self, command: str | None, args: bytes) -> float:
        if command in ("A", "V"):
            return self.address_version
        if command == "F" and args[:1] == b"\x05":
            return self.f5
        return self.default


@dataclass(frozen=True, slots=True)
class InterfaceState:
    """What the MK3 itself remembers (lost when VE.Bus power goes away)."""

    address: int | None
    flags: int
    flags_ext0: int | None
    short_replies: bool
    line_state: int
    eeprom_flags: int | None  # persistent


class Faults:
    """Runtime fault injection, settable while the simulator runs."""

    def __init__(
        self,
        *,
        on_asleep: Callable[[bool], None],
        on_reset: Callable[[], None],
        on_disconnect: Callable[[], None],
    ) -> None:
        self.garbage_next = b""  # bytes sent just before the next reply
        self.corrupt_next = 0  # next N reply frames get an inverted checksum
        self.drop_next = 0  # next N answered requests are executed but get no reply
        self.stray_zero_bytes = False  # 0x00 bytes before every frame
        self.unsolicited_vebus_frames = False  # raw 0x21 frames now and then
        self._asleep = False
        self._on_asleep = on_asleep
        self._on_reset = on_reset
        self._on_disconnect = on_disconnect

    @property
    def asleep(self) -> bool:
        """The MK3 lost VE.Bus power: complete silence; on waking its state is back to defaults."""
        return self._asleep

    @asleep.setter
    def asleep(self, value: bool) -> None:
        changed = value != self._asleep
        self._asleep = value
        if changed:
            self._on_asleep(value)

    def reset(self) -> None:
        """Unit reboot: boot frame, RAM-only settings lost, interface address forgotten."""
        self._on_reset()

    def disconnect(self) -> None:
        """The port disappears: drop the TCP client, close the pty."""
        self._on_disconnect()


# --------------------------------------------------------------------------- transport links


class _Link:
    """One host connection: its own deframer and receive-wire clock."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.parser = FrameParser()
        self.rx_free = 0.0
        self.open = True

    def send(self, data: bytes) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.open = False


class _TcpLink(_Link):
    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__(f"tcp {transport.get_extra_info('peername')}")
        self._transport = transport

    def send(self, data: bytes) -> None:
        if self.open and not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        super().close()
        self._transport.close()


class _TcpProtocol(asyncio.Protocol):
    def __init__(self, sim: VebusSimulator) -> None:
        self._sim = sim
        self._link: _TcpLink | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._link = _TcpLink(transport)
        self._sim._attach(self._link, exclusive=_TcpLink)

    def data_received(self, data: bytes) -> None:
        if self._link is not None and self._link.open:
            self._sim._on_bytes(self._link, data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._link is not None:
            self._link.open = False
            self._sim._detach(self._link)


class _PtyLink(_Link):
    """Master side of a pseudo-terminal; the host opens the slave path like a serial port."""

    def __init__(self, on_bytes: Callable[[_Link, bytes], None]) -> None:
        self._master, self._slave = os.openpty()
        # Raw mode on the slave: no echo or line editing between the host and the "MK3".
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        super().__init__(f"pty {self.path}")
        self._on_bytes = on_bytes
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(self._master, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._master, 4096)
        except OSError:
            return  # EAGAIN/EIO: nothing to read while no host has the slave open
        if data:
            self._on_bytes(self, data)

    def send(self, data: bytes) -> None:
        if not self.open:
            return
        # A full pty buffer means nobody reads: a UART would lose those bytes too.
        with contextlib.suppress(OSError):
            os.write(self._master, data)

    def close(self) -> None:
        if not self.open:
            return
        super().close()
        self._loop.remove_reader(self._master)
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


@dataclass(frozen=True, slots=True)
class _Request:
    frame: ParsedFrame
    link: _Link | None
    ready_at: float  # when its last byte has crossed the 2400-baud wire


@dataclass(frozen=True, slots=True)
class _Outgoing:
    data: bytes
    link: _Link | None  # None: every open link (unsolicited traffic)


class _Out(NamedTuple):
    """A frame to send, before LED bytes and checksum are added."""

    frame_type: int
    body: bytes


@dataclass(frozen=True, slots=True)
class _WinmonRequest:
    letter: int  # reply letter (upper case)
    code: int
    args: bytes
    via_w: bool
    unit: int

    def byte(self, index: int) -> int:
        # Missing parameter bytes read as 0, as a padded 'W' frame would carry them.
        return self.args[index] if index < len(self.args) else 0

    def word(self, index: int) -> int:
        return self.byte(index) | self.byte(index + 1) << 8


_WINMON_NAMES: Final = {code.value: code.name.lower() for code in Winmon}

_REFUSED: Final = bytes([Reply.UNKNOWN])
_UNKNOWN_COMMAND: Final = bytes([Reply.UNKNOWN, 0x00])

BYTE_BITS: Final = 10  # 8N1
HOUSEKEEPING_S: Final = 0.05
VERSION_QUIET_S: Final = 1.0
INTERFACE_RESET_S: Final = 0.5
RAW_FRAME_INTERVAL_S: Final = (1.0, 4.0)


@dataclass(slots=True)
class _Mk3:
    """Mutable MK3 state."""

    address: int | None = None
    flags: int = 0
    flags_ext0: int | None = None
    short_replies: bool = True
    line_state: int = LINE_POWER_ON_DEFAULT
    eeprom_flags: int | None = None
    pending_write: tuple[bool, int] | None = None  # (is_setting, id) after 0x32/0x33


# --------------------------------------------------------------------------- the simulator


class VebusSimulator:
    """An MK3-USB (or MK2) with one or three MultiPlus units behind it.

    model: a `MODELS` key or a `VebusModel`.  reply_format: winmon format before any 'S' frame
    sets FlagsExt0 (after an interface reset or power loss the MK3 default is "short").
    led_appended: start with the 'S' LED-append flag set, as if another tool had left it on.
    version_frames / version_interval_s: unsolicited 'V' frames while the host is quiet.
    phases: 1 or 3 units (addresses 0..phases-1, each its own phase).  ess: assistant records
    with ESS (None: the model's default).  battery_monitor: setting 64 > 0 (else var 13 reads
    100 %).  interface_version: 'V' firmware; below 1170000 it is an MK2 without 'H'.
    baud / pace: byte pacing in both directions.  latency_s / f5_latency_s / av_latency_s:
    processing delay before replies (default / 'F' 5 / 'A' and 'V').  auto_sleep: a unit
    switched off without AC input or standby line sleeps after 5 s and wakes when AC returns.
    seed: unsolicited noise.  clock: time source of the physical model (default monotonic).
    """

    def __init__(
        self,
        model: str | VebusModel = "multiplus-ii-48-3000",
        *,
        reply_format: ReplyFormat = "long",
        led_appended: bool = False,
        version_frames: bool = True,
        version_interval_s: float = 1.0,
        phases: int = 1,
        ess: bool | None = None,
        battery_monitor: bool = True,
        serial_number: str = "HQ2132ABCDE",
        interface_version: int = MK3_VERSION,
        baud: int = 2400,
        pace: bool = True,
        latency_s: float = 0.02,
        f5_latency_s: float = 0.3,
        av_latency_s: float = 0.03,
        auto_sleep: bool = True,
        seed: int = 0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(model, str):
            if model not in MODELS:
                raise ValueError(f"unknown model {model!r}; known: {', '.join(sorted(MODELS))}")
            model = MODELS[model]
        if phases not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        if len(serial_number) != 11 or not serial_number.isascii():
            raise ValueError("serial_number must be 11 ASCII characters")
        self.model = model
        self.phases = phases
        self.serial_number = serial_number
        self.interface_version = interface_version
        self.baud = baud
        self.pace = pace
        self.latencies = Latencies(latency_s, f5_latency_s, av_latency_s)
        self.version_frames = version_frames
        self.version_interval_s = version_interval_s
        self.auto_sleep = auto_sleep
        self._clock = clock or time.monotonic
        self._last_clock = self._clock()
        self._rng = random.Random(seed)
        self._plant = _Plant(
            model,
            phases=phases,
            ess=model.ess_by_default if ess is None else ess,
            battery_monitor=battery_monitor,
        )
        self._mk3 = _Mk3(
            flags=S_APPEND_LEDS if led_appended else 0, short_replies=reply_format == "short"
        )
        self.faults = Faults(
            on_asleep=self._on_asleep,
            on_reset=self._unit_reset,
            on_disconnect=self._disconnect_links,
        )
        self.counters = Counters()
        self.frames_received: list[ReceivedFrame] = []
        self.dangerous: list[str] = []
        self.eeprom_writes: list[SettingWrite] = []
        self.ram_writes: list[SettingWrite] = []
        self.setting_writes: list[SettingWriteRecord] = []
        self.ram_var_writes: list[RamVarWrite] = []
        self.url: str | None = None
        self.pty_path: str | None = None
        self._auto_asleep = False
        self._links: list[_Link] = []
        self._server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._requests: asyncio.Queue[_Request] | None = None
        self._tx: asyncio.Queue[_Outgoing] | None = None
        self._busy = False
        self._tx_free = 0.0
        self._last_host_byte = 0.0
        self._last_version = 0.0
        self._deaf_until = 0.0
        self._version_after_reset = False
        self._next_raw_frame = 0.0
        self._mk2_commands: dict[str, Callable[[bytes], list[_Out]]] = {
            "A": self._cmd_address,
            "V": self._cmd_version,
            "L": self._cmd_leds,
            "S": self._cmd_switch,
            "F": self._cmd_info,
            "H": self._cmd_lines,
            "R": self._cmd_interface_reset,
            "N": self._cmd_high_speed,
        }
        self._winmon_commands: dict[int, Callable[[_WinmonRequest], list[bytes]]] = {
            Winmon.SEND_LED_STATUS: lambda _req: [bytes([Reply.LED_STATUS])],
            Winmon.VERSION_PART0: self._wm_version_low,
            Winmon.VERSION_PART1: self._wm_version_high,
            Winmon.DEVICE_STATE: self._wm_device_state,
            Winmon.READ_RAM_VAR: self._wm_read_ram_vars,
            Winmon.READ_SETTING: self._wm_read_setting,
            Winmon.WRITE_RAM_VAR: self._wm_start_write,
            Winmon.WRITE_SETTING: self._wm_start_write,
            Winmon.WRITE_DATA: self._wm_write_data,
            Winmon.SETTING_INFO: self._wm_setting_info,
            Winmon.RAM_VAR_INFO: self._wm_ram_var_info,
            Winmon.WRITE_VIA_ID: self._wm_write_via_id,
            Winmon.READ_SNAPSHOT: self._wm_read_snapshot,
            Winmon.SERIAL_NUMBER: self._wm_serial_number,
        }

    # ----------------------------------------------------------------- lifecycle

    async def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen like ser2net; returns "socket://HOST:PORT".  A new client replaces the old."""
        if self._server is not None:
            raise RuntimeError("TCP transport already started")
        self._ensure_tasks()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _TcpProtocol(self), host, port)
        bound_port = self._server.sockets[0].getsockname()[1]
        self.url = f"socket://{host}:{bound_port}"
        return self.url

    async def start_pty(self) -> str:
        """Open a pseudo-terminal; returns the slave device path the host opens."""
        self._ensure_tasks()
        link = _PtyLink(self._on_bytes)
        self._attach(link, exclusive=_PtyLink)
        self.pty_path = link.path
        return link.path

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        self._disconnect_links()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    def _ensure_tasks(self) -> None:
        if self._tasks:
            return
        self._requests = asyncio.Queue()
        self._tx = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._serve_requests(), name="vebus-sim-requests"),
            asyncio.create_task(self._transmit(), name="vebus-sim-transmit"),
            asyncio.create_task(self._housekeeping(), name="vebus-sim-housekeeping"),
        ]

    def _attach(self, link: _Link, *, exclusive: type[_Link]) -> None:
        for old in [other for other in self._links if isinstance(other, exclusive)]:
            old.close()
            self._links.remove(old)
        self._links.append(link)

    def _detach(self, link: _Link) -> None:
        if link in self._links:
            self._links.remove(link)

    def _disconnect_links(self) -> None:
        for link in self._links:
            link.close()
        self._links.clear()

    # ----------------------------------------------------------------- public state

    def truth(self) -> Truth:
        self._sync()
        return self._plant.truth()

    def set_ground_truth(
        self,
        *,
        grid_available: bool | None = None,
        ac_input_voltage: float | None = None,
        ac_input_frequency: float | None = None,
        ac_load_w: float | None = None,
        soc: float | None = None,
        switch_mode: str | None = None,
        ignore_ac_input: bool | None = None,
        multi_function_relay: bool | None = None,
        virtual_switch: bool | None = None,
        alarms: int | None = None,
        error_code: int | None = None,
    ) -> None:
        """Change the surroundings (None = unchanged); time up to now runs with the old ones."""
        self._sync()
        env = self._plant.env
        updates = {
            "grid_available": grid_available,
            "ac_input_voltage": ac_input_voltage,
            "ac_input_frequency": ac_input_frequency,
            "ac_load_w": ac_load_w,
            "ignore_ac_input": ignore_ac_input,
            "multi_function_relay": multi_function_relay,
            "virtual_switch": virtual_switch,
            "alarms": alarms,
            "error_code": error_code,
        }
        for name, value in updates.items():
            if value is not None:
                setattr(env, name, value)
        if soc is not None:
            self._plant.set_soc(soc)
        if switch_mode is not None:
            self._plant.switch_mode = SwitchMode[switch_mode.upper()]
        self._check_sleep()

    def pin(self, **values: float) -> None:
        """Report fixed measurements (e.g. to replay a capture) until `unpin`."""
        unknown = set(values) - PINNABLE
        if unknown:
            raise ValueError(f"not pinnable: {sorted(unknown)}")
        self._plant.pins.update(values)

    def unpin(self, *names: str) -> None:
        if not names:
            self._plant.pins.clear()
        for name in names:
            self._plant.pins.pop(name, None)

    def override_leds(self, on: int | None, blink: int = 0) -> None:
        """Force the LED bytes (None: back to the ones the state implies)."""
        self._plant.led_override = None if on is None else (on, blink)

    def advance(self, seconds: float) -> None:
        """Run the physical model for `seconds` on top of the clock."""
        self._sync()
        self._plant.run(seconds)
        self._check_sleep()

    @property
    def eeprom_values(self) -> Mapping[int, int]:
        return MappingProxyType(self._plant.settings.eeprom)

    @property
    def ram_values(self) -> Mapping[int, int]:
        """Effective setting values, including RAM-only writes."""
        return MappingProxyType(self._plant.settings.ram)

    @property
    def ess_setpoint_id(self) -> int | None:
        return self._plant.ess_setpoint_id

    @property
    def interface(self) -> InterfaceState:
        mk3 = self._mk3
        return InterfaceState(
            address=mk3.address,
            flags=mk3.flags,
            flags_ext0=mk3.flags_ext0,
            short_replies=mk3.short_replies,
            line_state=mk3.line_state,
            eeprom_flags=mk3.eeprom_flags,
        )

    def wire_seconds(self, byte_count: int) -> float:
        """Time `byte_count` bytes take on the wire at the configured baud rate."""
        return byte_count * BYTE_BITS / self.baud

    def respond(self, request: bytes) -> list[bytes]:
        """Process one request frame in-process (no transport, latency or faults)."""
        frames = FrameParser().feed(request)
        if len(frames) != 1:
            raise ValueError(f"expected exactly one valid frame, got {len(frames)}")
        self._record(frames[0])
        self._sync()
        return [self._encode(out) for out in self._dispatch(frames[0])]

    # ----------------------------------------------------------------- time

    def _sync(self) -> None:
        now = self._clock()
        elapsed = now - self._last_clock
        self._last_clock = now
        if elapsed > 0:
            self._plant.run(elapsed)
        self._check_sleep()

    def _check_sleep(self) -> None:
        """A switched-off unit without AC or standby line goes to sleep and takes the MK3 along."""
        plant = self._plant
        if self._auto_asleep and plant.env.grid_available:
            self._auto_asleep = False
            self.faults.asleep = False
        elif self.auto_sleep and not self.faults.asleep and plant.unattended_off >= SLEEP_AFTER_S:
            self._auto_asleep = True
            self.faults.asleep = True

    def _on_asleep(self, asleep: bool) -> None:
        if asleep:
            return
        # Back on VE.Bus power: everything but the EEPROM flags is at its power-on default.
        self._mk3 = _Mk3(eeprom_flags=self._mk3.eeprom_flags)
        self._plant.standby_line = bool(self._mk3.line_state & LINE_STANDBY)

    def _unit_reset(self) -> None:
        self._sync()
        self._plant.reboot()
        self._mk3.address = None
        self._mk3.pending_write = None
        if not self.faults.asleep:
            self._queue_frame(encode_frame(FRAME_BOOT, bytes(4)), None, reply=False)

    # ----------------------------------------------------------------- receive path

    def _on_bytes(self, link: _Link, data: bytes) -> None:
        now = time.monotonic()
        self.counters.bytes_received += len(data)
        self._last_host_byte = now
        before = link.parser.discarded
        for byte in data:
            arrival = self._arrival(link, now)
            for frame in link.parser.feed(bytes([byte]), arrival):
                assert self._requests is not None
                self._requests.put_nowait(_Request(frame, link, arrival))
        self.counters.garbage_bytes += link.parser.discarded - before

    def _arrival(self, link: _Link, now: float) -> float:
        """When a byte has fully crossed the wire: bytes queue behind each other at the baud."""
        if not self.pace:
            return now
        link.rx_free = max(now, link.rx_free) + self.wire_seconds(1)
        return link.rx_free

    async def _serve_requests(self) -> None:
        assert self._requests is not None
        while True:
            request = await self._requests.get()
            self._busy = True
            try:
                await _sleep_until(request.ready_at)
                await self._process(request)
            except Exception:
                _LOGGER.exception("simulator failed on %s", request.frame.raw.hex(" "))
            finally:
                self._busy = False

    async def _process(self, request: _Request) -> None:
        received = self._record(request.frame)
        if self.faults.asleep or request.ready_at < self._deaf_until:
            return
        self._sync()
        outputs = self._dispatch(request.frame)
        if not outputs:
            return
        if self.faults.drop_next > 0:
            self.faults.drop_next -= 1
            return
        latency = self.latencies.for_request(received.command, received.args)
        self.counters.latency_total_s += latency
        if latency > 0:
            await asyncio.sleep(latency)
        if self._silent():
            return
        for out in outputs:
            self._queue_frame(self._encode(out), request.link, reply=True)

    def _silent(self) -> bool:
        # A method rather than the attribute: it may change while a coroutine awaits.
        return self.faults.asleep

    def _record(self, frame: ParsedFrame) -> ReceivedFrame:
        command: str | None = None
        winmon: int | None = None
        args = frame.body
        if frame.frame_type == FRAME_MK2 and frame.body:
            command = chr(frame.body[0])
            args = frame.body[1:]
            if frame.body[0] in _WINMON_LETTERS and args:
                winmon, args = args[0], args[1:]
        received = ReceivedFrame(
            raw=frame.raw,
            frame_type=frame.frame_type,
            command=command,
            winmon=winmon,
            winmon_name=None if winmon is None else _WINMON_NAMES.get(winmon, "unknown"),
            args=args,
            time=self._clock(),
        )
        self.frames_received.append(received)
        self.counters.frames_received += 1
        return received

    # ----------------------------------------------------------------- transmit path

    def _encode(self, out: _Out) -> bytes:
        leds = None
        if self._mk3.flags & S_APPEND_LEDS and out.frame_type in _LED_CAPABLE_TYPES:
            truth = self._plant.truth()
            leds = (truth.led_on, truth.led_blink)
        return encode_frame(out.frame_type, out.body, leds)

    def _queue_frame(self, frame: bytes, link: _Link | None, *, reply: bool) -> None:
        if self._tx is None:
            return
        faults = self.faults
        chunk = bytearray()
        if reply and faults.garbage_next:
            chunk += faults.garbage_next
            faults.garbage_next = b""
        if faults.stray_zero_bytes:
            chunk += bytes(self._rng.randint(1, 3))
        if reply and faults.corrupt_next > 0:
            faults.corrupt_next -= 1
            frame = frame[:-1] + bytes([frame[-1] ^ 0xFF])
        chunk += frame
        if reply:
            self.counters.replies_sent += 1
        else:
            self.counters.unsolicited_sent += 1
        self._tx.put_nowait(_Outgoing(bytes(chunk), link))

    async def _transmit(self) -> None:
        assert self._tx is not None
        while True:
            outgoing = await self._tx.get()
            try:
                await self._write(outgoing)
            except Exception:
                _LOGGER.exception("simulator failed to send %s", outgoing.data.hex(" "))

    async def _write(self, outgoing: _Outgoing) -> None:
        targets = [outgoing.link] if outgoing.link is not None else list(self._links)
        if self.faults.asleep:
            return
        if not self.pace:
            self._send(targets, outgoing.data)
            return
        byte_time = self.wire_seconds(1)
        start = max(time.monotonic(), self._tx_free)
        self._tx_free = start + len(outgoing.data) * byte_time
        pending = bytearray()
        for index, byte in enumerate(outgoing.data):
            due = start + (index + 1) * byte_time
            if due > time.monotonic():
                self._send(targets, bytes(pending))
                pending.clear()
                await _sleep_until(due)
            if self._silent():
                return
            pending.append(byte)
        self._send(targets, bytes(pending))

    def _send(self, targets: Sequence[_Link], data: bytes) -> None:
        if not data:
            return
        for link in targets:
            link.send(data)
        self.counters.bytes_sent += len(data)

    # ----------------------------------------------------------------- unsolicited traffic

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_S)
            try:
                self._tick()
            except Exception:
                _LOGGER.exception("simulator housekeeping failed")

    def _tick(self) -> None:
        self._sync()
        if self.faults.asleep or not self._links:
            return
        now = time.monotonic()
        if now < self._deaf_until:
            return
        if self._version_after_reset or (
            self.version_frames
            and self._idle(now)
            and now - self._last_version >= self.version_interval_s
        ):
            self._version_after_reset = False
            self._last_version = now
            self._queue_frame(self._encode(self._version_frame()), None, reply=False)
        if self.faults.unsolicited_vebus_frames and now >= self._next_raw_frame:
            self._next_raw_frame = now + self._rng.uniform(*RAW_FRAME_INTERVAL_S)
            payload = bytes(self._rng.randrange(256) for _ in range(5))
            self._queue_frame(encode_frame(FRAME_RAW_BUS, payload), None, reply=False)

    def _idle(self, now: float) -> bool:
        """Nothing in flight and the host has been quiet for a while (reference A.3)."""
        assert self._requests is not None
        assert self._tx is not None
        return (
            not self._busy
            and self._requests.empty()
            and self._tx.empty()
            and now >= self._tx_free
            and now - self._last_host_byte >= VERSION_QUIET_S
        )

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, frame: ParsedFrame) -> list[_Out]:
        if frame.frame_type == FRAME_MK2 and frame.body:
            letter = frame.body[0]
            data = frame.body[1:]
            if letter in _WINMON_LETTERS:
                return self._winmon(letter, data)
            handler = self._mk2_commands.get(chr(letter))
            return [] if handler is None else handler(data)
        if frame.frame_type in ODD_CHECKSUM_TYPES:
            self._raw_bus_frame(frame)
        return []

    def _raw_bus_frame(self, frame: ParsedFrame) -> None:
        """Raw VE.Bus frames from the host are only recorded (reference B.4, G.4)."""
        if frame.frame_type == FRAME_SLEEP_WAKE and frame.body[:1] == b"\x04":
            self.dangerous.append(Danger.RAW_SLEEP)
        elif frame.frame_type == FRAME_SLEEP_WAKE and frame.body[:1] == b"\x07":
            self.dangerous.append(Danger.RAW_WAKE)
        else:
            self.dangerous.append(Danger.RAW_VEBUS_FRAME)

    def _cmd_address(self, data: bytes) -> list[_Out]:
        if len(data) < 2:
            return []
        action, address = data[0], data[1]
        if action == 1:
            self._mk3.address = address
            return [_Out(FRAME_MK2, b"A" + data[:2])]
        current = 0 if self._mk3.address is None else self._mk3.address
        return [_Out(FRAME_MK2, bytes([ord("A"), action, current]))]

    def _version_frame(self) -> _Out:
        trailing = NO_ADDRESS if self._mk3.address is None else self._mk3.address
        body = b"V" + self.interface_version.to_bytes(4, "little") + bytes([trailing])
        return _Out(FRAME_MK2, body)

    def _cmd_version(self, _data: bytes) -> list[_Out]:
        return [self._version_frame()]

    def _cmd_leds(self, _data: bytes) -> list[_Out]:
        truth = self._plant.truth()
        status = bytes([truth.led_on, truth.led_blink, truth.alarms & 0xFF, truth.error_code])
        return [_Out(FRAME_MK2, b"L" + status + _LED_REPLY_TAIL)]

    def _cmd_switch(self, data: bytes) -> list[_Out]:
        if len(data) < 5:
            return []
        mk3 = self._mk3
        state, limit, flags = data[0], data[1] | data[2] << 8, data[4]
        mk3.flags = flags
        if flags & S_AUTO_SEND_STATE:
            self.dangerous.append(Danger.AUTO_SEND_STATE)
        if len(data) >= 7:
            mk3.flags_ext0 = data[6]
            mk3.short_replies = bool(data[6] & EXT0_SHORT_REPLIES)
        if len(data) >= 8:
            self._record_interface_eeprom(data[7])
        if not flags & S_DO_NOT_SEND_STATE:
            # Without the new-format flag the two bytes are a pot-meter value and a panel scale.
            self._plant.apply_panel(state, limit if flags & S_NEW_FORMAT else None)
        return [_Out(FRAME_MK2, b"S")]

    def _record_interface_eeprom(self, value: int) -> None:
        self._mk3.eeprom_flags = value
        self.dangerous.append(Danger.INTERFACE_EEPROM)
        self.eeprom_writes.append(SettingWrite(INTERFACE_CONFIG_ID, value))
        self.setting_writes.append(
            SettingWriteRecord(
                INTERFACE_CONFIG_ID, value, True, "s_eeprom_flags", False, self._clock()
            )
        )

    def _cmd_lines(self, data: bytes) -> list[_Out]:
        if self.interface_version < _FIRST_MK3_VERSION:
            return []  # an MK2 has jumpers instead
        if data:
            self._mk3.line_state = data[0]
            self._plant.standby_line = bool(data[0] & LINE_STANDBY)
        return [_Out(FRAME_MK2, bytes([ord("H"), self._mk3.line_state]))]

    def _cmd_interface_reset(self, _data: bytes) -> list[_Out]:
        self.dangerous.append(Danger.INTERFACE_RESET)
        self._mk3 = _Mk3(eeprom_flags=self._mk3.eeprom_flags)
        self._plant.standby_line = bool(self._mk3.line_state & LINE_STANDBY)
        # The interface reboots: deaf for a moment, then announces itself with a 'V' frame.
        self._deaf_until = time.monotonic() + INTERFACE_RESET_S
        self._version_after_reset = True
        return []

    def _cmd_high_speed(self, _data: bytes) -> list[_Out]:
        self.dangerous.append(Danger.HIGH_SPEED)
        return []  # the simulated line stays at its configured baud rate

    # ----------------------------------------------------------------- 'F' info frames

    def _cmd_info(self, data: bytes) -> list[_Out]:
        if not data:
            return []
        request, rest = data[0], data[1:]
        truth = self._plant.truth()
        if request == 0:
            return [_Out(FRAME_INFO, dc_info_body(self.model, truth))]
        if 1 <= request <= 4:
            if request > self.phases:
                return []  # no unit on that phase: the real interface stays silent
            return [_Out(FRAME_INFO, ac_info_body(self.model, truth, request))]
        if request == 5:
            return [_Out(FRAME_MASTER_LED, self._master_led_body())]
        if request == 6:
            self._take_snapshot(rest, truth)
        elif request == 7:
            return self._config_frame(rest[:1])
        elif request == 8:
            self._vebus_reset(rest)
        return []

    def _master_led_body(self) -> bytes:
        plant = self._plant
        low, high = self.model.input_current_limit_range
        config = self.model.ac_inputs << 4 | _AC_CONFIG_LIMIT_SETTABLE
        if self._mk3.line_state & LINE_PANEL_DETECT:
            config |= _AC_CONFIG_PANEL
        return (
            _MASTER_LED_PREFIX
            + bytes([config])
            + _u16(low)
            + _u16(high)
            + _u16(plant.current_limit)
            + bytes([switch_register(plant.switch_mode)])
        )

    def _take_snapshot(self, ids: bytes, truth: Truth) -> None:
        if not self.model.has_snapshots:
            return
        values = [self._ram_var_raw(var_id, truth) for var_id in ids[:6]]
        self._plant.snapshot = [0 if value is None else value for value in values]

    def _config_frame(self, address: bytes) -> list[_Out]:
        unit = address[0] if address else 0
        if unit >= self.phases:
            return []
        present = (1 << self.phases) - 1
        config = bytes([0, 0]) + present.to_bytes(4, "little") + bytes([0, 0, unit])
        body = (self.model.unique_id + unit).to_bytes(4, "little") + bytes([CONFIG_FRAME_TYPE])
        return [_Out(FRAME_INFO, body + config)]

    def _vebus_reset(self, id_bytes: bytes) -> None:
        self.dangerous.append(Danger.VEBUS_RESET)
        padded = id_bytes.ljust(4, b"\x00")
        # Byte order on the wire is ID2 ID3 ID0 ID1 (reference C.3).
        unique_id = padded[2] | padded[3] << 8 | padded[0] << 16 | padded[1] << 24
        units = {self.model.unique_id + unit for unit in range(self.phases)}
        if unique_id == 0 or unique_id in units:
            self._unit_reset()

    # ----------------------------------------------------------------- winmon

    def _winmon(self, letter: int, data: bytes) -> list[_Out]:
        if not data:
            return []
        args = data[1:]
        unit = 0 if self._mk3.address is None else self._mk3.address
        if letter in _ADDRESSED_WINMON_LETTERS and args:
            # Lower-case variant: the VE.Bus address rides as the last byte (reference C).
            unit, args = args[-1], args[:-1]
        if unit >= self.phases:
            return []  # nobody at that address answers
        request = _WinmonRequest(
            letter=ord(chr(letter).upper()),
            code=data[0],
            args=args,
            via_w=letter == ord("W"),
            unit=unit,
        )
        if request.code not in (Winmon.WRITE_DATA, Winmon.WRITE_RAM_VAR, Winmon.WRITE_SETTING):
            self._mk3.pending_write = None
        handler = self._winmon_commands.get(request.code)
        replies = [_UNKNOWN_COMMAND] if handler is None else handler(request)
        return [_Out(FRAME_MK2, bytes([request.letter]) + reply) for reply in replies]

    def _ram_var_raw(self, var_id: int, truth: Truth) -> int | None:
        plant = self._plant
        if var_id >= ASSISTANT_BASE_ID:
            return self._assistant_raw(var_id, truth)
        info = self.model.ram_vars.get(var_id)
        if info is None:
            return None
        if info.is_bit:
            return _status_word(self.model, truth)
        values = _physical_ram_values(truth, battery_monitor=plant.battery_monitor())
        return info.to_raw(values.get(var_id, 0.0))

    def _assistant_raw(self, var_id: int, truth: Truth) -> int | None:
        plant = self._plant
        if var_id == plant.ess_setpoint_id:
            # The assistant re-uses its setpoint variable: reading it back gives what it
            # achieved at AC-in, not what was written (reference G, YVES).
            return round(-truth.ac_input_power) & 0xFFFF
        return plant.assistants.get(var_id)

    def _ram_var_info(self, var_id: int) -> RamVarInfo | None:
        plant = self._plant
        if var_id >= ASSISTANT_BASE_ID:
            if var_id not in plant.assistants:
                return None
            return WATTS_SIGNED if var_id == plant.ess_setpoint_id else ASSISTANT_WORD
        return self.model.ram_vars.get(var_id)

    def _wm_read_ram_vars(self, request: _WinmonRequest) -> list[bytes]:
        if not request.via_w:
            ids = list(request.args[:6])
        elif self.model.read_ram_var_value_b:
            ids = [request.byte(0), request.byte(1)]  # the 2nd byte is a 2nd id ("ValueB")
        else:
            ids = [request.word(0)]
        truth = self._plant.truth()
        values = bytearray([Reply.RAM_VALUES])
        for index, var_id in enumerate(ids):
            raw = self._ram_var_raw(var_id, truth)
            if raw is None:
                return [bytes([Reply.RAM_UNSUPPORTED, index])]
            values += _u16(raw)
        return [bytes(values)]

    def _wm_read_setting(self, request: _WinmonRequest) -> list[bytes]:
        # ReadSetting shows the EEPROM value: RAM-only writes are invisible (reference D.4 #13).
        raw = self._plant.settings.eeprom.get(request.word(0))
        if raw is None:
            return [bytes([Reply.SETTING_UNSUPPORTED])]
        return [bytes([Reply.SETTING_VALUE]) + _u16(raw)]

    def _wm_start_write(self, request: _WinmonRequest) -> list[bytes]:
        """0x32/0x33 only name the target; the following 0x34 carries the value."""
        self._mk3.pending_write = (request.code == Winmon.WRITE_SETTING, request.word(0))
        return []

    def _wm_write_data(self, request: _WinmonRequest) -> list[bytes]:
        pending = self._mk3.pending_write
        self._mk3.pending_write = None
        if pending is None:
            return [_REFUSED]
        is_setting, target = pending
        if is_setting:
            return [self._write_setting(target, request.word(0), eeprom=True, via="write_setting")]
        return [self._write_ram_var(target, request.word(0), ram_only=False)]

    def _wm_write_via_id(self, request: _WinmonRequest) -> list[bytes]:
        flags, target, value = request.byte(0), request.byte(1), request.word(2)
        ram_only = bool(flags & 0x02)
        if flags & 0x01:
            return [self._write_setting(target, value, eeprom=not ram_only, via="write_via_id")]
        return [self._write_ram_var(target, value, ram_only=ram_only)]

    def _write_setting(self, setting_id: int, raw: int, *, eeprom: bool, via: str) -> bytes:
        info = self.model.settings.get(setting_id)
        if info is None:
            return _REFUSED
        if self.model.sends_access_level and info.access & ACCESS_GRID_CODE:
            return bytes([Reply.ACCESS_LEVEL, ACCESS_GRID_CODE])
        if info.flag_word:
            raw &= info.maximum  # unsupported flag bits are ignored by the device
            if setting_id == SETTING_FLAGS0 and self._wave_check_twin_broken(raw):
                self.dangerous.append(Danger.WAVE_CHECK_TWIN)
        elif not info.minimum <= raw <= info.maximum:
            return _REFUSED
        self._plant.write_setting(setting_id, raw, eeprom=eeprom)
        (self.eeprom_writes if eeprom else self.ram_writes).append(SettingWrite(setting_id, raw))
        self.setting_writes.append(
            SettingWriteRecord(setting_id, raw, eeprom, via, info.flag_word, self._clock())
        )
        return bytes([Reply.SETTING_WRITTEN])

    @staticmethod
    def _wave_check_twin_broken(flags0: int) -> bool:
        return bool(flags0 & FLAG0_WAVE_CHECK_OFF) == bool(flags0 & FLAG0_WAVE_CHECK_TWIN)

    def _write_ram_var(self, var_id: int, raw: int, *, ram_only: bool) -> bytes:
        if not self._plant.assistant_writable(var_id):
            return _REFUSED
        self._plant.write_assistant(var_id, raw)
        self.ram_var_writes.append(RamVarWrite(var_id, raw, ram_only))
        return bytes([Reply.RAM_WRITTEN])

    def _wm_setting_info(self, request: _WinmonRequest) -> list[bytes]:
        info = self.model.settings.get(request.word(0))
        if info is None:
            return [bytes([Reply.SETTING_SCALE])]
        scale, offset = _u16(info.scale), _u16(info.offset)
        if self._mk3.short_replies:
            return [
                bytes([Reply.SETTING_SCALE])
                + scale
                + bytes([Reply.SETTING_OFFSET])
                + offset
                + bytes([Reply.SETTING_DEFAULT])
                + _u16(info.default)
                + bytes([Reply.SETTING_MIN])
                + _u16(info.minimum),
                bytes([Reply.SETTING_MAX]) + _u16(info.maximum),
            ]
        access = bytes([info.access]) if self.model.sends_access_level else b""
        return [
            bytes([Reply.SETTING_SCALE])
            + scale
            + offset
            + _u16(info.default)
            + _u16(info.minimum)
            + _u16(info.maximum)
            + access
        ]

    def _wm_ram_var_info(self, request: _WinmonRequest) -> list[bytes]:
        info = self._ram_var_info(request.word(0))
        if info is None:
            return [bytes([Reply.RAM_SCALE])]
        scale, offset = _u16(info.scale_word), _u16(info.offset_word)
        if self._mk3.short_replies:
            return [bytes([Reply.RAM_SCALE]) + scale + bytes([Reply.RAM_OFFSET]) + offset]
        return [bytes([Reply.RAM_SCALE]) + scale + offset]

    def _wm_device_state(self, request: _WinmonRequest) -> list[bytes]:
        action = request.byte(0)
        if action > 3:
            return [_REFUSED]
        if action:
            self.dangerous.append(
                (Danger.FORCE_EQUALISE, Danger.FORCE_ABSORPTION, Danger.FORCE_FLOAT)[action - 1]
            )
            self._plant.force_charge_state(action)
        truth = self._plant.truth()
        return [bytes([Reply.DEVICE_STATE, truth.state_code, truth.charge_state_code])]

    def _wm_version_low(self, _request: _WinmonRequest) -> list[bytes]:
        firmware = self.model.firmware.to_bytes(4, "little")
        if self._mk3.short_replies:
            return [bytes([Reply.VERSION_LOW]) + firmware[:2]]
        return [bytes([Reply.VERSION_LOW]) + firmware + _VERSION_EXTRA]

    def _wm_version_high(self, _request: _WinmonRequest) -> list[bytes]:
        return [bytes([Reply.VERSION_HIGH]) + self.model.firmware.to_bytes(4, "little")[2:]]

    def _wm_read_snapshot(self, _request: _WinmonRequest) -> list[bytes]:
        if not self.model.has_snapshots:
            return [_REFUSED]
        snapshot = self._plant.snapshot or []
        # A bare 0x99 tells the host the snapshot is gone and must be taken again.
        return [bytes([Reply.SNAPSHOT]) + b"".join(_u16(value) for value in snapshot)]

    def _wm_serial_number(self, _request: _WinmonRequest) -> list[bytes]:
        if not self.model.has_serial_number:
            return [_REFUSED]
        return [bytes([Reply.SERIAL_NUMBER]) + self.serial_number.encode("ascii")]


async def _sleep_until(deadline: float) -> None:
    delay = deadline - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


# --------------------------------------------------------------------------- command line


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}") from err


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.vebus",
        description="Simulate an MK3-USB with a MultiPlus behind it (MK2 protocol, 2400 baud).",
    )
    parser.add_argument("--model", default="multiplus-ii-48-3000", choices=sorted(MODELS))
    parser.add_argument("--tcp", type=_host_port, metavar="HOST:PORT", help="listen like ser2net")
    parser.add_argument("--pty", action="store_true", help="open a pseudo-terminal")
    parser.add_argument("--phases", type=int, choices=(1, 3), default=1)
    parser.add_argument(
        "--ess", action=argparse.BooleanOptionalAction, default=None, help="ESS assistant"
    )
    parser.add_argument("--battery-monitor", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--reply-format", choices=("long", "short"), default="long")
    parser.add_argument("--led-appended", action="store_true", help="LED bytes on every frame")
    parser.add_argument("--no-version-frames", action="store_true")
    parser.add_argument("--no-pace", action="store_true", help="no 2400-baud pacing")
    parser.add_argument("--mk2", action="store_true", help="an MK2 (fw 1130134) instead of MK3")
    parser.add_argument("--unsolicited-vebus-frames", action="store_true")
    parser.add_argument("--soc", type=float, default=INITIAL_SOC, help="initial SoC 0..1")
    parser.add_argument("--load", type=float, default=300.0, help="AC load W")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    return parser


def _simulator_from_args(args: argparse.Namespace) -> VebusSimulator:
    sim = VebusSimulator(
        args.model,
        reply_format=args.reply_format,
        led_appended=args.led_appended,
        version_frames=not args.no_version_frames,
        phases=args.phases,
        ess=args.ess,
        battery_monitor=args.battery_monitor,
        interface_version=MK2_VERSION if args.mk2 else MK3_VERSION,
        pace=not args.no_pace,
        seed=args.seed,
    )
    sim.faults.unsolicited_vebus_frames = args.unsolicited_vebus_frames
    sim.set_ground_truth(soc=args.soc, ac_load_w=args.load)
    return sim


async def _serve(args: argparse.Namespace, stop: asyncio.Event) -> None:
    sim = _simulator_from_args(args)
    try:
        if args.tcp is not None:
            host, port = args.tcp
            print(f"{sim.model.name}: {await sim.start_tcp(host, port)}", flush=True)
        if args.pty:
            print(f"{sim.model.name}: {await sim.start_pty()}", flush=True)
        await stop.wait()
    finally:
        await sim.stop()
        if args.verbose:
            for frame in sim.frames_received:
                _LOGGER.debug("received %s", frame.raw.hex(" "))


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.tcp is None and not args.pty:
        args.tcp = ("127.0.0.1", 5000)
    return run_until_stopped(lambda stop: _serve(args, stop), verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
