"""Finding batteries on the LAN: one-off probes, broadcast scans and the periodic scanner."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from homeassistant.components import network
from homeassistant.config_entries import SOURCE_INTEGRATION_DISCOVERY
from homeassistant.const import CONF_PORT, EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import discovery_flow
from homeassistant.helpers.device_registry import format_mac
from homeassistant.helpers.event import async_call_later, async_track_time_interval

from .const import (
    DISCOVERY_FIRST_SCAN,
    DISCOVERY_INTERVAL,
    DOMAIN,
    LOGGER,
    DeviceKind,
    entry_kind,
)
from .marstek import (
    DEFAULT_PORT,
    DiscoveredDevice,
    MarstekClient,
    MarstekError,
    Pacing,
    discover,
    resolve_profile,
)


@dataclass(frozen=True, kw_only=True)
class ScanTiming:
    """How long a broadcast scan listens; every battery answers every broadcast."""

    duration_s: float = 9.0
    interval_s: float = 2.0
    tail_s: float = 2.0


SCAN_TIMING = ScanTiming()
# Unattended scans ask once: every battery answers every broadcast, on top of its polling.
BACKGROUND_SCAN_TIMING = ScanTiming(duration_s=0.0, interval_s=0.0, tail_s=3.0)
# A probe is one question to one address; a user is waiting for the answer.
PROBE_PACING = Pacing(spacing_s=0.0, quiet_gap_s=0.0, timeout_s=2.0, read_attempts=2, backoff_s=0.5)


@dataclass(frozen=True, kw_only=True)
class FoundBattery:
    """A battery that answered Marstek.GetDevice."""

    host: str
    port: int
    ble_mac: str
    device: str
    firmware: int | None

    @property
    def unique_id(self) -> str:
        """The config entry unique id: the BLE MAC (the Wi-Fi MAC can be the AP's)."""
        return format_mac(self.ble_mac)

    @property
    def title(self) -> str:
        """Model plus the end of the MAC, to tell several batteries apart."""
        return f"{resolve_profile(self.device, self.firmware).model} {self.ble_mac[-4:]}"

    @classmethod
    def from_discovery(cls, found: DiscoveredDevice) -> FoundBattery:
        """From a broadcast answer."""
        return cls(
            host=found.ip,
            port=found.port,
            ble_mac=found.ble_mac,
            device=found.device,
            firmware=found.firmware,
        )


async def async_probe(host: str, port: int) -> FoundBattery:
    """Ask one address who it is; raises MarstekError (or OSError) when nobody usable answers."""
    device = MarstekClient(host, port, pacing=PROBE_PACING)
    await device.connect()
    try:
        identity = await device.read_identity()
    finally:
        await device.close()
    if identity.ble_mac is None:
        raise MarstekError(f"{host}:{port} answered without a BLE MAC")
    return FoundBattery(
        host=host,
        port=port,
        ble_mac=identity.ble_mac,
        device=identity.device,
        firmware=identity.firmware,
    )


async def async_broadcast_targets(hass: HomeAssistant) -> list[str]:
    """Where to send discovery broadcasts: every enabled IPv4 network's broadcast address."""
    return sorted(
        str(address) for address in await network.async_get_ipv4_broadcast_addresses(hass)
    )


async def async_scan(
    hass: HomeAssistant, port: int, timing: ScanTiming | None = None
) -> list[FoundBattery]:
    """Broadcast GetDevice on one API port and collect the answers."""
    timing = timing or SCAN_TIMING
    found = await discover(
        port,
        targets=await async_broadcast_targets(hass),
        duration_s=timing.duration_s,
        interval_s=timing.interval_s,
        tail_s=timing.tail_s,
    )
    return [FoundBattery.from_discovery(device) for device in found]


def scan_ports(hass: HomeAssistant) -> list[int]:
    """The default API port plus every port a configured battery uses."""
    ports = {DEFAULT_PORT}
    ports.update(
        entry.data[CONF_PORT]
        for entry in hass.config_entries.async_entries(DOMAIN)
        if entry_kind(entry) is DeviceKind.MARSTEK
    )
    return sorted(ports)


async def async_discover_and_report(hass: HomeAssistant) -> None:
    """Scan every port in use and hand each battery to the config flow.

    The flow offers new batteries to the user and updates the address of known ones.
    """
    for port in scan_ports(hass):
        try:
            found = await async_scan(hass, port, BACKGROUND_SCAN_TIMING)
        except (MarstekError, OSError) as err:
            LOGGER.debug("Discovery on port %s failed: %s", port, err)
            continue
        for battery in found:
            discovery_flow.async_create_flow(
                hass,
                DOMAIN,
                context={"source": SOURCE_INTEGRATION_DISCOVERY},
                data=asdict(battery),
            )


@callback
def async_start_background_discovery(hass: HomeAssistant) -> None:
    """First scan a minute after start (not to crowd the startup), then every 10 minutes."""

    @callback
    def _async_scan(_now: datetime) -> None:
        # A background task: Home Assistant cancels it at shutdown instead of waiting.
        hass.async_create_background_task(
            async_discover_and_report(hass), name=f"{DOMAIN} discovery scan", eager_start=True
        )

    async_track_time_interval(
        hass, _async_scan, DISCOVERY_INTERVAL, name=f"{DOMAIN} discovery", cancel_on_shutdown=True
    )
    cancel_first = async_call_later(hass, DISCOVERY_FIRST_SCAN, _async_scan)

    @callback
    def _cancel_first(_event: Event) -> None:
        cancel_first()

    hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, _cancel_first)
