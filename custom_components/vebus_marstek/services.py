"""Actions that need more than one value: Marstek Passive mode and Manual schedules here,
the VE.Bus ESS setpoint and remote switch in vebus_services."""

from __future__ import annotations

from datetime import time
import math

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN, DeviceKind
from .coordinator import MarstekCoordinator, MarstekRuntimeData
from .helpers import loaded_runtime, validation_error
from .marstek import (
    PASSIVE_MAX_DURATION_S,
    WEEKDAYS,
    ManualSlot,
    MarstekDevice,
)
from .vebus_services import async_setup_vebus_services

SERVICE_SET_PASSIVE_MODE = "set_passive_mode"
SERVICE_REFRESH_PASSIVE_MODE = "refresh_passive_mode"
SERVICE_SET_MANUAL_SCHEDULE = "set_manual_schedule"
SERVICE_CLEAR_MANUAL_SCHEDULE = "clear_manual_schedule"

ATTR_POWER = "power"
ATTR_DURATION = "duration"
ATTR_SLOT = "slot"
ATTR_START_TIME = "start_time"
ATTR_END_TIME = "end_time"
ATTR_DAYS = "days"
ATTR_ENABLED = "enabled"

DEFAULT_PASSIVE_DURATION_S = 3600

# Types only: the allowed ranges depend on the battery, and get translated messages below.
SET_PASSIVE_MODE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_POWER): vol.Coerce(int),
        vol.Optional(ATTR_DURATION, default=DEFAULT_PASSIVE_DURATION_S): vol.Coerce(int),
    }
)
REFRESH_PASSIVE_MODE_SCHEMA = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})
SET_MANUAL_SCHEDULE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_SLOT): vol.Coerce(int),
        vol.Required(ATTR_START_TIME): cv.time,
        vol.Required(ATTR_END_TIME): cv.time,
        vol.Optional(ATTR_DAYS, default=list(WEEKDAYS)): vol.All(
            cv.ensure_list, [vol.In(WEEKDAYS)]
        ),
        vol.Required(ATTR_POWER): vol.Coerce(int),
        vol.Optional(ATTR_ENABLED, default=True): cv.boolean,
    }
)
CLEAR_MANUAL_SCHEDULE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_SLOT): vol.Coerce(int),
    }
)


def _coordinator_for(hass: HomeAssistant, device_id: str) -> MarstekCoordinator:
    """The coordinator of the loaded battery behind a device."""
    runtime = loaded_runtime(hass, device_id, DeviceKind.MARSTEK)
    assert isinstance(runtime, MarstekRuntimeData)  # entries of the Marstek kind hold these
    return runtime.coordinator


def _check_power(coordinator: MarstekCoordinator, power: int) -> None:
    limit = coordinator.profile.max_power_w
    if abs(power) > limit:
        raise validation_error(
            "power_out_of_range", power=str(power), min=str(-limit), max=str(limit)
        )


def _check_slot(coordinator: MarstekCoordinator, slot: int) -> None:
    slots = coordinator.profile.manual_slots
    if not 0 <= slot < slots:
        raise validation_error("slot_out_of_range", slot=str(slot), max=str(slots - 1))


async def _async_set_passive_mode(call: ServiceCall) -> None:
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
    power: int = call.data[ATTR_POWER]
    duration: int = call.data[ATTR_DURATION]
    profile = coordinator.profile
    if not profile.accepts_passive:
        raise validation_error("passive_not_supported", model=profile.model)
    _check_power(coordinator, power)
    if not 1 <= duration <= PASSIVE_MAX_DURATION_S:
        raise validation_error(
            "duration_out_of_range", duration=str(duration), max=str(PASSIVE_MAX_DURATION_S)
        )

    await _async_write_passive(coordinator, power, duration)


async def _async_refresh_passive_mode(call: ServiceCall) -> None:
    """Send the last Passive request again, ending when it was going to end.

    Some firmware ignores a first Passive command or drops out of Passive early; this lets an
    automation repeat it without knowing the power and the time left.
    """
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
    passive = coordinator.settings.passive
    left_s = 0 if passive is None else (passive.ends_at - dt_util.utcnow()).total_seconds()
    if passive is None or left_s < 1:
        raise validation_error("no_passive_request")
    _check_power(coordinator, passive.power_w)  # the firmware, and so the limit, may be new
    await _async_write_passive(coordinator, passive.power_w, math.ceil(left_s))


async def _async_write_passive(coordinator: MarstekCoordinator, power: int, duration: int) -> None:
    async def write(device: MarstekDevice) -> None:
        coordinator.remember_settings(passive=await device.set_passive(power, duration))

    await coordinator.async_write(write)


async def _async_write_slot(coordinator: MarstekCoordinator, slot: ManualSlot) -> None:
    async def write(device: MarstekDevice) -> None:
        await device.set_manual_slot(slot)
        coordinator.remember_slot(slot)

    await coordinator.async_write(write)


async def _async_set_manual_schedule(call: ServiceCall) -> None:
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
    slot_number: int = call.data[ATTR_SLOT]
    start: time = call.data[ATTR_START_TIME]
    end: time = call.data[ATTR_END_TIME]
    power: int = call.data[ATTR_POWER]
    days: list[str] = call.data[ATTR_DAYS]
    _check_slot(coordinator, slot_number)
    _check_power(coordinator, power)
    # The device keeps HH:MM; seconds would be silently dropped.
    start, end = start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0)
    if end <= start:
        raise validation_error(
            "end_not_after_start", start=start.strftime("%H:%M"), end=end.strftime("%H:%M")
        )
    if not days:
        raise validation_error("no_days")
    slot = ManualSlot(
        slot=slot_number,
        start=start,
        end=end,
        weekdays=frozenset(WEEKDAYS.index(day) for day in days),
        power_w=power,
        enabled=call.data[ATTR_ENABLED],
    )
    await _async_write_slot(coordinator, slot)


async def _async_clear_manual_schedule(call: ServiceCall) -> None:
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
    slot_number: int = call.data[ATTR_SLOT]
    _check_slot(coordinator, slot_number)
    slot = ManualSlot(
        slot=slot_number,
        start=time(0, 0),
        end=time(0, 0),
        weekdays=frozenset(),
        power_w=0,
        enabled=False,
    )
    await _async_write_slot(coordinator, slot)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the whole integration."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_PASSIVE_MODE, _async_set_passive_mode, SET_PASSIVE_MODE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REFRESH_PASSIVE_MODE,
        _async_refresh_passive_mode,
        REFRESH_PASSIVE_MODE_SCHEMA,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_MANUAL_SCHEDULE, _async_set_manual_schedule, SET_MANUAL_SCHEDULE_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_CLEAR_MANUAL_SCHEDULE,
        _async_clear_manual_schedule,
        CLEAR_MANUAL_SCHEDULE_SCHEMA,
    )
    async_setup_vebus_services(hass)
