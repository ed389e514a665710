"""A simulated MK3 + MultiPlus on loopback TCP, and a client connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from custom_components.vebus_marstek.vebus import VebusClient
from simulators.vebus import VebusSimulator

type SimulatorFactory = Callable[..., Any]


@pytest.fixture
async def start_vebus() -> AsyncIterator[SimulatorFactory]:
    """Start simulators (unpaced unless asked); each returns (simulator, url)."""
    running: list[VebusSimulator] = []

    async def start(**options: Any) -> tuple[VebusSimulator, str]:
        options.setdefault("pace", False)
        sim = VebusSimulator(**options)
        running.append(sim)
        return sim, await sim.start_tcp()

    yield start
    for sim in running:
        await sim.stop()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[..., Any]]:
    """Clients with short timeouts; closed after the test."""
    clients: list[VebusClient] = []

    def make(url: str, **options: Any) -> VebusClient:
        options.setdefault("timeout_s", 0.3)
        options.setdefault("slow_timeout_s", 0.5)
        client = VebusClient(url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()
