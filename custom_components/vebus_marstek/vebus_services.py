"""VE.Bus actions: hold an ESS setpoint for a while, move the remote switch with a limit."""

from __future__ import annotations

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import HomeAssistant, ServiceCall, callback
from homeassistant.helpers import config_validation as cv
import voluptuous as vol

from .const import DOMAIN, DeviceKind
from .helpers import loaded_runtime, validation_error
from .vebus import SwitchMode
from .vebus_controls import ESS_SETPOINT_LIMIT_W, async_set_ess_setpoint
from .vebus_coordinator import VebusCoordinator, VebusRuntimeData

SERVICE_SET_ESS_SETPOINT = "set_ess_setpoint"
SERVICE_SET_SWITCH_MODE = "set_switch_mode"

ATTR_POWER = "power"
ATTR_DURATION = "duration"
ATTR_MODE = "mode"
ATTR_CURRENT_LIMIT = "current_limit"

ESS_MAX_DURATION_S = 86400

# Types only: ranges and names get translated messages below.
SET_ESS_SETPOINT_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_POWER): vol.Coerce(int),
        vol.Optional(ATTR_DURATION): vol.Coerce(int),
    }
)
SET_SWITCH_MODE_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_DEVICE_ID): cv.string,
        vol.Required(ATTR_MODE): cv.string,
        vol.Optional(ATTR_CURRENT_LIMIT): vol.Coerce(float),
    }
)


def _coordinator_for(hass: HomeAssistant, device_id: str) -> VebusCoordinator:
    """The coordinator of the loaded VE.Bus unit behind a device."""
    runtime = loaded_runtime(hass, device_id, DeviceKind.VEBUS)
    assert isinstance(runtime, VebusRuntimeData)  # entries of the VE.Bus kind hold these
    return runtime.coordinator


async def _async_set_ess_setpoint(call: ServiceCall) -> None:
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
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
    coordinator = _coordinator_for(call.hass, call.data[ATTR_DEVICE_ID])
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


@callback
def async_setup_vebus_services(hass: HomeAssistant) -> None:
    """Register the VE.Bus actions (with the Marstek ones, once for the integration)."""
    hass.services.async_register(
        DOMAIN, SERVICE_SET_ESS_SETPOINT, _async_set_ess_setpoint, SET_ESS_SETPOINT_SCHEMA
    )
    hass.services.async_register(
        DOMAIN, SERVICE_SET_SWITCH_MODE, _async_set_switch_mode, SET_SWITCH_MODE_SCHEMA
    )
