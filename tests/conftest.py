"""Shared fixtures: a simulated battery or VE.Bus unit on loopback, and entries for them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Generator
from pathlib import Path
import socket
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import (
    CONF_DEVICE,
    CONF_HOST,
    CONF_PORT,
    Platform,
    __version__ as HA_VERSION,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.device_registry import format_mac
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, snapshot_platform
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

# Imported before Home Assistant looks for custom integrations, so that this repository's
# package is the one it finds (the harness ships its own custom_components package).
import custom_components.vebus_marstek  # noqa: F401
from custom_components.vebus_marstek import marstek_discovery
from custom_components.vebus_marstek.const import (
    CONF_BACKOFF,
    CONF_DEVICE_KIND,
    CONF_QUIET_GAP,
    CONF_READ_ATTEMPTS,
    CONF_REQUEST_SPACING,
    CONF_REQUEST_TIMEOUT,
    CONF_WRITE_ATTEMPTS,
    CONF_WRITE_TIMEOUT,
    DOMAIN,
    PLATFORMS,
)
from custom_components.vebus_marstek.coordinator import MarstekCoordinator, VebusCoordinator
from custom_components.vebus_marstek.marstek import Pacing
from e2e.ports import free_udp_port
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator
from tests.registry import our_device

SIM_HOST = "127.0.0.2"
SIM_MAC = "5037cd7f1ec6"
SECOND_HOST = "127.0.0.3"
SECOND_MAC = "682499eefdd7"

# Pacing that keeps tests quick: no spacing, short timeouts, few retries.
FAST_OPTIONS: dict[str, float] = {
    CONF_REQUEST_SPACING: 0.0,
    CONF_QUIET_GAP: 0.0,
    CONF_REQUEST_TIMEOUT: 0.15,
    CONF_WRITE_TIMEOUT: 0.2,
    CONF_READ_ATTEMPTS: 1,
    CONF_WRITE_ATTEMPTS: 2,
    CONF_BACKOFF: 0.01,
}


@pytest.fixture(autouse=True)
def broadcasts_stay_on_this_machine() -> Generator[None]:
    """No test may broadcast to a real network: discovery scans go to an unused loopback
    address unless a test points them at its simulators."""
    with patch.object(
        marstek_discovery, "async_broadcast_targets", AsyncMock(return_value=["127.0.0.250"])
    ):
        yield


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(request: pytest.FixtureRequest) -> None:
    """Let Home Assistant load the integration under test (integration tests only).

    The client, energy and simulator tests in sub-packages run without Home Assistant.
    """
    if request.path.parent == Path(__file__).parent:
        request.getfixturevalue("enable_custom_integrations")


@pytest.fixture(autouse=True)
def no_deprecated_api(caplog: pytest.LogCaptureFixture) -> Generator[None]:
    """Fail a test during which Home Assistant reported this integration using deprecated API.

    For a custom integration Home Assistant only logs such a report ("Detected that custom
    integration 'vebus_marstek' accesses ..., which is deprecated"), months before it breaks.
    """
    yield
    reports = [
        record.getMessage()
        for record in caplog.get_records("call")
        if "custom integration 'vebus_marstek'" in record.getMessage()
        and "deprecated" in record.getMessage()
    ]
    assert not reports, "\n".join(reports)


@pytest.fixture
def invalid_names_do_not_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .invalid (reserved, RFC 2606) fail to resolve as a resolver says so.

    Home Assistant's test plugin (from 2026.3) refuses every lookup but localhost before it
    reaches the resolver, with an error no real resolver raises.
    """
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


class PerReleaseSnapshots(HomeAssistantSnapshotExtension):
    """Snapshots in tests/snapshots/ha-<release line>/: each release serialises registry entries
    and states its own way (fields come and go), while the values must be the same in all."""

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        line = ".".join(HA_VERSION.split(".")[:2])
        return str(Path(super().dirname(test_location=test_location)) / f"ha-{line}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Home Assistant's snapshot serialiser, files per release line under tests/snapshots."""
    return snapshot.use_extension(PerReleaseSnapshots)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
    ):
        yield


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Flow tests stop at the entry; setting it up is tested elsewhere."""
    with patch(
        "custom_components.vebus_marstek.async_setup_entry", return_value=True
    ) as mock_setup:
        yield mock_setup


@pytest.fixture
def fast_probes() -> Generator[None]:
    """Config-flow probes and scans that give up and finish quickly."""
    with (
        patch.object(
            marstek_discovery,
            "PROBE_PACING",
            Pacing(spacing_s=0, quiet_gap_s=0, timeout_s=0.15, read_attempts=1, backoff_s=0.01),
        ),
        patch.object(
            marstek_discovery,
            "SCAN_TIMING",
            marstek_discovery.ScanTiming(duration_s=0.2, interval_s=0.1, tail_s=0.2),
        ),
        patch.object(
            marstek_discovery,
            "BACKGROUND_SCAN_TIMING",
            marstek_discovery.ScanTiming(duration_s=0.0, interval_s=0.0, tail_s=0.2),
        ),
    ):
        yield


class FakeClock:
    """The coordinator's monotonic clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Generator[FakeClock]:
    """Energy integration and tier scheduling on a clock the test controls."""
    fake = FakeClock()
    with patch("custom_components.vebus_marstek.coordinator.monotonic", fake):
        yield fake


@pytest.fixture
def port(socket_enabled: None) -> int:
    """The Open API port of this test's batteries."""
    return free_udp_port()


@pytest.fixture
def profile() -> str:
    """The simulated model; override with parametrize."""
    return "venus-e3"


def make_simulator(profile: str, host: str, port: int, ble_mac: str) -> MarstekSimulator:
    """A battery whose clock stands still, so values do not drift during a test."""
    sim = MarstekSimulator(
        profile=profile, host=host, port=port, ble_mac=ble_mac, seed=1, clock=lambda: 0.0
    )
    sim.state.soc = 57.0
    sim.state.house_load_w = 300.0
    sim.state.grid_input_wh = 123_450.0
    sim.state.grid_output_wh = 98_760.0
    sim.state.pv_energy_wh = 45_600.0
    sim.state.load_energy_wh = 1_200.0
    if sim.profile.pv_channels:
        sim.set_ground_truth(pv_w=[200.0, 150.0, 0.0, 50.0])
    return sim


@pytest.fixture
async def simulator(port: int, profile: str) -> AsyncIterator[MarstekSimulator]:
    """One simulated battery at 127.0.0.2."""
    async with make_simulator(profile, SIM_HOST, port, SIM_MAC) as sim:
        yield sim


def make_entry(port: int, *, host: str = SIM_HOST, ble_mac: str = SIM_MAC) -> MockConfigEntry:
    """A configured battery with fast test pacing."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Venus E 3.0 {ble_mac[-4:]}",
        unique_id=format_mac(ble_mac),
        data={CONF_HOST: host, CONF_PORT: port, CONF_DEVICE_KIND: "marstek"},
        options=dict(FAST_OPTIONS),
        entry_id="01JTESTMARSTEKENTRY0000000",
    )


@pytest.fixture
def mock_config_entry(port: int) -> MockConfigEntry:
    """The entry for the simulated battery."""
    return make_entry(port)


@pytest.fixture
def platforms() -> list[Platform]:
    """The platforms to set up; snapshot tests take one at a time."""
    return list(PLATFORMS)


@pytest.fixture
async def init_integration(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    simulator: MarstekSimulator,
    platforms: list[Platform],
) -> AsyncIterator[MockConfigEntry]:
    """The integration set up against the simulator."""
    mock_config_entry.add_to_hass(hass)
    with patch("custom_components.vebus_marstek.PLATFORMS", platforms):
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
        yield mock_config_entry


async def refresh(entry: MockConfigEntry, cycles: int = 1) -> MarstekCoordinator:
    """Run polling cycles now instead of waiting for the interval."""
    coordinator: MarstekCoordinator = entry.runtime_data
    for _ in range(cycles):
        await coordinator.async_refresh()
    return coordinator


async def refresh_all_tiers(hass: HomeAssistant, entry: MockConfigEntry) -> MarstekCoordinator:
    """Enough cycles for every lower-tier request to have been answered once."""
    coordinator = await refresh(entry, 3)
    await hass.async_block_till_done()
    return coordinator


@pytest.fixture
def marstek_device_id(hass: HomeAssistant, init_integration: MockConfigEntry) -> str:
    """The registry id of the simulated battery."""
    return our_device(hass, "50:37:cd:7f:1e:c6").id


# --- VE.Bus ---------------------------------------------------------------------------------

VEBUS_SERIAL = "HQ2132ABCDE"
VEBUS_ENTRY_ID = "01JTESTVEBUSENTRY000000000"
# Short timeouts: a silent simulator should not slow the tests down.
VEBUS_FAST_OPTIONS: dict[str, float] = {CONF_REQUEST_TIMEOUT: 0.2, CONF_READ_ATTEMPTS: 2}


@pytest.fixture
def vebus_model() -> str:
    """The simulated unit; override with parametrize."""
    return "multiplus-ii-48-3000"


@pytest.fixture
def vebus_options() -> dict[str, object]:
    """Extra simulator arguments (phases, ess, battery_monitor); override with parametrize."""
    return {}


def make_vebus_simulator(model: str, **options: object) -> VebusSimulator:
    """A unit whose clock stands still, so values do not drift during a test."""
    return VebusSimulator(
        model=model,
        pace=False,
        latency_s=0.0,
        f5_latency_s=0.01,
        av_latency_s=0.0,
        clock=lambda: 1000.0,
        **options,
    )


@pytest.fixture
async def vebus_simulator(
    socket_enabled: None, vebus_model: str, vebus_options: dict[str, object]
) -> AsyncIterator[VebusSimulator]:
    """One simulated MK3 with a unit behind it, reachable like ser2net."""
    sim = make_vebus_simulator(vebus_model, **vebus_options)
    await sim.start_tcp()
    yield sim
    await sim.stop()


def make_vebus_entry(
    url: str, *, unique_id: str = VEBUS_SERIAL, options: dict[str, object] | None = None
) -> MockConfigEntry:
    """A configured VE.Bus unit with fast test timeouts."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Victron VE.Bus {unique_id[-4:]}",
        unique_id=unique_id,
        data={CONF_DEVICE: url, CONF_DEVICE_KIND: "vebus"},
        options={**VEBUS_FAST_OPTIONS, **(options or {})},
        entry_id=VEBUS_ENTRY_ID,
    )


