"""Methods, their parameters, and the parsing of their results into models.

Parsers never raise on odd payloads: a missing, null, boolean, non-finite or absurd
value becomes ``None``, and the rest of the reply is still used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
import ipaddress
import math

from .framing import JsonObject
from .models import (
    WEEKDAYS,
    BatteryStatus,
    BleStatus,
    DeviceIdentity,
    EnergySystemStatus,
    ManualSlot,
    MeterStatus,
    ModeStatus,
    OperatingMode,
    PvChannel,
    PvStatus,
    WifiStatus,
)
from .profile import FirmwareProfile


class Method(StrEnum):
    """Open API methods this client sends (names are case-sensitive on the device)."""

    GET_DEVICE = "Marstek.GetDevice"
    WIFI_STATUS = "Wifi.GetStatus"
    BLE_STATUS = "BLE.GetStatus"
    BATTERY_STATUS = "Bat.GetStatus"
    PV_STATUS = "PV.GetStatus"
    ES_STATUS = "ES.GetStatus"
    ES_MODE = "ES.GetMode"
    METER_STATUS = "EM.GetStatus"
    SET_MODE = "ES.SetMode"
    SET_DOD = "DOD.SET"
    SET_LED = "Led.Ctrl"
    SET_BLE_ADVERTISING = "Ble.Adv"


READ_METHODS = frozenset(
    {
        Method.GET_DEVICE,
        Method.WIFI_STATUS,
        Method.BLE_STATUS,
        Method.BATTERY_STATUS,
        Method.PV_STATUS,
        Method.ES_STATUS,
        Method.ES_MODE,
        Method.METER_STATUS,
    }
)

# Factory reset, the AC power profile and Wi-Fi credentials: never sent by this client.
FORBIDDEN_METHODS = frozenset({"Reset.Factory", "Set.Ver", "Wifi.SetConfig"})

DOD_MIN = 30
DOD_MAX = 88
PASSIVE_MAX_DURATION_S = 86400

_WIRE_MODES: dict[OperatingMode, str] = {
    OperatingMode.AUTO: "Auto",
    OperatingMode.AI: "AI",
    OperatingMode.MANUAL: "Manual",
    OperatingMode.PASSIVE: "Passive",
    OperatingMode.UPS: "UPS",
}
_MODES_BY_NUMBER = tuple(_WIRE_MODES)  # 0 = Auto ... 4 = UPS on firmware that sends integers

# No value this API reports legitimately comes near this; larger ones are corruption.
_ABSURD = 1e9
# A battery temperature outside this range (degrees Celsius, after scaling) is a misread.
TEMPERATURE_MIN_C = -30.0
TEMPERATURE_MAX_C = 80.0
# The CT keys that ES.GetMode carries on some firmware, as in EM.GetStatus.
_MODE_METER_KEYS = ("ct_state", "a_power", "b_power", "c_power", "total_power")

STATUS_PARAMS: JsonObject = {"id": 0}
DISCOVERY_PARAMS: JsonObject = {"ble_mac": "0"}


# --- parameters -----------------------------------------------------------------------------


def simple_mode_params(mode: OperatingMode) -> JsonObject:
    """ES.SetMode for the modes that take no settings: Auto, AI and UPS."""
    if mode not in (OperatingMode.AUTO, OperatingMode.AI, OperatingMode.UPS):
        raise ValueError(f"{mode} needs settings")
    wire = _WIRE_MODES[mode]
    return {"id": 0, "config": {"mode": wire, f"{mode.value}_cfg": {"enable": 1}}}


def manual_slot_params(slot: ManualSlot) -> JsonObject:
    """ES.SetMode Manual: writes one slot and switches to Manual."""
    week = sum(1 << day for day in slot.weekdays)
    return {
        "id": 0,
        "config": {
            "mode": "Manual",
            "manual_cfg": {
                "time_num": slot.slot,
                "start_time": slot.start.strftime("%H:%M"),
                "end_time": slot.end.strftime("%H:%M"),
                "week_set": week,
                "power": slot.power_w,
                "enable": 1 if slot.enabled else 0,
            },
        },
    }


def passive_params(power_w: int, duration_s: int) -> JsonObject:
    """ES.SetMode Passive: hold ``power_w`` (+ discharge) for ``duration_s`` seconds."""
    return {
        "id": 0,
        "config": {"mode": "Passive", "passive_cfg": {"power": power_w, "cd_time": duration_s}},
    }


def dod_params(percent: int) -> JsonObject:
    """DOD.SET."""
    return {"value": percent}


def led_params(on: bool) -> JsonObject:
    """Led.Ctrl."""
    return {"state": 1 if on else 0}


def ble_advertising_params(on: bool) -> JsonObject:
    """Ble.Adv: the firmware starts advertising on 1 (the vendor document says the opposite)."""
    return {"enable": 1 if on else 0}


def weekdays_text(days: frozenset[int]) -> str:
    """Human-readable weekday list, for logs and errors."""
    return ",".join(WEEKDAYS[d] for d in sorted(days))


# --- value helpers --------------------------------------------------------------------------


def number(result: Mapping[str, object], key: str, scale: float = 1.0) -> float | None:
    """A finite, plausible number from ``result[key]``, scaled; otherwise ``None``."""
    value = result.get(key)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or abs(value) > _ABSURD:
        return None
    scaled = value * scale
    return round(scaled, 3) if scale != 1.0 else float(scaled)


def rescaled_into_range(value: float, low: float, high: float) -> float | None:
    """``value`` if it lies within ``low..high``; otherwise the one of ``value / 10`` and
    ``value * 10`` that does (a reading off by one power of ten); ``None`` if neither does.

    For a range around zero such as the battery temperature's, only ``/ 10`` can help: ten
    times a value outside -30..80 is outside it too.
    """
    if low <= value <= high:
        return value
    fits = [c for c in (round(value / 10, 3), round(value * 10, 3)) if low <= c <= high]
    return fits[0] if len(fits) == 1 else None


def text(result: Mapping[str, object], key: str) -> str | None:
    """A non-empty string from ``result[key]``."""
    value = result.get(key)
    return value if isinstance(value, str) and value.strip() else None


def flag(result: Mapping[str, object], key: str) -> bool | None:
    """A boolean that some firmware sends as 0/1."""
    value = result.get(key)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def normalise_mac(value: str | None) -> str | None:
    """12 lower-case hex digits, or ``None`` when it is not a MAC."""
    if value is None:
        return None
    digits = "".join(ch for ch in value.lower() if ch in "0123456789abcdef")
    if len(digits) != 12 or digits == "000000000000":
        return None
    return digits


def normalise_ip(value: str | None) -> str | None:
    """Dotted IPv4 without leading zeros ("192.168.001.020" -> "192.168.1.20")."""
    if value is None:
        return None
    parts = value.strip().split(".")
    if len(parts) != 4 or not all(p.isdigit() for p in parts):
        return None
    try:
        return str(ipaddress.IPv4Address(".".join(str(int(p)) for p in parts)))
    except ValueError:
        return None


def mac_from_src(src: str | None) -> str | None:
    """The BLE MAC that ends every ``src`` ("VenusE 3.0-5037cd7f1ec6")."""
    if not src or "-" not in src:
        return None
    return normalise_mac(src.rsplit("-", 1)[1])


def parse_mode(value: object) -> OperatingMode | None:
    """Mode as a string ("Auto") or, on some firmware, an integer (0 = Auto ... 4 = UPS)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _MODES_BY_NUMBER[value] if 0 <= value < len(_MODES_BY_NUMBER) else None
    if isinstance(value, str):
        wanted = value.strip().lower()
        return next((m for m in OperatingMode if m.value == wanted), None)
    return None


