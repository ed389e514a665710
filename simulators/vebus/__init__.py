"""Simulator of a Victron MK3-USB interface with a MultiPlus/Quattro behind it.

The interface speaks the "MK2 protocol" (2400 baud 8N1).  The simulator keeps the inverter/charger
in physical units (V, A, W, Hz, SoC as a 0..1 fraction) and encodes every frame with the per-model
RAM-variable scales, so a client that decodes with a wrong or hard-coded scale reports visibly
wrong numbers.

Written from the project's protocol reference (vebus-mk2-protocol.md, sections A-G) only.  It
shares no code with the client in ``custom_components``: framing, checksums and scaling are its
own, so that a protocol mistake in one cannot hide in the other; the reference's test vectors
anchor both.

In-process::

    sim = VebusSimulator(model="multiplus-ii-48-3000")
    url = await sim.start_tcp()        # "socket://127.0.0.1:PORT", like ser2net
    path = await sim.start_pty()       # "/dev/pts/N"
    ...
    await sim.stop()

Standalone::

    python -m simulators.vebus --model multiplus-ii-48-3000 --tcp 127.0.0.1:5000
    python -m simulators.vebus --pty

Modules, from the wire up: ``wire`` (constants, framing, checksums), ``scaling``, ``models``,
``state``, ``plant`` (the physics), ``readout`` (truth -> RAM variables and 'F' frames),
``records``, ``faults``, ``links``; ``VebusSimulator`` (``simulator``) is ``core`` plus the
``winmon`` and ``mk2`` request handlers and the ``transport``; ``cli`` is the command line.
"""

from __future__ import annotations

