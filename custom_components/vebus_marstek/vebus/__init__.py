"""Asyncio client for Victron VE.Bus units through an MK2/MK3 interface ("MK2 protocol").

No Home Assistant imports: this package can be published on its own.
"""

from .client import VebusClient
from .connection import BAUDRATE, LinkCounters, VebusConnection, wire_seconds
from .errors import (
    VebusConnectionError,
    VebusError,
    VebusInvalidValueError,
    VebusTimeoutError,
    VebusUnitAsleepError,
    VebusUnsupportedError,
    VebusWriteError,
)
from .messages import RamVar, Setting
from .models import (
    ALARM_NAMES,
    CHARGE_STATES,
    DEVICE_STATES,
    LED_NAMES,
    DeviceState,
    InputConfig,
    LedStatus,
    PhaseValues,
    SettingInfo,
    SwitchMode,
    UnitInfo,
    VebusStatus,
)
from .ports import SerialPort, list_ports
from .refresh import (
    DC,
    DEVICE_STATE,
    INPUT_CONFIG,
    LEDS,
    Read,
    ReadKind,
    Reads,
    fast_reads,
    phase_read,
    ram_read,
    read_values,
    setting_read,
    status_reads,
)
from .report import input_power, output_power, soc, status_report

__all__ = [
    "ALARM_NAMES",
    "BAUDRATE",
    "CHARGE_STATES",
    "DC",
    "DEVICE_STATE",
    "DEVICE_STATES",
    "INPUT_CONFIG",
    "LEDS",
    "LED_NAMES",
    "DeviceState",
    "InputConfig",
    "LedStatus",
    "LinkCounters",
    "PhaseValues",
    "RamVar",
    "Read",
    "ReadKind",
    "Reads",
    "SerialPort",
    "Setting",
    "SettingInfo",
    "SwitchMode",
    "UnitInfo",
    "VebusClient",
    "VebusConnection",
    "VebusConnectionError",
    "VebusError",
    "VebusInvalidValueError",
    "VebusStatus",
    "VebusTimeoutError",
    "VebusUnitAsleepError",
    "VebusUnsupportedError",
    "VebusWriteError",
    "fast_reads",
    "input_power",
    "list_ports",
    "output_power",
    "phase_read",
    "ram_read",
    "read_values",
    "setting_read",
    "soc",
    "status_reads",
    "status_report",
    "wire_seconds",
]
