"""One real Home Assistant process and the simulated devices, shared by every end-to-end test.

Starting hass, onboarding and adding the devices takes most of a minute, so it happens once for
this package, and everything stops when its last test is done (before the rest of the suite
runs). Tests that disturb it (a restart, a device outage) leave it as they found it. Ports are
random free ones, never the defaults other tests (or a running demo) use.

The tests are synchronous: Home Assistant's pytest plugin owns the test event loop and checks
it after each test, so the simulators and the HTTP client live on a loop in a thread instead.
These tests do not use the plugin's ``hass`` fixture; they need real sockets on loopback.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_socket

from e2e.client import HassClient
from e2e.entities import Device, devices, values_of
from e2e.flows import set_options
from e2e.lab import Lab
from e2e.loop_thread import LoopThread
from e2e.ports import free_udp_port
from e2e.waiting import Check, eventually
from simulators.marstek import MarstekSimulator
from simulators.vebus import VebusSimulator

from .expect import battery_matches
from .hass_log import LogPosition, errors_since

E2E_DIR = Path(__file__).parent

# Short cycles so that "within one polling cycle" is seconds (the options flow's minimums).
FAST_INTERVAL_S = 10
VEBUS_FAST_S = 1
VEBUS_POLL_S = 2
MARSTEK_OPTIONS = {
    "fast_interval": FAST_INTERVAL_S,
    "medium_interval": FAST_INTERVAL_S,
    "slow_interval": 60,
    "request_spacing": 0.5,
}
VEBUS_OPTIONS = {
    "fast_interval": VEBUS_FAST_S,
    "poll_interval": VEBUS_POLL_S,
    "standby": False,
    "persist_settings": False,
}
# A cycle's own requests and scheduling on a busy two-core machine, on top of its interval.
CYCLE_SLACK_S = 8.0
MARSTEK_CYCLE_S = FAST_INTERVAL_S + CYCLE_SLACK_S
VEBUS_CYCLE_S = VEBUS_POLL_S + CYCLE_SLACK_S
# Every value, the slow tier included, after a (re)start.
ALL_VALUES_S = 120.0
# Per test, set-up included: the first test also starts hass and adds the devices.
E2E_TIMEOUT_S = 420

type Run = Callable[[Coroutine[Any, Any, Any]], Any]

_FIGURES: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hass_errors_expected: the test makes the integration log errors on purpose"
    )
    config.addinivalue_line(
        "markers", "e2e: runs a real hass process (skip them with: scripts/test -m 'not e2e')"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Real sockets and a longer time limit for every end-to-end test, and the e2e mark."""
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.enable_socket)
            if item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The measured figures at the end of the test log, where CI shows them."""
    if _FIGURES:
        terminalreporter.section("end-to-end figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report_figure() -> Callable[[str], None]:
    """Print a measured figure now and again in the summary at the end of the run."""

    def report(line: str) -> None:
        print(line)
        _FIGURES.append(line)

    return report


@dataclass(frozen=True, slots=True)
class Battery:
    sim: MarstekSimulator
    device: Device

    def shows_truth(self, client: HassClient) -> Check:
        """A check that all of the battery's entities show its ground truth."""
        return battery_matches(client, self.device, self.sim)


@dataclass(frozen=True, slots=True)
class Setup:
    """The devices as Home Assistant registered them, next to their simulators."""

    lab: Lab
    batteries: list[Battery]
    multiplus: VebusSimulator
    multiplus_device: Device

    @property
    def client(self) -> HassClient:
        return self.lab.client

    @property
    def devices(self) -> list[Device]:
        return [battery.device for battery in self.batteries] + [self.multiplus_device]

    @property
    def entity_ids(self) -> set[str]:
        return {entity for device in self.devices for entity in device.entities.values()}


@pytest.fixture(scope="package")
def loop() -> Iterator[LoopThread]:
    thread = LoopThread()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture(scope="package")
def run(loop: LoopThread) -> Run:
    """Run a coroutine on the simulators' loop and return its result.

    Checks that read a simulator's truth run there too, never racing its requests.
    """
    return loop.run


@pytest.fixture(scope="package")
def setup(loop: LoopThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    """Simulators, hass, the demo user and three devices with short polling, all with values."""
    # Session fixtures are made before the per-test socket_enabled fixture could act.
    pytest_socket.enable_socket()
    # A random API port, never the default 30000: unit tests after this package use that one.
    lab = loop.run(Lab.create(tmp_path_factory.mktemp("hass"), marstek_port=free_udp_port()))
    try:
        yield loop.run(_set_up(lab))
    finally:
        loop.run(lab.close())


async def _set_up(lab: Lab) -> Setup:
    await lab.devices.start()
    await lab.start_hass()
    *battery_entries, vebus_entry = await lab.set_up()
    for entry in battery_entries:
        await set_options(lab.client, entry["entry_id"], MARSTEK_OPTIONS)
    await set_options(lab.client, vebus_entry["entry_id"], VEBUS_OPTIONS)
    found = await devices(lab.client)
    result = Setup(
        lab=lab,
        batteries=[
            Battery(sim, found[entry["entry_id"]])
            for sim, entry in zip(lab.devices.batteries, battery_entries, strict=True)
        ],
        multiplus=lab.devices.multiplus,
        multiplus_device=found[vebus_entry["entry_id"]],
    )
    await eventually(values_of(lab.client, result.entity_ids), ALL_VALUES_S)
    return result


@pytest.fixture(autouse=True)
def _real_sockets(socket_enabled: None) -> None:
    """Home Assistant's plugin blocks sockets; these tests talk to hass over loopback."""


@pytest.fixture(autouse=True)
def _no_integration_errors_in_hass_log(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail an end-to-end test during which the integration logged an error or a traceback."""
    if "setup" not in request.fixturenames:
        yield
        return
    setup: Setup = request.getfixturevalue("setup")
    start = LogPosition.now(setup.lab.hass.log_path)
    yield
    if request.node.get_closest_marker("hass_errors_expected"):
        return
    errors = errors_since(start)
    assert not errors, "the integration logged errors:\n" + "\n".join(errors)
