"""What the simulator records of the host's traffic, and what the MK3 itself remembers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .wire import LINE_POWER_ON_DEFAULT


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
class InterfaceState:
    """What the MK3 itself remembers (lost when VE.Bus power goes away)."""

    address: int | None
    flags: int
    flags_ext0: int | None
    short_replies: bool
    line_state: int
    eeprom_flags: int | None  # persistent


@dataclass(slots=True)
class Mk3State:
    """Mutable MK3 state."""

    address: int | None = None
    flags: int = 0
    flags_ext0: int | None = None
    short_replies: bool = True
    line_state: int = LINE_POWER_ON_DEFAULT
    eeprom_flags: int | None = None
    pending_write: tuple[bool, int] | None = None  # (is_setting, id) after 0x32/0x33
