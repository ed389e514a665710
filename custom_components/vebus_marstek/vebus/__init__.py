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
from .report import input_power, output_power, soc, status_report

__all__ = [
    "ALARM_NAMES",
    "BAUDRATE",
    "CHARGE_STATES",
    "DEVICE_STATES",
    "LED_NAMES",
    "DeviceState",
    "InputConfig",
    "LedStatus",
    "LinkCounters",
    "PhaseValues",
    "RamVar",
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
    "input_power",
    "list_ports",
    "output_power",
    "soc",
    "status_report",
    "wire_seconds",
]
