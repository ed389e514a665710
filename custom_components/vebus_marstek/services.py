"""Actions of both device families that need more than one value.

Marstek: Passive mode and Manual schedules. VE.Bus: hold an ESS setpoint for a while, move the
remote switch together with a current limit. Schemas check types only: the allowed ranges
depend on the device, and break the rules with translated messages.
"""

from __future__ import annotations

from datetime import time
import math

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
from homeassistant.util import dt as dt_util
import voluptuous as vol

from .const import DOMAIN
from .coordinator import MarstekCoordinator, VebusCoordinator
from .helpers import loaded_coordinator, validation_error
from .marstek import (
    PASSIVE_MAX_DURATION_S,
    WEEKDAYS,
    ManualSlot,
    MarstekClient,
)
from .number import ESS_SETPOINT_LIMIT_W, async_set_ess_setpoint
from .vebus import SwitchMode

SERVICE_SET_PASSIVE_MODE = "set_passive_mode"
SERVICE_REFRESH_PASSIVE_MODE = "refresh_passive_mode"
SERVICE_SET_MANUAL_SCHEDULE = "set_manual_schedule"
SERVICE_CLEAR_MANUAL_SCHEDULE = "clear_manual_schedule"
SERVICE_SET_ESS_SETPOINT = "set_ess_setpoint"
SERVICE_SET_SWITCH_MODE = "set_switch_mode"

ATTR_POWER = "power"
ATTR_DURATION = "duration"
ATTR_SLOT = "slot"
ATTR_START_TIME = "start_time"
ATTR_END_TIME = "end_time"
ATTR_DAYS = "days"
ATTR_ENABLED = "enabled"
ATTR_MODE = "mode"
ATTR_CURRENT_LIMIT = "current_limit"

DEFAULT_PASSIVE_DURATION_S = 3600
ESS_MAX_DURATION_S = 86400

# Every action acts on one device of this integration.
ONE_DEVICE = vol.Schema({vol.Required(ATTR_DEVICE_ID): cv.string})

SET_PASSIVE_MODE_SCHEMA = ONE_DEVICE.extend(
    {
        vol.Required(ATTR_POWER): vol.Coerce(int),
        vol.Optional(ATTR_DURATION, default=DEFAULT_PASSIVE_DURATION_S): vol.Coerce(int),
    }
)
REFRESH_PASSIVE_MODE_SCHEMA = ONE_DEVICE
SET_MANUAL_SCHEDULE_SCHEMA = ONE_DEVICE.extend(
    {
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
CLEAR_MANUAL_SCHEDULE_SCHEMA = ONE_DEVICE.extend({vol.Required(ATTR_SLOT): vol.Coerce(int)})
SET_ESS_SETPOINT_SCHEMA = ONE_DEVICE.extend(
    {
        vol.Required(ATTR_POWER): vol.Coerce(int),
        vol.Optional(ATTR_DURATION): vol.Coerce(int),
    }
)
SET_SWITCH_MODE_SCHEMA = ONE_DEVICE.extend(
    {
        vol.Required(ATTR_MODE): cv.string,
        vol.Optional(ATTR_CURRENT_LIMIT): vol.Coerce(float),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the whole integration."""
    for service, handler, schema in (
        (SERVICE_SET_PASSIVE_MODE, _async_set_passive_mode, SET_PASSIVE_MODE_SCHEMA),
        (SERVICE_REFRESH_PASSIVE_MODE, _async_refresh_passive_mode, REFRESH_PASSIVE_MODE_SCHEMA),
        (SERVICE_SET_MANUAL_SCHEDULE, _async_set_manual_schedule, SET_MANUAL_SCHEDULE_SCHEMA),
        (
            SERVICE_CLEAR_MANUAL_SCHEDULE,
            _async_clear_manual_schedule,
            CLEAR_MANUAL_SCHEDULE_SCHEMA,
        ),
        (SERVICE_SET_ESS_SETPOINT, _async_set_ess_setpoint, SET_ESS_SETPOINT_SCHEMA),
        (SERVICE_SET_SWITCH_MODE, _async_set_switch_mode, SET_SWITCH_MODE_SCHEMA),
    ):
        hass.services.async_register(DOMAIN, service, handler, schema)


# --- Marstek ---------------------------------------------------------------------------------


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
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], MarstekCoordinator)
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
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], MarstekCoordinator)
    passive = coordinator.settings.passive
    left_s = 0 if passive is None else (passive.ends_at - dt_util.utcnow()).total_seconds()
    if passive is None or left_s < 1:
        raise validation_error("no_passive_request")
    _check_power(coordinator, passive.power_w)  # the firmware, and so the limit, may be new
    await _async_write_passive(coordinator, passive.power_w, math.ceil(left_s))


async def _async_write_passive(coordinator: MarstekCoordinator, power: int, duration: int) -> None:
    async def write(device: MarstekClient) -> None:
        coordinator.remember_settings(passive=await device.set_passive(power, duration))

    await coordinator.async_write(write)


async def _async_write_slot(coordinator: MarstekCoordinator, slot: ManualSlot) -> None:
    async def write(device: MarstekClient) -> None:
        await device.set_manual_slot(slot)
        coordinator.remember_slot(slot)

    await coordinator.async_write(write)


async def _async_set_manual_schedule(call: ServiceCall) -> None:
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], MarstekCoordinator)
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
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], MarstekCoordinator)
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


# --- VE.Bus ----------------------------------------------------------------------------------


async def _async_set_ess_setpoint(call: ServiceCall) -> None:
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], VebusCoordinator)
    power: int = call.data[ATTR_POWER]
    duration: int | None = call.data.get(ATTR_DURATION)
    if coordinator.unit.ess_setpoint_id is None:
        raise validation_error("ess_not_installed", name=coordinator.config_entry.title)
    if abs(power) > ESS_SETPOINT_LIMIT_W:
        raise validation_error(
            "setpoint_out_of_range",
            power=str(power),
            min=str(-ESS_SETPOINT_LIMIT_W),
            max=str(ESS_SETPOINT_LIMIT_W),
        )
    if duration is not None and not 1 <= duration <= ESS_MAX_DURATION_S:
        raise validation_error(
            "duration_out_of_range", duration=str(duration), max=str(ESS_MAX_DURATION_S)
        )
    await async_set_ess_setpoint(coordinator, power, duration)


async def _async_set_switch_mode(call: ServiceCall) -> None:
    coordinator = loaded_coordinator(call.hass, call.data[ATTR_DEVICE_ID], VebusCoordinator)
    name: str = call.data[ATTR_MODE]
    limit: float | None = call.data.get(ATTR_CURRENT_LIMIT)
    try:
        mode = SwitchMode(name)
    except ValueError:
        raise validation_error(
            "invalid_switch_mode", mode=name, options=", ".join(SwitchMode)
        ) from None
    config = coordinator.data.status.input_config
    # The client checks too (after reading the limits); this answers without a request.
    if limit is not None and config is not None and not config.minimum <= limit <= config.maximum:
        raise validation_error(
            "current_limit_out_of_range",
            limit=str(limit),
            min=str(config.minimum),
            max=str(config.maximum),
        )
    # Without a limit the unit keeps the present one.
    await coordinator.async_write(lambda client: client.set_switch_mode(mode, limit))
