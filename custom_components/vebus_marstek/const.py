"""Constants shared by the Home Assistant side of the integration."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
import logging
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import Platform

DOMAIN: Final = "vebus_marstek"
LOGGER = logging.getLogger(__package__)


class DeviceKind(StrEnum):
    """What a config entry talks to; each kind brings its own client and descriptions."""

    MARSTEK = "marstek"
    VEBUS = "vebus"
    SITE = "site"  # no device of its own: member entries of the two kinds above


CONF_DEVICE_KIND: Final = "device_kind"


# Entries are at 1.2 since they all say their kind. Those written at 1.1, before VE.Bus came,
# hold none: they are all Marstek. Setting them up migrates them (async_migrate_entry); a
# disabled one is not set up, so it can still be read as 1.1 here.
ENTRY_VERSION: Final = 1
ENTRY_MINOR_VERSION: Final = 2
_KIND_BEFORE_VEBUS: Final = DeviceKind.MARSTEK


def entry_kind(entry: ConfigEntry) -> DeviceKind:
    """The kind of device an entry talks to."""
    kind = entry.data.get(CONF_DEVICE_KIND)
    if isinstance(kind, str):
        return DeviceKind(kind)
    if (entry.version, entry.minor_version) < (ENTRY_VERSION, 2):
        return _KIND_BEFORE_VEBUS
    raise ValueError(f"config entry {entry.entry_id} says no device kind")


CONF_BLE_MAC: Final = "ble_mac"

# A site entry's data: its member entries and, optionally, the grid meter it reads.
CONF_MEMBERS: Final = "members"  # entry ids of Marstek and VE.Bus entries
CONF_GRID_SENSOR: Final = "grid_sensor"  # entity id of any power sensor
CONF_GRID_SIGN: Final = "grid_sign"


class GridSign(StrEnum):
    """What a positive reading of the user's grid sensor means."""

    IMPORT_POSITIVE = "import_positive"  # most P1/DSMR meters and Shelly EMs
    EXPORT_POSITIVE = "export_positive"


# A VE.Bus option: the MK3 cannot read a battery's capacity, a site needs it (kWh, 0 = unknown).
CONF_BATTERY_CAPACITY: Final = "battery_capacity"
# A VE.Bus option: the most a site may ask of the unit's battery, either way (W; 0 = the site
# never drives the unit). The MK3 cannot read the inverter's rating.
CONF_SITE_MAX_POWER: Final = "site_max_power"


class SiteMode(StrEnum):
    """What a site does with its members."""

    OFF = "off"  # members untouched
    SETPOINT = "setpoint"  # hold the site power set by the power setpoint number
    ZERO_EXPORT = "zero_export"  # charge from surplus so that export stays under the target
    SELF_CONSUMPTION = "self_consumption"  # drive the grid power to the target, both ways


# Site options: how a request is shared out, and when a silent grid sensor counts as stale (s).
CONF_SPLIT_STRATEGY: Final = "split_strategy"
CONF_GRID_STALE_AFTER: Final = "grid_stale_after"
# A grid sensor that has reported nothing for this long is stale: the site stops driving.
DEFAULT_GRID_STALE_AFTER_S: Final = 60
# The site checks its members this often while it drives them: countdowns, read-backs.
SITE_CONTROL_TICK: Final = timedelta(seconds=5)

# Options shown in the options flow.
CONF_FAST_INTERVAL: Final = "fast_interval"
CONF_MEDIUM_INTERVAL: Final = "medium_interval"
CONF_SLOW_INTERVAL: Final = "slow_interval"
CONF_REQUEST_SPACING: Final = "request_spacing"
CONF_PV1_IN_WATTS: Final = "pv1_in_watts"
# Options without a form field: tuning and tests set them on the entry directly.
CONF_REQUEST_TIMEOUT: Final = "request_timeout"
CONF_WRITE_TIMEOUT: Final = "write_timeout"
CONF_QUIET_GAP: Final = "quiet_gap"
CONF_READ_ATTEMPTS: Final = "read_attempts"
CONF_WRITE_ATTEMPTS: Final = "write_attempts"
CONF_BACKOFF: Final = "backoff"
CONF_DISCOVERY_DURATION: Final = "discovery_duration"

DEFAULT_FAST_INTERVAL: Final = 30
DEFAULT_MEDIUM_INTERVAL: Final = 60
DEFAULT_SLOW_INTERVAL: Final = 300
DEFAULT_REQUEST_SPACING: Final = 2.0
MIN_REQUEST_SPACING: Final = 0.5
DEFAULT_DISCOVERY_DURATION: Final = 9.0

# Entities go unavailable after this many cycles in which the device answered nothing.
FAILED_CYCLES_BEFORE_UNAVAILABLE: Final = 3
# The "Open API silent" repair waits this long (in cycles, at least the threshold above).
API_SILENT_AFTER: Final = timedelta(minutes=10)
# Lower-tier requests added to one cycle, so no cycle (the first one included) gets long.
MAX_LOWER_TIER_REQUESTS_PER_CYCLE: Final = 2

STORAGE_VERSION: Final = 1
SAVE_DELAY_S: Final = 60.0

DISCOVERY_FIRST_SCAN: Final = timedelta(minutes=1)
DISCOVERY_INTERVAL: Final = timedelta(minutes=10)

# VE.Bus options: the fast tier (powers, AC and DC values) every CONF_FAST_INTERVAL, the
# rest (limits, switch, LEDs, states, state of charge) every CONF_POLL_INTERVAL.
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_STANDBY: Final = "standby"
CONF_PERSIST_SETTINGS: Final = "persist_settings"
DEFAULT_VEBUS_FAST_INTERVAL: Final = 1
MIN_VEBUS_FAST_INTERVAL: Final = 1
MAX_VEBUS_FAST_INTERVAL: Final = 60
DEFAULT_POLL_INTERVAL: Final = 5
MIN_POLL_INTERVAL: Final = 2
MAX_POLL_INTERVAL: Final = 300
# Between two VE.Bus refreshes the wire stays free at least this long, for writes and the
# ESS keep-alive, however long a refresh took.
VEBUS_MIN_PAUSE_S: Final = 0.2
# A VE.Bus poll that times out keeps the last values once: 2400 baud links drop a frame now
# and then, and a unit falling asleep first looks like a timeout.
VEBUS_TIMEOUTS_BEFORE_UNAVAILABLE: Final = 2
# The "port missing" repair waits this long: USB re-enumeration after a reboot takes seconds.
PORT_MISSING_AFTER: Final = timedelta(minutes=5)

VICTRON: Final = "Victron Energy"
VEBUS_MODEL: Final = "MultiPlus/Quattro (VE.Bus)"

ISSUE_PORT_IN_USE: Final = "port_in_use"
ISSUE_PORT_MISSING: Final = "port_missing"
ISSUE_RESET_PRONE: Final = "reset_prone_firmware"
ISSUE_API_SILENT: Final = "api_silent"
ISSUE_PV1_IN_WATTS: Final = "pv1_in_watts"
ISSUE_METER_TOO_SLOW: Final = "meter_too_slow"

SITE_PLATFORMS: Final = [Platform.NUMBER, Platform.SELECT, Platform.SENSOR]

PLATFORMS: Final = [
    Platform.BINARY_SENSOR,
    Platform.NUMBER,
    Platform.SELECT,
    Platform.SENSOR,
    Platform.SWITCH,
]