# --- result parsers -------------------------------------------------------------------------


def parse_device(result: JsonObject, src: str | None) -> DeviceIdentity:
    """Marstek.GetDevice; Venus C firmware 153 may omit the MACs, so fall back to ``src``."""
    ver = result.get("ver")
    firmware: int | None = None
    if isinstance(ver, int | float) and not isinstance(ver, bool) and math.isfinite(ver):
        firmware = int(ver)
    elif isinstance(ver, str):
        try:
            firmware = int(float(ver))
        except ValueError:
            firmware = None
    return DeviceIdentity(
        device=text(result, "device") or (src.rsplit("-", 1)[0] if src and "-" in src else ""),
        firmware=firmware,
        ble_mac=normalise_mac(text(result, "ble_mac")) or mac_from_src(src),
        wifi_mac=normalise_mac(text(result, "wifi_mac")),
        ssid=text(result, "wifi_name"),
        ip=normalise_ip(text(result, "ip")),
        src=src,
    )


def parse_es_status(
    result: JsonObject, profile: FirmwareProfile, pv_channels_w: float | None = None
) -> EnergySystemStatus:
    """ES.GetStatus; when ``bat_power`` is missing it is derived from the power balance.

    On models with PV inputs the channel sum from PV.GetStatus (``pv_channels_w``) is the
    PV power: some firmware hard-codes ES.GetStatus's ``pv_power`` to 0, and a balance with
    a wrong PV term would show PV power as battery discharge.
    """
    ongrid = number(result, "ongrid_power")
    offgrid = number(result, "offgrid_power")
    pv = pv_channels_w if profile.has_pv and pv_channels_w is not None else None
    if pv is None and not profile.es_pv_hardcoded_zero:
        pv = number(result, "pv_power")
    charging = number(result, "bat_power", profile.battery_power_scale)  # + = charging
    derived = False
    if charging is None and ongrid is not None and (pv is not None or not profile.has_pv):
        # pv + discharge = ongrid + offgrid, so charge = pv - ongrid - offgrid.
        charging = (pv or 0.0) - ongrid - (offgrid or 0.0)
        derived = True
    grid_scale = profile.grid_energy_scale
    return EnergySystemStatus(
        soc=_percentage(number(result, "bat_soc")),
        battery_power_w=None if charging is None else -charging + 0.0,
        battery_power_derived=derived,
        ongrid_power_w=ongrid,
        offgrid_power_w=offgrid,
        pv_power_w=pv,
        remaining_capacity_wh=(
            _non_negative(number(result, "bat_cap")) if profile.es_capacity_is_remaining else None
        ),
        total_pv_energy_wh=_non_negative(
            number(result, "total_pv_energy", profile.pv_energy_scale)
        ),
        total_grid_output_energy_wh=_non_negative(
            number(result, "total_grid_output_energy", grid_scale)
        ),
        total_grid_input_energy_wh=_non_negative(
            number(result, "total_grid_input_energy", grid_scale)
        ),
        total_load_energy_wh=_non_negative(number(result, "total_load_energy", grid_scale)),
    )


