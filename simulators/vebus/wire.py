"""The MK2 protocol on the wire: constants, command and reply codes, framing, checksums."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Final, Literal

type ReplyFormat = Literal["long", "short"]

# --------------------------------------------------------------------------- wire constants

MK3_VERSION: Final = 1170212
MK2_VERSION: Final = 1130134
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


WINMON_LETTERS: Final = frozenset(b"WXYZxyz")

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
