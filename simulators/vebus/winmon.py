"""Winmon requests to the unit ('W' 'X' 'Y' 'Z', addressed 'x' 'y' 'z'): variables, settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .core import OutFrame, SimulatorCore
from .models import ASSISTANT_WORD, WATTS_SIGNED
from .readout import physical_ram_values, status_word
from .records import RamVarWrite, SettingWrite, SettingWriteRecord
from .scaling import RamVarInfo, u16
from .state import Truth
from .wire import (
    ACCESS_GRID_CODE,
    ASSISTANT_BASE_ID,
    FLAG0_WAVE_CHECK_OFF,
    FLAG0_WAVE_CHECK_TWIN,
    FRAME_MK2,
    SETTING_FLAGS0,
    Danger,
    Reply,
    Winmon,
)

_ADDRESSED_WINMON_LETTERS: Final = frozenset(b"xyz")
# The two bytes after the u32 in the long software-version reply (reference C.5 example).
_VERSION_EXTRA: Final = bytes([0x07, 0x01])


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


_REFUSED: Final = bytes([Reply.UNKNOWN])
_UNKNOWN_COMMAND: Final = bytes([Reply.UNKNOWN, 0x00])


class WinmonCommands(SimulatorCore):
    """The unit's answers to winmon requests, and the writes they make."""

    serial_number: str
    eeprom_writes: list[SettingWrite]
    ram_writes: list[SettingWrite]
    setting_writes: list[SettingWriteRecord]
    ram_var_writes: list[RamVarWrite]
    _winmon_commands: dict[int, Callable[[_WinmonRequest], list[bytes]]]

    def _winmon(self, letter: int, data: bytes) -> list[OutFrame]:
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
        return [OutFrame(FRAME_MK2, bytes([request.letter]) + reply) for reply in replies]

    def _ram_var_raw(self, var_id: int, truth: Truth) -> int | None:
        plant = self._plant
        if var_id >= ASSISTANT_BASE_ID:
            return self._assistant_raw(var_id, truth)
        info = self.model.ram_vars.get(var_id)
        if info is None:
            return None
        if info.is_bit:
            return status_word(self.model, truth)
        values = physical_ram_values(truth, battery_monitor=plant.battery_monitor())
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
            values += u16(raw)
        return [bytes(values)]

    def _wm_read_setting(self, request: _WinmonRequest) -> list[bytes]:
        # ReadSetting shows the EEPROM value: RAM-only writes are invisible (reference D.4 #13).
        raw = self._plant.settings.eeprom.get(request.word(0))
        if raw is None:
            return [bytes([Reply.SETTING_UNSUPPORTED])]
        return [bytes([Reply.SETTING_VALUE]) + u16(raw)]

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
        scale, offset = u16(info.scale), u16(info.offset)
        if self._mk3.short_replies:
            return [
                bytes([Reply.SETTING_SCALE])
                + scale
                + bytes([Reply.SETTING_OFFSET])
                + offset
                + bytes([Reply.SETTING_DEFAULT])
                + u16(info.default)
                + bytes([Reply.SETTING_MIN])
                + u16(info.minimum),
                bytes([Reply.SETTING_MAX]) + u16(info.maximum),
            ]
        access = bytes([info.access]) if self.model.sends_access_level else b""
        return [
            bytes([Reply.SETTING_SCALE])
            + scale
            + offset
            + u16(info.default)
            + u16(info.minimum)
            + u16(info.maximum)
            + access
        ]

    def _wm_ram_var_info(self, request: _WinmonRequest) -> list[bytes]:
        info = self._ram_var_info(request.word(0))
        if info is None:
            return [bytes([Reply.RAM_SCALE])]
        scale, offset = u16(info.scale_word), u16(info.offset_word)
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
        return [bytes([Reply.SNAPSHOT]) + b"".join(u16(value) for value in snapshot)]

    def _wm_serial_number(self, _request: _WinmonRequest) -> list[bytes]:
        if not self.model.has_serial_number:
            return [_REFUSED]
        return [bytes([Reply.SERIAL_NUMBER]) + self.serial_number.encode("ascii")]
