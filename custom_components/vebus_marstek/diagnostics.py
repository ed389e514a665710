"""Diagnostics: what the device reported, how the link behaves, with identifiers removed."""

from __future__ import annotations

from dataclasses import asdict

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_DEVICE
from homeassistant.core import HomeAssistant

from .coordinator import MarstekCoordinator, VebusCoordinator, VebusMarstekConfigEntry
from .site_control import SiteControl
from .site_coordinator import SiteCoordinator
from .vebus import status_report

_REDACT_ALWAYS = {"unique_id", "identifiers", "connections"}
MARSTEK_REDACT = _REDACT_ALWAYS | {"ble_mac", "wifi_mac", "ssid", "src"}
# The title and the by-id path carry the unit's or the interface's serial number.
VEBUS_REDACT = _REDACT_ALWAYS | {CONF_DEVICE, "serial_number", "title", "url"}
# Members are named by their entries' titles, which may hold a unit's serial number.
SITE_REDACT = _REDACT_ALWAYS | {"title"}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: VebusMarstekConfigEntry
) -> dict[str, object]:
    """Everything useful for a bug report about one device."""
    summary: dict[str, object] = {
        "entry": {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": dict(entry.data),
            "options": dict(entry.options),
        }
    }
    coordinator = entry.runtime_data
    if isinstance(coordinator, VebusCoordinator):
        return async_redact_data(summary | _vebus(coordinator), VEBUS_REDACT)
    if isinstance(coordinator, MarstekCoordinator):
        return async_redact_data(summary | _marstek(coordinator), MARSTEK_REDACT)
    return async_redact_data(summary | _site(coordinator), SITE_REDACT)


def _marstek(coordinator: MarstekCoordinator) -> dict[str, object]:
    device = coordinator.client
    endpoint = device.endpoint
    data = coordinator.data
    return {
        "identity": asdict(coordinator.identity),
        "profile": asdict(coordinator.profile),
        "data": asdict(data) if data is not None else None,
        "written_settings": coordinator.settings.as_dict(),
        "failed_cycles": coordinator.failed_cycles,
        "unsupported_methods": sorted(device.unsupported),
        "method_stats": {
            method: {
                "requests": stats.requests,
                "replies": stats.replies,
                "timeouts": stats.timeouts,
                "errors": stats.errors,
                "busy": stats.busy,
                "last_latency_s": stats.last_latency_s,
                "average_latency_s": stats.average_latency_s,
                "last_error": stats.last_error,
            }
            for method, stats in sorted(device.stats.items())
        },
        "endpoint_counters": dict(endpoint.counters) if endpoint is not None else None,
    }


def _vebus(coordinator: VebusCoordinator) -> dict[str, object]:
    client = coordinator.client
    data = coordinator.data
    return {
        "unit": asdict(coordinator.unit),
        # The unit's own scaling: a wrong value on screen usually starts here.
        "ram_var_info": {str(var): asdict(info) for var, info in sorted(client.ram_info.items())},
        "setting_info": {
            str(setting): asdict(info) for setting, info in sorted(client.setting_info.items())
        },
        "reads": sorted(f"{read.kind}:{read.number}" for read in coordinator.wanted_reads()),
        "asleep": data.asleep,
        "status": status_report(coordinator.unit, data.status),
        "energy": dict(data.energy),
        "ess_target": client.ess_target,
        "standby": client.standby_wanted,
        "link_counters": asdict(client.connection.counters),
        "parser_counters": asdict(client.connection.parser.counters),
        "reinitialisations": client.reinitialisations,
    }


def _site(coordinator: SiteCoordinator) -> dict[str, object]:
    data = coordinator.data
    summary = data.summary
    return {
        "members": [
            {
                "entry_id": reading.member.member_id,
                "kind": kind,
                "loaded": coordinator.member_coordinator(reading.member.member_id) is not None,
                "member": asdict(reading.member),
                "charge_wh": reading.charge_wh,
                "discharge_wh": reading.discharge_wh,
            }
            for reading, kind in zip(data.members, coordinator.member_kinds(), strict=True)
        ],
        # Which members each value was computed from: the others did not answer or report it.
        "energy_from": list(summary.energy_members),
        "power_from": list(summary.power_members),
        "summary": asdict(summary),
        "grid_power_w": data.grid_power_w,
        "totals": coordinator.totals.as_dict(),
        "control": _site_control(coordinator.control),
    }


def _site_control(control: SiteControl) -> dict[str, object]:
    """What the site drives and every write it made (the last ones in full)."""
    return {
        "mode": str(control.mode),
        "stopped_because": control.stopped_because,
        "setpoint_w": control.setpoint_w,
        "grid_target_w": control.grid_target_w,
        "last_request_w": control.last_request_w,
        "meter_period_s": control.controller.meter_period_s,
        "driven": list(control.driven),
        "writes": [asdict(record) for record in control.log.records],
        "write_counts": [
            {"member": member, "reason": str(reason), "result": str(result), "count": count}
            for (member, reason, result), count in sorted(control.log.counts.items())
        ],
    }
