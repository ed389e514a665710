"""The results of the read methods, scaled the way each profile's firmware scales them."""

from __future__ import annotations

from .profiles import MarstekProfile
from .state import BatteryState
from .wire import MODE_NUMBERS, JsonObject, JsonValue, Mode


def _raw(value: float, wh_or_w_per_raw: float) -> int:
    return round(value / wh_or_w_per_raw)


def _mode_value(profile: MarstekProfile, mode: Mode) -> JsonValue:
    return MODE_NUMBERS[mode] if profile.mode_as_int else str(mode)


def device_result(profile: MarstekProfile, state: BatteryState) -> JsonObject:
    result: JsonObject = {"device": profile.device, "ver": profile.ver}
    if not profile.omits_macs:
        result["ble_mac"] = state.ble_mac
        result["wifi_mac"] = _reported_wifi_mac(profile, state)
    result["wifi_name"] = state.ssid
    result["ip"] = state.ip
    return result


def _reported_wifi_mac(profile: MarstekProfile, state: BatteryState) -> str:
    return state.ap_bssid if profile.wifi_mac_is_ap_bssid else state.wifi_mac


def wifi_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    return {
        "id": instance,
        "wifi_mac": _reported_wifi_mac(profile, state),
        "ssid": state.ssid,
        "rssi": state.rssi_dbm,
        "sta_ip": state.ip,
        "sta_gate": state.gateway,
        "sta_mask": state.netmask,
        "sta_dns": state.dns,
    }


def ble_result(state: BatteryState, instance: int) -> JsonObject:
    return {
        "id": instance,
        "state": "connect" if state.ble_connected else "disconnect",
        "ble_mac": state.ble_mac,
    }


def battery_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    enc = profile.encoding
    temperature: JsonValue
    if enc.bat_temp_c_per_raw >= 1.0:  # degrees or tens of degrees, with one decimal
        temperature = round(state.temperature_c / enc.bat_temp_c_per_raw, 1)
    else:
        temperature = _raw(state.temperature_c, enc.bat_temp_c_per_raw)
    result: JsonObject = {
        "id": instance,
        "soc": round(state.soc),
        "charg_flag": state.charge_permitted,
        "dischrg_flag": state.discharge_permitted,
        "bat_temp": temperature,
        "bat_capacity": _raw(state.remaining_wh, enc.bat_capacity_wh_per_raw),
        "rated_capacity": round(state.rated_capacity_wh),
    }
    if profile.battery_electrics:
        result["bat_voltage"] = _raw(state.battery_voltage_v, 0.01)
        result["bat_current"] = _raw(state.battery_current_a, 0.01)
        result["error_code"] = 0
    return result


def bms_silent(result: JsonObject) -> JsonObject:
    """What a status reads while the BMS does not answer the inverter: nothing stored."""
    zeroed = {"soc", "bat_soc", "bat_capacity", "bat_cap"}
    return {key: 0 if key in zeroed else value for key, value in result.items()}


def es_status_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    enc = profile.encoding
    pv_zero = enc.pv_hardcoded_zero
    bat_cap = state.remaining_wh if profile.bat_cap_is_remaining else state.rated_capacity_wh
    result: JsonObject = {
        "id": instance,
        "bat_soc": round(state.soc),
        "bat_cap": round(bat_cap),
        "pv_power": 0 if pv_zero else round(state.pv_power_w),
        "ongrid_power": round(state.ongrid_power_w),
        "offgrid_power": round(state.offgrid_load_w),
    }
    if enc.bat_power_w_per_raw is not None:
        result["bat_power"] = _raw(state.battery_charge_w, enc.bat_power_w_per_raw)
    load_wh = 0.0 if enc.load_energy_hardcoded_zero else state.load_energy_wh
    result |= {
        "total_pv_energy": 0 if pv_zero else _raw(state.pv_energy_wh, enc.pv_energy_wh_per_raw),
        "total_grid_output_energy": _raw(state.grid_output_wh, enc.grid_energy_wh_per_raw),
        "total_grid_input_energy": _raw(state.grid_input_wh, enc.grid_energy_wh_per_raw),
        "total_load_energy": _raw(load_wh, enc.grid_energy_wh_per_raw),
    }
    return result


def _meter_fields(state: BatteryState, *, live: bool) -> JsonObject:
    phases = [round(p) for p in state.meter_phase_w] if live else [0, 0, 0]
    return {
        "ct_state": int(state.ct_connected) if live else 0,
        "a_power": phases[0],
        "b_power": phases[1],
        "c_power": phases[2],
        "total_power": sum(phases),
        # 0.1 Wh units
        "input_energy": _raw(state.meter_import_wh, 0.1) if live else 0,
        "output_energy": _raw(state.meter_export_wh, 0.1) if live else 0,
    }


def es_mode_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {
        "id": instance,
        "mode": _mode_value(profile, state.mode),
        "ongrid_power": round(state.ongrid_power_w),
        "offgrid_power": round(state.offgrid_load_w),
        "bat_soc": round(state.soc),
    }
    ct_fields = profile.encoding.getmode_ct_fields
    if ct_fields != "absent":
        result |= _meter_fields(state, live=ct_fields == "live")
    return result


def em_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {"id": instance}
    result |= _meter_fields(state, live=True)
    if profile.em_parse_state:
        result["parse_state"] = int(state.ct_connected)
    return result


def pv_result(profile: MarstekProfile, state: BatteryState, instance: int) -> JsonObject:
    result: JsonObject = {"id": instance}
    for index in range(profile.pv_channels):
        power = state.pv_w[index] if index < len(state.pv_w) else 0.0
        voltage = state.pv_voltage_v[index] if index < len(state.pv_voltage_v) else 0.0
        channel = index + 1
        scale = profile.encoding.pv1_w_per_raw if channel == 1 else 1.0
        result[f"pv{channel}_power"] = _raw(power, scale)
        result[f"pv{channel}_voltage"] = round(voltage)
        result[f"pv{channel}_current"] = 0  # real firmware reports 0 A while producing
        result[f"pv{channel}_state"] = 1 if power > 0 else 0
    return result


def field_multipliers(profile: MarstekProfile, method: str) -> dict[str, float]:
    """physical = raw * multiplier for every scaled field of `method` on `profile`."""
    enc = profile.encoding
    match method:
        case "ES.GetStatus":
            multipliers: dict[str, float] = {
                "total_pv_energy": enc.pv_energy_wh_per_raw,
                "total_grid_output_energy": enc.grid_energy_wh_per_raw,
                "total_grid_input_energy": enc.grid_energy_wh_per_raw,
                "total_load_energy": enc.grid_energy_wh_per_raw,
            }
            if enc.bat_power_w_per_raw is not None:
                multipliers["bat_power"] = enc.bat_power_w_per_raw
            return multipliers
        case "Bat.GetStatus":
            return {
                "bat_temp": enc.bat_temp_c_per_raw,
                "bat_capacity": enc.bat_capacity_wh_per_raw,
                "bat_voltage": 0.01,
                "bat_current": 0.01,
            }
        case "PV.GetStatus":
            return {"pv1_power": enc.pv1_w_per_raw}
        case "EM.GetStatus" | "ES.GetMode":
            return {"input_energy": 0.1, "output_energy": 0.1}
        case _:
            return {}
