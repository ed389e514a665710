"""Diagnostics: what the battery reported, how the link behaves, with identifiers removed."""

from __future__ import annotations

from dataclasses import asdict

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.core import HomeAssistant

from .coordinator import MarstekConfigEntry

TO_REDACT = {
    "ble_mac",
    "wifi_mac",
    "ssid",
    "src",
    "unique_id",
    "identifiers",
    "connections",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MarstekConfigEntry
) -> dict[str, object]:
    """Everything useful for a bug report about one battery."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    device = runtime.device
    endpoint = device.endpoint
    data = coordinator.data
    return async_redact_data(
        {
            "entry": {
                "title": entry.title,
                "unique_id": entry.unique_id,
                "data": dict(entry.data),
                "options": dict(entry.options),
            },
            "identity": asdict(coordinator.identity),
            "profile": asdict(coordinator.profile),
            "data": asdict(data) if data is not None else None,
            "written_settings": asdict(coordinator.settings),
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
        },
        TO_REDACT,
    )
