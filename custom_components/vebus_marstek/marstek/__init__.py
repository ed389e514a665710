"""Asyncio client for the Marstek Venus local "Open API" (JSON over UDP).

No Home Assistant imports: this package can be published on its own.
"""

from .client import MarstekClient, MethodStats, Pacing
from .connection import DEFAULT_PORT, MarstekEndpoint
from .discovery import DiscoveredDevice, broadcast_targets, discover
from .errors import (
    MarstekBusyError,
    MarstekClosedError,
    MarstekConnectionError,
    MarstekDeviceError,
    MarstekError,
    MarstekInvalidValueError,
    MarstekMethodUnsupportedError,
    MarstekPortInUseError,
    MarstekWriteRejectedError,
    MarstekWriteUnconfirmedError,
)
from .messages import DOD_MAX, DOD_MIN, PASSIVE_MAX_DURATION_S, Method
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
    PassiveRequest,
    PvChannel,
    PvStatus,
    WifiStatus,
)
from .profile import Family, FirmwareProfile, resolve_profile
from .silent_zeros import SilentZeroGuard

__all__ = [
    "DEFAULT_PORT",
    "DOD_MAX",
    "DOD_MIN",
    "PASSIVE_MAX_DURATION_S",
    "WEEKDAYS",
    "BatteryStatus",
    "BleStatus",
    "DeviceIdentity",
    "DiscoveredDevice",
    "EnergySystemStatus",
    "Family",
    "FirmwareProfile",
    "ManualSlot",
    "MarstekBusyError",
    "MarstekClient",
    "MarstekClosedError",
    "MarstekConnectionError",
    "MarstekDeviceError",
    "MarstekEndpoint",
    "MarstekError",
    "MarstekInvalidValueError",
    "MarstekMethodUnsupportedError",
    "MarstekPortInUseError",
    "MarstekWriteRejectedError",
    "MarstekWriteUnconfirmedError",
    "MeterStatus",
    "Method",
    "MethodStats",
    "ModeStatus",
    "OperatingMode",
    "Pacing",
    "PassiveRequest",
    "PvChannel",
    "PvStatus",
    "SilentZeroGuard",
    "WifiStatus",
    "broadcast_targets",
    "discover",
    "resolve_profile",
]