def parse_mode_status(result: JsonObject) -> ModeStatus:
    """ES.GetMode, with its CT keys (when present) read as EM.GetStatus's.

    Those keys are zero placeholders on some firmware (Venus E 3.0 150: ``ct_state`` 0 while
    EM.GetStatus shows a live CT) and the only CT reading on others (Venus E 3.0 148 without
    EM.GetStatus); which to show is the caller's decision.
    """
    return ModeStatus(
        mode=parse_mode(result.get("mode")),
        ongrid_power_w=number(result, "ongrid_power"),
        offgrid_power_w=number(result, "offgrid_power"),
        soc=_percentage(number(result, "bat_soc")),
        meter=parse_meter_status(result) if any(k in result for k in _MODE_METER_KEYS) else None,
    )


def parse_meter_status(result: JsonObject) -> MeterStatus:
    """EM.GetStatus."""
    state = result.get("ct_state")
    connected = bool(state) if isinstance(state, int) and state in (0, 1) else None
    return MeterStatus(
        connected=connected,
        phase_a_power_w=number(result, "a_power"),
        phase_b_power_w=number(result, "b_power"),
        phase_c_power_w=number(result, "c_power"),
        total_power_w=number(result, "total_power"),
        input_energy_wh=_non_negative(number(result, "input_energy", 0.1)),
        output_energy_wh=_non_negative(number(result, "output_energy", 0.1)),
    )