# Users import from the package root; `name as name` marks a re-export (PEP 484).
from .cli import (
    _build_parser as _build_parser,
    _simulator_from_args as _simulator_from_args,
    main as main,
)
from .faults import Faults as Faults
from .mk2 import INTERFACE_RESET_S as INTERFACE_RESET_S
from .models import (
    AMPS_CENTI as AMPS_CENTI,
    AMPS_CENTI_SIGNED as AMPS_CENTI_SIGNED,
    AMPS_DECI_SIGNED as AMPS_DECI_SIGNED,
    ASSISTANT_WORD as ASSISTANT_WORD,
    MAINS_PERIOD as MAINS_PERIOD,
    MODELS as MODELS,
    SOC_FRACTION as SOC_FRACTION,
    VOLTS_CENTI as VOLTS_CENTI,
    WATTS_SIGNED as WATTS_SIGNED,
    VebusModel as VebusModel,
)
from .plant import (
    ALARM_LOW_BATTERY as ALARM_LOW_BATTERY,
    ALARM_LOW_BATTERY_PRE as ALARM_LOW_BATTERY_PRE,
    ALARM_OVERLOAD_PRE as ALARM_OVERLOAD_PRE,
    ALARM_TEMPERATURE as ALARM_TEMPERATURE,
    ALARM_TEMPERATURE_PRE as ALARM_TEMPERATURE_PRE,
    DISCHARGE_DROP as DISCHARGE_DROP,
    EFFICIENCY as EFFICIENCY,
    EQUALISE_CURRENT_FLOOR as EQUALISE_CURRENT_FLOOR,
    EQUALISE_VOLTAGE_RISE as EQUALISE_VOLTAGE_RISE,
    ESS_TIMEOUT_S as ESS_TIMEOUT_S,
    FLOAT_CURRENT_SHARE as FLOAT_CURRENT_SHARE,
    FORCED_CHARGE_S as FORCED_CHARGE_S,
    FULL_SOC as FULL_SOC,
    GRID_FREQUENCY_WINDOW as GRID_FREQUENCY_WINDOW,
    GRID_VOLTAGE_WINDOW as GRID_VOLTAGE_WINDOW,
    INITIAL_SOC as INITIAL_SOC,
    LED_ABSORPTION as LED_ABSORPTION,
    LED_BULK as LED_BULK,
    LED_FLOAT as LED_FLOAT,
    LED_INVERTER as LED_INVERTER,
    LED_LOW_BATTERY as LED_LOW_BATTERY,
    LED_MAINS as LED_MAINS,
    LED_NAMES as LED_NAMES,
    LED_OVERLOAD as LED_OVERLOAD,
    LED_TEMPERATURE as LED_TEMPERATURE,
    LOW_BATTERY_PREALARM_SOC as LOW_BATTERY_PREALARM_SOC,
    MAX_STEP_S as MAX_STEP_S,
    REBULK_MARGIN as REBULK_MARGIN,
    REST_VOLTAGE_SPAN as REST_VOLTAGE_SPAN,
    RIPPLE_V_PER_A as RIPPLE_V_PER_A,
    SLEEP_AFTER_S as SLEEP_AFTER_S,
    STORAGE_VOLTAGE_SHARE as STORAGE_VOLTAGE_SHARE,
    TAIL_CURRENT_C as TAIL_CURRENT_C,
)
from .readout import (
    ac_info_body as ac_info_body,
    dc_info_body as dc_info_body,
    phase_byte as phase_byte,
    switch_register as switch_register,
)
from .records import (
    Counters as Counters,
    InterfaceState as InterfaceState,
    RamVarWrite as RamVarWrite,
    ReceivedFrame as ReceivedFrame,
    SettingWrite as SettingWrite,
    SettingWriteRecord as SettingWriteRecord,
)
from .scaling import RamVarInfo as RamVarInfo, SettingInfo as SettingInfo
from .simulator import VebusSimulator as VebusSimulator
from .state import (
    PINNABLE as PINNABLE,
    ChargeState as ChargeState,
    DeviceState as DeviceState,
    Environment as Environment,
    SwitchMode as SwitchMode,
    Truth as Truth,
)
from .transport import (
    BYTE_BITS as BYTE_BITS,
    HOUSEKEEPING_S as HOUSEKEEPING_S,
    RAW_FRAME_INTERVAL_S as RAW_FRAME_INTERVAL_S,
    VERSION_QUIET_S as VERSION_QUIET_S,
    Latencies as Latencies,
)
from .wire import (
    ACCESS_GRID_CODE as ACCESS_GRID_CODE,
    ACCESS_RESET_REQUIRED as ACCESS_RESET_REQUIRED,
    ASSISTANT_BASE_ID as ASSISTANT_BASE_ID,
    BIT_VARIABLE_OFFSET as BIT_VARIABLE_OFFSET,
    CONFIG_FRAME_TYPE as CONFIG_FRAME_TYPE,
    DC_INFO_MARKER as DC_INFO_MARKER,
    ESS_ASSISTANT_HEADER as ESS_ASSISTANT_HEADER,
    EXT0_SHORT_REPLIES as EXT0_SHORT_REPLIES,
    FLAG0_60HZ as FLAG0_60HZ,
    FLAG0_CHARGER_OFF as FLAG0_CHARGER_OFF,
    FLAG0_POWER_ASSIST as FLAG0_POWER_ASSIST,
    FLAG0_WAVE_CHECK_OFF as FLAG0_WAVE_CHECK_OFF,
    FLAG0_WAVE_CHECK_TWIN as FLAG0_WAVE_CHECK_TWIN,
    FRAME_BOOT as FRAME_BOOT,
    FRAME_INFO as FRAME_INFO,
    FRAME_MASTER_LED as FRAME_MASTER_LED,
    FRAME_MK2 as FRAME_MK2,
    FRAME_PANEL as FRAME_PANEL,
    FRAME_RAW_BUS as FRAME_RAW_BUS,
    FRAME_SLEEP_WAKE as FRAME_SLEEP_WAKE,
    INTERFACE_CONFIG_ID as INTERFACE_CONFIG_ID,
    LENGTH_LED_BIT as LENGTH_LED_BIT,
    LIMIT_UNCHANGED as LIMIT_UNCHANGED,
    LINE_PANEL_DETECT as LINE_PANEL_DETECT,
    LINE_POWER_ON_DEFAULT as LINE_POWER_ON_DEFAULT,
    LINE_STANDBY as LINE_STANDBY,
    MAX_LENGTH as MAX_LENGTH,
    MK2_VERSION as MK2_VERSION,
    MK3_VERSION as MK3_VERSION,
    NO_ADDRESS as NO_ADDRESS,
    ODD_CHECKSUM_TYPES as ODD_CHECKSUM_TYPES,
    S_APPEND_LEDS as S_APPEND_LEDS,
    S_AUTO_SEND_STATE as S_AUTO_SEND_STATE,
    S_DO_NOT_SEND_STATE as S_DO_NOT_SEND_STATE,
    S_NEW_FORMAT as S_NEW_FORMAT,
    SETTING_ABSORPTION_V as SETTING_ABSORPTION_V,
    SETTING_CAPACITY_AH as SETTING_CAPACITY_AH,
    SETTING_CHARGE_A as SETTING_CHARGE_A,
    SETTING_FLAGS0 as SETTING_FLAGS0,
    SETTING_FLOAT_V as SETTING_FLOAT_V,
    SETTING_INPUT_LIMIT as SETTING_INPUT_LIMIT,
    SETTING_INVERTER_V as SETTING_INVERTER_V,
    SETTING_MAX_ABSORPTION_MIN as SETTING_MAX_ABSORPTION_MIN,
    SETTING_SOC_BULK_DONE as SETTING_SOC_BULK_DONE,
    Danger as Danger,
    FrameParser as FrameParser,
    ParsedFrame as ParsedFrame,
    Reply as Reply,
    ReplyFormat as ReplyFormat,
    Winmon as Winmon,
    checksum as checksum,
    encode_frame as encode_frame,
    encode_mk2 as encode_mk2,
)
