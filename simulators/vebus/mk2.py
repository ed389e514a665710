"""The MK2 commands the interface answers: address, version, LEDs, switch, lines, 'F' frames."""

from __future__ import annotations

from collections.abc import Callable
import time
from typing import Final

from .core import OutFrame
from .readout import ac_info_body, dc_info_body, switch_register
from .records import Mk3State, SettingWrite, SettingWriteRecord
from .scaling import u16
from .state import Truth
from .winmon import WinmonCommands
from .wire import (
    CONFIG_FRAME_TYPE,
    EXT0_SHORT_REPLIES,
    FRAME_INFO,
    FRAME_MASTER_LED,
    FRAME_MK2,
    FRAME_SLEEP_WAKE,
    INTERFACE_CONFIG_ID,
    LINE_PANEL_DETECT,
    LINE_STANDBY,
    ODD_CHECKSUM_TYPES,
    S_AUTO_SEND_STATE,
    S_DO_NOT_SEND_STATE,
    S_NEW_FORMAT,
    WINMON_LETTERS,
    Danger,
    ParsedFrame,
)

# Interfaces with older firmware are MK2s: jumpers instead of the 'H' lines.
_FIRST_MK3_VERSION: Final = 1170000
# Trailing bytes of the MK3's 6-byte 'L' reply whose meaning is unknown (T4r).
_LED_REPLY_TAIL: Final = bytes([0x80, 0x00])
# Bytes [1..4] of the 'F' 5 reply as seen on real units (reference C.3).
_MASTER_LED_PREFIX: Final = bytes([0x10, 0x05, 0x00, 0x00])
_AC_CONFIG_LIMIT_SETTABLE: Final = 0x04
_AC_CONFIG_PANEL: Final = 0x80
INTERFACE_RESET_S: Final = 0.5


class Mk2Commands(WinmonCommands):
    """What the interface does with each frame from the host; winmon requests go to the unit."""

    _mk2_commands: dict[str, Callable[[bytes], list[OutFrame]]]

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, frame: ParsedFrame) -> list[OutFrame]:
        if frame.frame_type == FRAME_MK2 and frame.body:
            letter = frame.body[0]
            data = frame.body[1:]
            if letter in WINMON_LETTERS:
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

    def _cmd_address(self, data: bytes) -> list[OutFrame]:
        if len(data) < 2:
            return []
        action, address = data[0], data[1]
        if action == 1:
            self._mk3.address = address
            return [OutFrame(FRAME_MK2, b"A" + data[:2])]
        current = 0 if self._mk3.address is None else self._mk3.address
        return [OutFrame(FRAME_MK2, bytes([ord("A"), action, current]))]

    def _cmd_version(self, _data: bytes) -> list[OutFrame]:
        return [self._version_frame()]

    def _cmd_leds(self, _data: bytes) -> list[OutFrame]:
        truth = self._plant.truth()
        status = bytes([truth.led_on, truth.led_blink, truth.alarms & 0xFF, truth.error_code])
        return [OutFrame(FRAME_MK2, b"L" + status + _LED_REPLY_TAIL)]

    def _cmd_switch(self, data: bytes) -> list[OutFrame]:
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
        return [OutFrame(FRAME_MK2, b"S")]

    def _record_interface_eeprom(self, value: int) -> None:
        self._mk3.eeprom_flags = value
        self.dangerous.append(Danger.INTERFACE_EEPROM)
        self.eeprom_writes.append(SettingWrite(INTERFACE_CONFIG_ID, value))
        self.setting_writes.append(
            SettingWriteRecord(
                INTERFACE_CONFIG_ID, value, True, "s_eeprom_flags", False, self._clock()
            )
        )

    def _cmd_lines(self, data: bytes) -> list[OutFrame]:
        if self.interface_version < _FIRST_MK3_VERSION:
            return []  # an MK2 has jumpers instead
        if data:
            self._mk3.line_state = data[0]
            self._plant.standby_line = bool(data[0] & LINE_STANDBY)
        return [OutFrame(FRAME_MK2, bytes([ord("H"), self._mk3.line_state]))]

    def _cmd_interface_reset(self, _data: bytes) -> list[OutFrame]:
        self.dangerous.append(Danger.INTERFACE_RESET)
        self._mk3 = Mk3State(eeprom_flags=self._mk3.eeprom_flags)
        self._plant.standby_line = bool(self._mk3.line_state & LINE_STANDBY)
        # The interface reboots: deaf for a moment, then announces itself with a 'V' frame.
        self._deaf_until = time.monotonic() + INTERFACE_RESET_S
        self._version_after_reset = True
        return []

    def _cmd_high_speed(self, _data: bytes) -> list[OutFrame]:
        self.dangerous.append(Danger.HIGH_SPEED)
        return []  # the simulated line stays at its configured baud rate

    # ----------------------------------------------------------------- 'F' info frames

    def _cmd_info(self, data: bytes) -> list[OutFrame]:
        if not data:
            return []
        request, rest = data[0], data[1:]
        truth = self._plant.truth()
        if request == 0:
            return [OutFrame(FRAME_INFO, dc_info_body(self.model, truth))]
        if 1 <= request <= 4:
            if request > self.phases:
                return []  # no unit on that phase: the real interface stays silent
            return [OutFrame(FRAME_INFO, ac_info_body(self.model, truth, request))]
        if request == 5:
            return [OutFrame(FRAME_MASTER_LED, self._master_led_body())]
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
            + u16(low)
            + u16(high)
            + u16(plant.current_limit)
            + bytes([switch_register(plant.switch_mode)])
        )

    def _take_snapshot(self, ids: bytes, truth: Truth) -> None:
        if not self.model.has_snapshots:
            return
        values = [self._ram_var_raw(var_id, truth) for var_id in ids[:6]]
        self._plant.snapshot = [0 if value is None else value for value in values]

    def _config_frame(self, address: bytes) -> list[OutFrame]:
        unit = address[0] if address else 0
        if unit >= self.phases:
            return []
        present = (1 << self.phases) - 1
        config = bytes([0, 0]) + present.to_bytes(4, "little") + bytes([0, 0, unit])
        body = (self.model.unique_id + unit).to_bytes(4, "little") + bytes([CONFIG_FRAME_TYPE])
        return [OutFrame(FRAME_INFO, body + config)]

    def _vebus_reset(self, id_bytes: bytes) -> None:
        self.dangerous.append(Danger.VEBUS_RESET)
        padded = id_bytes.ljust(4, b"\x00")
        # Byte order on the wire is ID2 ID3 ID0 ID1 (reference C.3).
        unique_id = padded[2] | padded[3] << 8 | padded[0] << 16 | padded[1] << 24
        units = {self.model.unique_id + unit for unit in range(self.phases)}
        if unique_id == 0 or unique_id in units:
            self._unit_reset()
