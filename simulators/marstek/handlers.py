"""Marstek.GetDevice and the write methods (ES.SetMode, DOD.SET, Led.Ctrl, Ble.Adv)."""

from __future__ import annotations

from collections.abc import Callable

from .core import SimulatorCore
from .results import device_result
from .state import DOD_MAX, DOD_MIN, ManualSlot
from .wire import (
    BROADCAST_BLE_MAC,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    SET_MODE_NAMES,
    JsonObject,
    Mode,
    RpcError,
    instance_id,
    require_hh_mm,
    require_int,
    require_number,
    require_object,
)


class MethodHandlers(SimulatorCore):
    """Marstek.GetDevice and the write methods; the read methods are in `results`."""

    def _get_device(self, params: JsonObject) -> JsonObject | None:
        wanted = params.get("ble_mac")
        if not isinstance(wanted, str):
            raise RpcError(INVALID_PARAMS)
        if wanted == BROADCAST_BLE_MAC:
            if self.profile.no_broadcast_discovery:
                return None
        elif wanted.lower() != self.state.ble_mac:
            return None  # discovery aimed at another device
        return device_result(self.profile, self.state)

    def _take_set_result_false(self) -> bool:
        if self.faults.set_result_false_next > 0:
            self.faults.set_result_false_next -= 1
            return True
        return False

    def _write(self, params: JsonObject, apply: Callable[[], None]) -> JsonObject:
        """Ack a validated write; a busy device (set_result false) changes nothing."""
        accepted = not self._take_set_result_false()
        if accepted:
            apply()
            self._refresh_setpoint()
        return {"id": instance_id(params), "set_result": accepted}

    def _set_mode(self, params: JsonObject) -> JsonObject:
        config = require_object(params.get("config"))
        mode_name = config.get("mode")
        if not isinstance(mode_name, str) or mode_name not in SET_MODE_NAMES:
            raise RpcError(INVALID_PARAMS)
        mode, cfg_key = SET_MODE_NAMES[mode_name]
        if mode is Mode.UPS and not self.profile.ups_supported:
            raise RpcError(METHOD_NOT_FOUND)
        if mode is Mode.PASSIVE and not self.profile.passive_supported:
            raise RpcError(INVALID_PARAMS)
        cfg = require_object(config.get(cfg_key))
        apply = self._mode_change(mode, cfg)
        return self._write(params, apply)

    def _mode_change(self, mode: Mode, cfg: JsonObject) -> Callable[[], None]:
        """Validate a mode config and return the state change it asks for."""
        state = self.state
        match mode:
            case Mode.MANUAL:
                index, slot = self._parse_manual(cfg)

                def apply_manual() -> None:
                    state.manual_slots[index] = slot
                    state.mode = Mode.MANUAL
                    state.passive_remaining_s = 0.0

                return apply_manual
            case Mode.PASSIVE:
                limit = self.profile.power_limit_w
                power = require_number(cfg, "power")
                countdown = require_number(cfg, "cd_time")
                if abs(power) > limit or countdown < 0:
                    raise RpcError(INVALID_PARAMS)

                def apply_passive() -> None:
                    state.mode = Mode.PASSIVE
                    state.passive_power_w = float(int(power))
                    state.passive_remaining_s = float(int(countdown))

                return apply_passive
            case _:
                enable = self._optional_flag(cfg, "enable")

                def apply_simple() -> None:
                    state.mode = mode
                    state.passive_remaining_s = 0.0
                    if mode is Mode.UPS:
                        state.ups_enabled = enable != 0

                return apply_simple

    def _parse_manual(self, cfg: JsonObject) -> tuple[int, ManualSlot]:
        index = require_int(cfg, "time_num", 0, self.profile.slot_count - 1)
        slot = ManualSlot(
            start_minute=require_hh_mm(cfg, "start_time"),
            end_minute=require_hh_mm(cfg, "end_time"),
            week_set=require_int(cfg, "week_set", 0, 255) & 0x7F,  # bit7 is ignored
            power_w=int(require_number(cfg, "power")),
            enabled=require_int(cfg, "enable", 0, 1) == 1,
        )
        return index, slot

    @staticmethod
    def _optional_flag(cfg: JsonObject, key: str) -> int:
        if key not in cfg:
            return 1
        return require_int(cfg, key, 0, 1)

    def _set_dod(self, params: JsonObject) -> JsonObject:
        value = require_int(params, "value", DOD_MIN, DOD_MAX)
        return self._write(params, lambda: setattr(self.state, "dod", value))

    def _set_led(self, params: JsonObject) -> JsonObject:
        on = require_int(params, "state", 0, 1) == 1
        return self._write(params, lambda: setattr(self.state, "led_on", on))

    def _set_ble_adv(self, params: JsonObject) -> JsonObject:
        # Firmware behaviour, not the PDF's: 1 starts advertising.
        on = require_int(params, "enable", 0, 1) == 1
        return self._write(params, lambda: setattr(self.state, "ble_adv", on))