@pytest.fixture
def vebus_entry(vebus_simulator: VebusSimulator) -> MockConfigEntry:
    """The entry for the simulated unit."""
    assert vebus_simulator.url is not None
    return make_vebus_entry(vebus_simulator.url)


@pytest.fixture
async def init_vebus(
    hass: HomeAssistant, vebus_entry: MockConfigEntry, platforms: list[Platform]
) -> AsyncIterator[MockConfigEntry]:
    """The integration set up against the simulated unit; unloaded again afterwards."""
    vebus_entry.add_to_hass(hass)
    with patch("custom_components.vebus_marstek.PLATFORMS", platforms):
        await hass.config_entries.async_setup(vebus_entry.entry_id)
        await hass.async_block_till_done()
        yield vebus_entry
        if vebus_entry.state is ConfigEntryState.LOADED:
            # Releases a held ESS setpoint and stops its keep-alive before the loop ends.
            await hass.config_entries.async_unload(vebus_entry.entry_id)


async def vebus_refresh(entry: MockConfigEntry, cycles: int = 1) -> VebusCoordinator:
    """Run full VE.Bus polling cycles (both tiers) now instead of waiting for the interval."""
    coordinator: VebusCoordinator = entry.runtime_data
    for _ in range(cycles):
        await coordinator.async_refresh_everything()
    return coordinator


