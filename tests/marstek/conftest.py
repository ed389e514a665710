"""Fixtures for talking to simulated batteries over real UDP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from custom_components.vebus_marstek.marstek import MarstekClient, Pacing
from e2e.ports import free_udp_port
from simulators.marstek import MarstekSimulator

# Fast enough for tests, with the same retry structure as in production.
TEST_PACING = Pacing(
    spacing_s=0.0,
    quiet_gap_s=0.0,
    timeout_s=0.25,
    write_timeout_s=0.3,
    read_attempts=3,
    write_attempts=3,
    backoff_s=0.01,
)


@pytest.fixture
def api_port() -> int:
    return free_udp_port()


type SimulatorFactory = Callable[..., MarstekSimulator]


@pytest.fixture
async def start_simulator(api_port: int) -> AsyncIterator[Callable[..., object]]:
    """Start simulated batteries on 127.0.0.2, .3, ... of the test's API port."""
    running: list[MarstekSimulator] = []

    async def start(
        profile: str = "venus-e3", host: str = "127.0.0.2", **kwargs: object
    ) -> MarstekSimulator:
        sim = MarstekSimulator(
            profile=profile, host=host, port=api_port, clock=lambda: 0.0, **kwargs
        )  # type: ignore[arg-type]
        await sim.start()
        running.append(sim)
        return sim

    yield start
    for sim in running:
        await sim.stop()


@pytest.fixture
async def connect(api_port: int) -> AsyncIterator[Callable[..., object]]:
    """Connect clients to simulated batteries; all are closed after the test."""
    devices: list[MarstekClient] = []

    async def connect(host: str = "127.0.0.2", pacing: Pacing = TEST_PACING) -> MarstekClient:
        device = MarstekClient(host, api_port, pacing=pacing)
        await device.connect()
        devices.append(device)
        return device

    yield connect
    for device in devices:
        await device.close()
