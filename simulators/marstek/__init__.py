"""Simulator of Marstek Venus home batteries speaking their LAN "Open API" over UDP.

One JSON object per datagram, JSON-RPC-like but without a ``jsonrpc`` member.  The
simulator keeps the battery in physical units (W, Wh, %, degC) and encodes every
reply with the per-family/firmware scaling the real devices use, so a client that
decodes a field with the wrong factor reports visibly wrong numbers.

This package deliberately shares no code with the client in ``custom_components``:
a protocol misunderstanding in one must not be able to hide in the other.

Typical in-process use::

    async with MarstekSimulator(profile="venus-e3", host="127.0.0.2", port=30000) as sim:
        sim.state.soc = 55.0
        ...

Standalone::

    python -m simulators.marstek --device venus-e3@127.0.0.2 --device venus-a@127.0.0.3

Modules: ``wire`` (datagrams, errors, method names, parameters), ``scaling``, ``profiles``,
``state``, ``plant`` (the physics), ``results`` (state -> method results), ``records``,
``faults``; ``MarstekSimulator`` (``simulator``) is ``core`` plus the write-method
``handlers`` and the UDP ``transport``; ``cli`` is the command line.
"""

from __future__ import annotations

# Users import from the package root; `name as name` marks a re-export (PEP 484).
from .cli import DeviceSpec as DeviceSpec, main as main, parse_device_spec as parse_device_spec
from .faults import Faults as Faults
from .plant import battery_setpoint as battery_setpoint, integrate as integrate
from .profiles import (
    PROFILES as PROFILES,
    PV_CHANNELS as PV_CHANNELS,
    MarstekProfile as MarstekProfile,
    build_profile as build_profile,
)
from .records import ReceivedRequest as ReceivedRequest, SimulatorCounters as SimulatorCounters
from .results import (
    battery_result as battery_result,
    ble_result as ble_result,
    device_result as device_result,
    em_result as em_result,
    es_mode_result as es_mode_result,
    es_status_result as es_status_result,
    field_multipliers as field_multipliers,
    pv_result as pv_result,
    wifi_result as wifi_result,
)
from .scaling import (
    Family as Family,
    GetModeCtFields as GetModeCtFields,
    WireEncoding as WireEncoding,
    derive_encoding as derive_encoding,
)
from .simulator import MarstekSimulator as MarstekSimulator, default_ble_mac as default_ble_mac
from .state import (
    DOD_MAX as DOD_MAX,
    DOD_MIN as DOD_MIN,
    SHARED_AP_BSSID as SHARED_AP_BSSID,
    BatteryState as BatteryState,
    ManualSlot as ManualSlot,
    PhysicalTruth as PhysicalTruth,
)
from .wire import (
    BASE_METHODS as BASE_METHODS,
    BROADCAST_BLE_MAC as BROADCAST_BLE_MAC,
    BUSY_DATA as BUSY_DATA,
    DANGEROUS_METHODS as DANGEROUS_METHODS,
    DEFAULT_PORT as DEFAULT_PORT,
    ERROR_MESSAGES as ERROR_MESSAGES,
    INVALID_PARAMS as INVALID_PARAMS,
    INVALID_REQUEST as INVALID_REQUEST,
    METHOD_NOT_FOUND as METHOD_NOT_FOUND,
    MODE_NUMBERS as MODE_NUMBERS,
    PARSE_ERROR as PARSE_ERROR,
    PV_NOT_FOUND_DATA as PV_NOT_FOUND_DATA,
    SET_MODE_NAMES as SET_MODE_NAMES,
    SYSTEM_METHODS as SYSTEM_METHODS,
    WRITE_METHODS as WRITE_METHODS,
    JsonObject as JsonObject,
    JsonValue as JsonValue,
    Mode as Mode,
    RpcError as RpcError,
    encode_reply as encode_reply,
    parse_datagram as parse_datagram,
)