def parse_pv_status(result: JsonObject, profile: FirmwareProfile) -> PvStatus:
    """PV.GetStatus: four channels (channel 1 in 0.1 W), or the single-channel PDF form."""
    if "pv1_power" not in result and "pv_power" in result:
        state = result.get("pv_state", result.get("PV_state"))
        return PvStatus(
            channels=(
                PvChannel(
                    power_w=_non_negative(number(result, "pv_power")),
                    voltage_v=number(result, "pv_voltage"),
                    current_a=number(result, "pv_current"),
                    working=bool(state) if isinstance(state, int) else None,
                ),
            )
        )
    channels = []
    for n in range(1, max(profile.pv_channels, 1) + 1):
        scale = profile.pv1_power_scale if n == 1 else 1.0
        state = result.get(f"pv{n}_state")
        channels.append(
            PvChannel(
                power_w=_non_negative(number(result, f"pv{n}_power", scale)),
                voltage_v=number(result, f"pv{n}_voltage"),
                current_a=number(result, f"pv{n}_current"),
                working=bool(state) if isinstance(state, int) and state in (0, 1) else None,
            )
        )
    return PvStatus(channels=tuple(channels))


@dataclass(frozen=True, kw_only=True)
class TemperatureReading:
    """Bat.GetStatus ``bat_temp``: as sent, after the profile's scale, and as shown."""

    received: float
    scaled: float
    shown: float | None  # None: off by more than one power of ten, so unknown

    @property
    def plausible(self) -> bool:
        """The scaled reading was within range and is shown as it is."""
        return self.shown == self.scaled


def battery_temperature(result: JsonObject, profile: FirmwareProfile) -> TemperatureReading | None:
    """``bat_temp`` with the plausibility guard: a BMS whose unit differs from the one the
    firmware profile expects (0.1 degrees where degrees were expected, for example) is read
    sensibly when one power of ten brings it into range, and is unknown otherwise."""
    received = number(result, "bat_temp")
    scaled = number(result, "bat_temp", profile.temperature_scale)
    if received is None or scaled is None:
        return None
    shown = rescaled_into_range(scaled, TEMPERATURE_MIN_C, TEMPERATURE_MAX_C)
    return TemperatureReading(received=received, scaled=scaled, shown=shown)


def parse_battery_status(result: JsonObject, profile: FirmwareProfile) -> BatteryStatus:
    """Bat.GetStatus, with a plausibility check on temperature and remaining capacity."""
    return parse_battery_status_and_temperature(result, profile)[0]


def parse_battery_status_and_temperature(
    result: JsonObject, profile: FirmwareProfile
) -> tuple[BatteryStatus, TemperatureReading | None]:
    """Bat.GetStatus, and how its temperature was read (for a client to report a bad one)."""
    temperature = battery_temperature(result, profile)
    rated = _non_negative(number(result, "rated_capacity"))
    remaining = _non_negative(number(result, "bat_capacity", profile.capacity_scale))
    if remaining is not None and rated and remaining > rated * 1.5:
        remaining = None
    status = BatteryStatus(
        soc=_percentage(number(result, "soc")),
        charge_allowed=flag(result, "charg_flag"),
        discharge_allowed=flag(result, "dischrg_flag"),
        temperature_c=None if temperature is None else temperature.shown,
        remaining_capacity_wh=remaining,
        rated_capacity_wh=rated,
        voltage_v=number(result, "bat_voltage", 0.01),
        current_a=number(result, "bat_current", 0.01),
    )
    return status, temperature


def parse_wifi_status(result: JsonObject) -> WifiStatus:
    """Wifi.GetStatus."""
    rssi = number(result, "rssi")
    return WifiStatus(
        ssid=text(result, "ssid"),
        rssi_dbm=int(rssi) if rssi is not None and -150 < rssi <= 0 else None,
        ip=normalise_ip(text(result, "sta_ip")),
        gateway=normalise_ip(text(result, "sta_gate")),
        netmask=normalise_ip(text(result, "sta_mask")),
        dns=normalise_ip(text(result, "sta_dns")),
        wifi_mac=normalise_mac(text(result, "wifi_mac")),
    )


def parse_ble_status(result: JsonObject) -> BleStatus:
    """BLE.GetStatus."""
    state = text(result, "state")
    return BleStatus(
        connected=None if state is None else state.lower() == "connect",
        ble_mac=normalise_mac(text(result, "ble_mac")),
    )


def _percentage(value: float | None) -> float | None:
    return value if value is not None and 0 <= value <= 100 else None


def _non_negative(value: float | None) -> float | None:
    return value if value is not None and value >= 0 else None