@pytest.fixture
def vebus_device_id(hass: HomeAssistant, init_vebus: MockConfigEntry) -> str:
    """The registry id of the simulated unit."""
    return our_device(hass, VEBUS_SERIAL).id


# --- Entity snapshots, one platform at a time -----------------------------------------------

type SnapshotEntities = Callable[[], Awaitable[None]]

# Whose entities are snapshotted, platform by platform. Marstek: a battery with system settings
# and the Venus E 2.0 without (tests/test_sensor.py adds the Venus A with its PV inputs).
MARSTEK_MODELS = pytest.mark.parametrize("profile", ["venus-e3", "venus-e2"])
# VE.Bus sensors and alarms: an ESS MultiPlus-II, a 12 V unit without battery monitor and a
# three-phase system.
VEBUS_UNITS = pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [
        ("multiplus-ii-48-3000", {}),
        ("multiplus-12-500", {"battery_monitor": False}),
        ("multiplus-24-3000", {"phases": 3, "ess": True}),
    ],
    ids=["multiplus-ii-ess", "12v-no-monitor", "three-phase"],
)
# VE.Bus select, numbers and switch: a unit with the ESS assistant and one without.
VEBUS_CONTROL_UNITS = pytest.mark.parametrize(
    ("vebus_model", "vebus_options"),
    [("multiplus-ii-48-3000", {}), ("multiplus-12-500", {"battery_monitor": False})],
    ids=["multiplus-ii-ess", "12v-no-monitor"],
)


@pytest.fixture
def snapshot_marstek_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_integration: MockConfigEntry,
    platforms: list[Platform],
    profile: str,
) -> SnapshotEntities:
    """Snapshot the battery's entities of the platform set up.

    Venus E 2.0 has no system settings: no number or switches there.
    """

    async def snapshot_entities() -> None:
        await refresh_all_tiers(hass, init_integration)
        entries = er.async_entries_for_config_entry(entity_registry, init_integration.entry_id)
        if not entries:
            assert profile == "venus-e2"
            assert platforms in ([Platform.NUMBER], [Platform.SWITCH])
            return
        await snapshot_platform(hass, entity_registry, snapshot, init_integration.entry_id)

    return snapshot_entities


@pytest.fixture
def snapshot_vebus_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    snapshot: SnapshotAssertion,
    init_vebus: MockConfigEntry,
    vebus_simulator: VebusSimulator,
) -> SnapshotEntities:
    """Snapshot the unit's entities of the platform set up; all belong to the unit's one
    device, and setting them up sent the unit nothing dangerous."""

    async def snapshot_entities() -> None:
        await snapshot_platform(hass, entity_registry, snapshot, init_vebus.entry_id)
        device = our_device(hass, VEBUS_SERIAL)
        for entity in er.async_entries_for_config_entry(entity_registry, init_vebus.entry_id):
            assert entity.device_id == device.id
        assert vebus_simulator.dangerous == []

    return snapshot_entities


@pytest.fixture
def snapshot_vebus_controls(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    init_vebus: MockConfigEntry,
) -> SnapshotEntities:
    """Snapshot the unit's entities of the platform set up (a select, numbers or a switch)."""

    async def snapshot_entities() -> None:
        await snapshot_platform(hass, entity_registry, snapshot, init_vebus.entry_id)

    return snapshot_entities
